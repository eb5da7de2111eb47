/**
 * The labelled Fashion-MNIST test set, parsed in the page from the shipped official .gz files.
 */
import { checkPair, parseIdxImages, parseIdxLabels } from '../core/idx';
import { download, gunzip, type DownloadProgress } from './download';

const DATA_BASE = `${import.meta.env.BASE_URL}data/fashion-mnist/`;
export const TEST_IMAGES_FILE = 't10k-images-idx3-ubyte.gz';
export const TEST_LABELS_FILE = 't10k-labels-idx1-ubyte.gz';

export interface TestSet {
  count: number;
  width: number;
  height: number;
  /** count × width × height bytes, row-major, as in the IDX file. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export async function loadTestSet(onProgress: (progress: DownloadProgress) => void): Promise<TestSet> {
  const [imagesGz, labelsGz] = await Promise.all([
    download(`${DATA_BASE}${TEST_IMAGES_FILE}`, { version: 'fashion-mnist-t10k', onProgress }),
    download(`${DATA_BASE}${TEST_LABELS_FILE}`, { version: 'fashion-mnist-t10k', onProgress }),
  ]);
  const images = parseIdxImages(await gunzip(imagesGz), TEST_IMAGES_FILE);
  const labels = parseIdxLabels(await gunzip(labelsGz), TEST_LABELS_FILE);
  checkPair(images, labels, 'Fashion-MNIST test set');
  return { count: images.count, width: images.cols, height: images.rows, pixels: images.pixels, labels };
}

/** A batch as the models take it: float32 pixel/255, [n,1,28,28]. */
export function batchInput(set: TestSet, indices: readonly number[]): Float32Array {
  const size = set.width * set.height;
  const input = new Float32Array(indices.length * size);
  for (const [slot, index] of indices.entries()) {
    const offset = index * size;
    for (let i = 0; i < size; i++) input[slot * size + i] = set.pixels[offset + i]! / 255;
  }
  return input;
}

export function imagePixels(set: TestSet, index: number): Uint8Array {
  const size = set.width * set.height;
  return set.pixels.subarray(index * size, (index + 1) * size);
}
