import { describe, expect, it } from 'vitest';
import {
  CodecError,
  decodeBottleneck,
  dequantize,
  encodeBottleneck,
  pack,
  packedLength,
  quantize,
  unpack,
} from './codec';

/** Deterministic PRNG (mulberry32) so a failure is reproducible from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The manifest's convention, written out independently of codec.ts. */
function referenceQuantize(x: number, bits: number): number {
  const L = 2 ** bits - 1;
  const c = Number.isNaN(x) ? 0 : Math.min(1, Math.max(0, x));
  const q = Math.floor(Math.fround(Math.fround(c * L) + 0.5));
  return Math.min(L, Math.max(0, q));
}

/** Bit-by-bit MSB-first packing, the slow obvious way. */
function referencePack(codes: ArrayLike<number>, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  let bit = 0;
  for (let i = 0; i < codes.length; i++) {
    for (let b = bits - 1; b >= 0; b--) {
      if ((codes[i]! >> b) & 1) out[bit >> 3]! |= 0x80 >> (bit & 7);
      bit++;
    }
  }
  return out;
}

const LENGTHS = [0, 1, 2, 3, 7, 8, 9, 13, 49, 98, 195, 196, 391, 392, 1001];

describe('codec', () => {
  for (let bits = 1; bits <= 8; bits++) {
    it(`round-trips random codes at ${bits} bit(s), odd lengths: unpack(pack(q)) == q`, () => {
      const random = rng(bits * 7919);
      for (const n of LENGTHS) {
        const codes = Uint8Array.from({ length: n }, () => Math.floor(random() * 2 ** bits));
        const packed = pack(codes, bits);
        expect(packed.length).toBe(packedLength(n, bits));
        expect(packed.length).toBe(Math.ceil((n * bits) / 8));
        expect(packed).toEqual(referencePack(codes, bits));
        expect(unpack(packed, n, bits)).toEqual(codes);
        // Unused low bits of the last byte are zero.
        const tailBits = (n * bits) % 8;
        if (tailBits > 0) expect(packed[packed.length - 1]! & ((1 << (8 - tailBits)) - 1)).toBe(0);
      }
    });

    it(`quantizes random float32 tensors by the manifest convention at ${bits} bit(s)`, () => {
      const random = rng(bits * 104729);
      const L = 2 ** bits - 1;
      const values = new Float32Array(4099);
      for (let i = 0; i < values.length; i++) values[i] = random() * 1.2 - 0.1;
      // Exact half-steps and the ends, where rounding conventions differ.
      values.set([0, 1, -0, 0.5, 1 / L, 0.5 / L, 1.5 / L, 1 - 0.5 / L, -1e-9, 1 + 1e-6], 0);
      const codes = quantize(values, bits);
      for (let i = 0; i < values.length; i++) expect(codes[i]).toBe(referenceQuantize(values[i]!, bits));
      const decoded = decodeBottleneck(encodeBottleneck(values, bits), values.length, bits);
      for (let i = 0; i < values.length; i++) {
        expect(decoded[i]).toBe(Math.fround(codes[i]! / L));
        // Within half a step of the clamped input (plus float32 slack).
        expect(Math.abs(decoded[i]! - Math.min(1, Math.max(0, values[i]!)))).toBeLessThanOrEqual(
          0.5 / L + 1e-6,
        );
      }
    });
  }

  it('maps NaN and out-of-range values into range', () => {
    expect(Array.from(quantize([NaN, -5, 5, Infinity, -Infinity], 3))).toEqual([0, 0, 7, 7, 0]);
  });

  it('honours offsets and caller buffers', () => {
    const codes = Uint8Array.from([1, 2, 3, 0, 3]);
    const out = new Uint8Array(10).fill(0xaa);
    pack(codes, 2, out, 3);
    expect(Array.from(out.subarray(0, 3))).toEqual([0xaa, 0xaa, 0xaa]);
    expect(unpack(out, 5, 2, 3)).toEqual(codes);
    const values = new Float32Array(8);
    dequantize(codes, 2, values, 3);
    expect(values[3]).toBe(Math.fround(1 / 3));
  });

  it('rejects bad bit-widths and short input', () => {
    expect(() => pack([1], 0)).toThrow(CodecError);
    expect(() => quantize([0.5], 9)).toThrow(CodecError);
    expect(() => unpack(new Uint8Array(2), 9, 2)).toThrow(CodecError);
    expect(() => pack([1, 2], 8, new Uint8Array(1))).toThrow(CodecError);
  });
});
