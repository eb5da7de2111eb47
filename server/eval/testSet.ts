/**
 * Loads the Fashion-MNIST test set that the app ships (public/data/fashion-mnist) in Node:
 * node:zlib for gzip, the shared IDX parser for the rest.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { IdxError, checkPair, parseIdxImages, parseIdxLabels, type IdxImages } from '../../src/core/idx.ts';

export const DEFAULT_DATA_DIR = 'public/data/fashion-mnist';
export const TEST_IMAGES_FILE = 't10k-images-idx3-ubyte.gz';
export const TEST_LABELS_FILE = 't10k-labels-idx1-ubyte.gz';

export interface TestSet {
  count: number;
  /** count * 784 float32 values, pixel/255. */
  images: Float32Array;
  labels: Uint8Array;
  raw: IdxImages;
}

async function readGz(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new IdxError(`${file}: cannot read (${(error as Error).message})`);
  }
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return new Uint8Array(bytes);
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (error) {
    throw new IdxError(`${file}: corrupt or truncated gzip data (${(error as Error).message})`);
  }
}

export async function loadTestSet(dataDir = DEFAULT_DATA_DIR, limit?: number): Promise<TestSet> {
  const imagesPath = path.join(dataDir, TEST_IMAGES_FILE);
  const labelsPath = path.join(dataDir, TEST_LABELS_FILE);
  const raw = parseIdxImages(await readGz(imagesPath), imagesPath);
  const allLabels = parseIdxLabels(await readGz(labelsPath), labelsPath);
  checkPair(raw, allLabels, dataDir);
  if (raw.rows !== 28 || raw.cols !== 28)
    throw new IdxError(`${imagesPath}: expected 28x28 images, got ${raw.rows}x${raw.cols}`);
  const count = limit === undefined ? raw.count : Math.min(limit, raw.count);
  const size = raw.rows * raw.cols;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) images[i] = raw.pixels[i]! / 255;
  return { count, images, labels: allLabels.subarray(0, count), raw };
}
