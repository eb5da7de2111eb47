/**
 * What the Node evaluator (server/eval, onnxruntime-node + the shared codec) predicts for the first
 * `count` test images: the reference the browser's answers are held against.
 */
import { readFileSync } from 'node:fs';
import { evaluateBundle } from '../server/eval/evaluate';
import { loadTestSet } from '../server/eval/testSet';
import type { ModelManifest } from '../src/core/manifest';

export interface Reference {
  labels: Uint8Array;
  predictions: Record<string, Uint8Array>;
  /** Top-1 minus top-2 logit per image and configuration, as the evaluator computed it. */
  margins: Record<string, Float32Array>;
  /** Per exit ("exit-c4"), per image: its confidence on the float bottleneck. */
  exitConfidences: Record<string, Float32Array>;
}

const cache = new Map<number, Promise<Reference>>();

export function referencePredictions(count: number): Promise<Reference> {
  let reference = cache.get(count);
  if (!reference) {
    reference = (async () => {
      const manifest = JSON.parse(
        readFileSync('public/models/fmnist/manifest.json', 'utf8'),
      ) as ModelManifest;
      const test = await loadTestSet(undefined, count);
      const result = await evaluateBundle(manifest, test, {
        bundleDir: 'public/models/fmnist',
        tailsDir: 'server/models/fmnist',
        threads: 1,
      });
      if (result.problems.length > 0) throw new Error(`bundle problems: ${result.problems.join('; ')}`);
      return {
        labels: test.labels,
        predictions: result.predictions,
        margins: result.margins,
        exitConfidences: result.exitConfidences,
      };
    })();
    cache.set(count, reference);
  }
  return reference;
}
