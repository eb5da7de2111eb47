/**
 * IDX file parser (the format of the MNIST-family datasets), framework-free so the browser
 * (after DecompressionStream) and Node (after node:zlib) share it.
 *
 * Images: magic 2051, count, rows, cols (big-endian uint32), then count*rows*cols unsigned bytes.
 * Labels: magic 2049, count, then count unsigned bytes.
 * The parser checks the magic number, the header and the exact byte length, and every error names
 * the file it came from.
 */

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export class IdxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxError';
  }
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols pixels, row-major, one image after another. */
  pixels: Uint8Array;
}

function headerView(bytes: Uint8Array, need: number, name: string, what: string): DataView {
  if (bytes.length < need) {
    throw new IdxError(`${name}: truncated ${what} header (${bytes.length} bytes, need ${need})`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkMagic(view: DataView, expected: number, name: string, what: string): void {
  const magic = view.getUint32(0, false);
  if (magic !== expected) {
    const hint =
      magic === IDX_IMAGES_MAGIC ? ' (an image file)' : magic === IDX_LABELS_MAGIC ? ' (a label file)' : '';
    throw new IdxError(`${name}: bad magic number ${magic}${hint}, expected ${expected} for ${what}`);
  }
}

function checkLength(actual: number, expected: number, name: string, detail: string): void {
  if (actual < expected) {
    throw new IdxError(`${name}: truncated: header says ${detail} (${expected} bytes), got ${actual} bytes`);
  }
  if (actual > expected) {
    throw new IdxError(`${name}: ${actual - expected} trailing bytes after ${detail} (${expected} bytes)`);
  }
}

/** Parse decompressed IDX image bytes (magic 2051). The pixels view shares `bytes`' buffer. */
export function parseIdxImages(bytes: Uint8Array, name = 'IDX images'): IdxImages {
  const view = headerView(bytes, 16, name, 'IDX image');
  checkMagic(view, IDX_IMAGES_MAGIC, name, 'images');
  const count = view.getUint32(4, false);
  const rows = view.getUint32(8, false);
  const cols = view.getUint32(12, false);
  if (rows === 0 || cols === 0) throw new IdxError(`${name}: invalid image size ${rows}x${cols}`);
  const size = count * rows * cols;
  checkLength(bytes.length, 16 + size, name, `${count} images of ${rows}x${cols}`);
  return { count, rows, cols, pixels: bytes.subarray(16, 16 + size) };
}

/** Parse decompressed IDX label bytes (magic 2049); labels must be below `numClasses`. */
export function parseIdxLabels(bytes: Uint8Array, name = 'IDX labels', numClasses = 10): Uint8Array {
  const view = headerView(bytes, 8, name, 'IDX label');
  checkMagic(view, IDX_LABELS_MAGIC, name, 'labels');
  const count = view.getUint32(4, false);
  checkLength(bytes.length, 8 + count, name, `${count} labels`);
  const labels = bytes.subarray(8, 8 + count);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) {
      throw new IdxError(`${name}: label ${labels[i]} at index ${i} is out of range 0..${numClasses - 1}`);
    }
  }
  return labels;
}

/** Check that an image file and a label file belong together. */
export function checkPair(images: IdxImages, labels: Uint8Array, name = 'IDX pair'): void {
  if (images.count !== labels.length) {
    throw new IdxError(`${name}: ${images.count} images but ${labels.length} labels`);
  }
}

/** Image i as float32 values pixel/255 in [0,1], written into `out` at `outOffset`. */
export function imageToFloat(
  images: IdxImages,
  index: number,
  out?: Float32Array,
  outOffset = 0,
): Float32Array {
  if (!Number.isInteger(index) || index < 0 || index >= images.count) {
    throw new IdxError(`image index ${index} out of range 0..${images.count - 1}`);
  }
  const size = images.rows * images.cols;
  const target = out ?? new Float32Array(size);
  const start = index * size;
  for (let i = 0; i < size; i++) target[outOffset + i] = images.pixels[start + i]! / 255;
  return target;
}
