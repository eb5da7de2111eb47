import { describe, expect, it } from 'vitest';
import { IdxError, checkPair, imageToFloat, parseIdxImages, parseIdxLabels } from './idx.ts';

function imagesFile(count: number, rows: number, cols: number, fill = (i: number) => i % 256): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 2051);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 0; i < count * rows * cols; i++) bytes[16 + i] = fill(i);
  return bytes;
}

function labelsFile(labels: number[]): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 2049);
  view.setUint32(4, labels.length);
  bytes.set(labels, 8);
  return bytes;
}

describe('parseIdxImages', () => {
  it('parses count, size and pixels', () => {
    const parsed = parseIdxImages(imagesFile(3, 2, 4));
    expect(parsed).toMatchObject({ count: 3, rows: 2, cols: 4 });
    expect(parsed.pixels.length).toBe(24);
    expect(parsed.pixels[5]).toBe(5);
  });

  it('converts an image to [0,1] floats', () => {
    const parsed = parseIdxImages(imagesFile(2, 1, 2, (i) => [0, 255, 51, 102][i]!));
    expect(Array.from(imageToFloat(parsed, 1))).toEqual([Math.fround(0.2), Math.fround(0.4)]);
    expect(() => imageToFloat(parsed, 2)).toThrow(IdxError);
  });

  it('rejects a truncated file and names it', () => {
    const full = imagesFile(3, 2, 2);
    expect(() => parseIdxImages(full.subarray(0, full.length - 1), 't10k-images.gz')).toThrow(
      /t10k-images\.gz: truncated/,
    );
    expect(() => parseIdxImages(full.subarray(0, 10), 'x.idx')).toThrow(/x\.idx: truncated IDX image header/);
    expect(() => parseIdxImages(new Uint8Array(0), 'empty')).toThrow(/empty: truncated/);
  });

  it('rejects trailing bytes', () => {
    const full = imagesFile(1, 2, 2);
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    expect(() => parseIdxImages(longer, 'f')).toThrow(/f: 3 trailing bytes/);
  });

  it('rejects a bad magic number and a label file', () => {
    const bad = imagesFile(1, 1, 1);
    bad[3] = 0x04;
    expect(() => parseIdxImages(bad, 'bad.idx')).toThrow(/bad\.idx: bad magic number 2052/);
    expect(() => parseIdxImages(labelsFile([1, 2, 3, 4, 5, 6, 7, 8]), 'lab')).toThrow(
      /lab: bad magic number 2049 \(a label file\)/,
    );
  });

  it('rejects a zero image size', () => {
    expect(() => parseIdxImages(imagesFile(0, 0, 28), 'z')).toThrow(/z: invalid image size/);
  });
});

describe('parseIdxLabels', () => {
  it('parses labels', () => {
    expect(Array.from(parseIdxLabels(labelsFile([0, 9, 3])))).toEqual([0, 9, 3]);
  });

  it('rejects truncation, bad magic and out-of-range labels', () => {
    const full = labelsFile([1, 2, 3]);
    expect(() => parseIdxLabels(full.subarray(0, 10), 'labels.gz')).toThrow(/labels\.gz: truncated/);
    expect(() => parseIdxLabels(full.subarray(0, 5), 'labels.gz')).toThrow(
      /labels\.gz: truncated IDX label header/,
    );
    expect(() => parseIdxLabels(imagesFile(1, 1, 1), 'img')).toThrow(
      /img: bad magic number 2051 \(an image file\)/,
    );
    expect(() => parseIdxLabels(labelsFile([1, 10]), 'l')).toThrow(/l: label 10 at index 1 is out of range/);
  });

  it('checks that images and labels pair up', () => {
    expect(() =>
      checkPair(parseIdxImages(imagesFile(2, 1, 1)), parseIdxLabels(labelsFile([1])), 'test set'),
    ).toThrow(/test set: 2 images but 1 labels/);
  });
});
