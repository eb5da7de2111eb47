/**
 * The order in which the test images are streamed. A run is repeatable from (seed, startIndex):
 * seed 0 streams the test set in file order, any other seed a fixed permutation of it.
 */

/** mulberry32: a tiny, well-distributed 32-bit PRNG; deterministic across JS engines. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function imageOrder(count: number, seed: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (seed === 0) return order;
  const random = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** Hands out image indices in a fixed order, wrapping around the test set. */
export class ImageCursor {
  private readonly order: Uint32Array;
  private position: number;

  constructor(count: number, seed: number, startIndex: number) {
    if (count < 1) throw new RangeError('the test set is empty');
    this.order = imageOrder(count, seed);
    this.position = ((startIndex % count) + count) % count;
  }

  next(n: number): number[] {
    const indices: number[] = [];
    for (let i = 0; i < n; i++) {
      indices.push(this.order[this.position]!);
      this.position = (this.position + 1) % this.order.length;
    }
    return indices;
  }

  /** Position in the order of the next image to hand out. */
  get offset(): number {
    return this.position;
  }
}
