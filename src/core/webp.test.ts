import { describe, expect, it } from 'vitest';
import { stripWebpMetadata } from './webp';

function chunk(id: string, payload: number[]): number[] {
  const size = payload.length;
  const padded = size & 1 ? [...payload, 0] : payload;
  return [...id].map((c) => c.charCodeAt(0)).concat([size & 0xff, (size >> 8) & 0xff, 0, 0], padded);
}

function riff(chunks: number[][]): Uint8Array {
  const body = ['W', 'E', 'B', 'P'].map((c) => c.charCodeAt(0)).concat(...chunks);
  const size = body.length;
  return new Uint8Array([0x52, 0x49, 0x46, 0x46, size & 0xff, (size >> 8) & 0xff, 0, 0, ...body]);
}

describe('stripWebpMetadata', () => {
  it('keeps only the image chunk of an extended WebP with an ICC profile', () => {
    const vp8 = [1, 2, 3, 4, 5];
    const extended = riff([
      chunk('VP8X', new Array(10).fill(0)),
      chunk('ICCP', new Array(456).fill(7)),
      chunk('VP8 ', vp8),
    ]);
    const simple = stripWebpMetadata(extended);
    expect(simple).toEqual(riff([chunk('VP8 ', vp8)]));
    // RIFF size = file size - 8.
    expect(simple[4]! | (simple[5]! << 8)).toBe(simple.length - 8);
  });

  it('leaves files that need the extended format, or are not WebP, untouched', () => {
    const withAlpha = riff([chunk('VP8X', new Array(10).fill(0)), chunk('ALPH', [1]), chunk('VP8 ', [1, 2])]);
    expect(stripWebpMetadata(withAlpha)).toBe(withAlpha);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(stripWebpMetadata(png)).toBe(png);
    const truncated = riff([chunk('VP8 ', [1, 2, 3])]).subarray(0, 22);
    expect(stripWebpMetadata(truncated)).toBe(truncated);
  });
});
