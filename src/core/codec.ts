/**
 * Bottleneck codec shared by the browser (encode) and the tail server (decode).
 *
 * Quantization convention (also written into every manifest):
 *   L = 2^b - 1
 *   q = clamp(floor(float32(float32(clamp(x, 0, 1) * L) + 0.5)), 0, L)
 *   x̂ = float32(q / L)
 * The arithmetic is rounded to float32 at each step so that the PyTorch training code, which
 * computes in float32, produces exactly the same codes as this module.
 *
 * Bit packing is MSB-first with no wasted bits: n codes of b bits take ceil(n*b/8) bytes and the
 * unused low bits of the last byte are zero.
 */

export const MIN_BITS = 1;
export const MAX_BITS = 8;

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export function assertBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new CodecError(`bits must be an integer from ${MIN_BITS} to ${MAX_BITS}, got ${bits}`);
  }
}

export function packedLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

const fround = Math.fround;

/** Quantize values in [0,1] (clamped; NaN becomes 0) to integer codes of `bits` bits. */
export function quantize(values: ArrayLike<number>, bits: number, out?: Uint8Array): Uint8Array {
  assertBits(bits);
  const levels = (1 << bits) - 1;
  const codes = out ?? new Uint8Array(values.length);
  if (codes.length < values.length) throw new CodecError('output buffer too small');
  for (let i = 0; i < values.length; i++) {
    const raw = values[i]!;
    // NaN fails both comparisons and lands on 0, so a broken head cannot emit out-of-range codes.
    const x = raw > 0 ? (raw < 1 ? raw : 1) : 0;
    const q = Math.floor(fround(fround(x * levels) + 0.5));
    codes[i] = q > levels ? levels : q;
  }
  return codes;
}

/** Map codes back to float32 values in [0,1]. */
export function dequantize(
  codes: ArrayLike<number>,
  bits: number,
  out?: Float32Array,
  outOffset = 0,
): Float32Array {
  assertBits(bits);
  const levels = (1 << bits) - 1;
  const values = out ?? new Float32Array(codes.length);
  if (values.length - outOffset < codes.length) throw new CodecError('output buffer too small');
  for (let i = 0; i < codes.length; i++) values[outOffset + i] = codes[i]! / levels;
  return values;
}

/** Pack codes (each < 2^bits) MSB-first into ceil(n*bits/8) bytes. */
export function pack(codes: ArrayLike<number>, bits: number, out?: Uint8Array, outOffset = 0): Uint8Array {
  assertBits(bits);
  const byteLength = packedLength(codes.length, bits);
  const bytes = out ?? new Uint8Array(byteLength);
  if (bytes.length - outOffset < byteLength) throw new CodecError('output buffer too small');
  if (bits === 8) {
    for (let i = 0; i < codes.length; i++) bytes[outOffset + i] = codes[i]!;
    return bytes;
  }
  const mask = (1 << bits) - 1;
  let accumulator = 0;
  let pending = 0;
  let at = outOffset;
  for (let i = 0; i < codes.length; i++) {
    accumulator = (accumulator << bits) | (codes[i]! & mask);
    pending += bits;
    if (pending >= 8) {
      pending -= 8;
      bytes[at++] = (accumulator >>> pending) & 0xff;
      accumulator &= (1 << pending) - 1;
    }
  }
  if (pending > 0) bytes[at] = (accumulator << (8 - pending)) & 0xff;
  return bytes;
}

/**
 * Unpack `count` codes of `bits` bits. `bytes` (from `offset`) must hold exactly
 * ceil(count*bits/8) bytes for this image; a shorter slice is an error.
 */
export function unpack(
  bytes: Uint8Array,
  count: number,
  bits: number,
  offset = 0,
  out?: Uint8Array,
): Uint8Array {
  assertBits(bits);
  const byteLength = packedLength(count, bits);
  if (bytes.length - offset < byteLength) {
    throw new CodecError(
      `need ${byteLength} bytes for ${count} codes of ${bits} bits, got ${bytes.length - offset}`,
    );
  }
  const codes = out ?? new Uint8Array(count);
  if (bits === 8) {
    codes.set(bytes.subarray(offset, offset + count));
    return codes;
  }
  const mask = (1 << bits) - 1;
  let accumulator = 0;
  let available = 0;
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (available < bits) {
      accumulator = ((accumulator << 8) | bytes[at++]!) & 0xffff;
      available += 8;
    }
    available -= bits;
    codes[i] = (accumulator >>> available) & mask;
  }
  return codes;
}

/** quantize + pack: the whole device-side encode of one image's bottleneck. */
export function encodeBottleneck(
  values: ArrayLike<number>,
  bits: number,
  out?: Uint8Array,
  outOffset = 0,
): Uint8Array {
  return pack(quantize(values, bits), bits, out, outOffset);
}

/** unpack + dequantize: the whole server-side decode of one image's bottleneck. */
export function decodeBottleneck(
  bytes: Uint8Array,
  count: number,
  bits: number,
  offset = 0,
  out?: Float32Array,
  outOffset = 0,
): Float32Array {
  return dequantize(unpack(bytes, count, bits, offset), bits, out, outOffset);
}
