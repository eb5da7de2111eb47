/**
 * The manifest's measured split-with-exit and WebP offload figures against a fresh Node evaluation
 * on a subset of the test images, through the same code paths (evaluateBundle: ONNX, the shared
 * codec, splitWithExitAnswers; the page's WebP settings and the tail server's decodeImage).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBottleneck, encodeBottleneck } from '../../src/core/codec';
import { measuredConfigProblems, type ModelManifest } from '../../src/core/manifest';
import { findBundle, findTestData } from '../testing/helpers';
import { compare, evaluateBundle, type EvalResult } from './evaluate';
import { loadTestSet } from './testSet';
import { webpRoundTrip } from './webpOffload';

const location = findBundle();
const dataDir = findTestData();
/** Enough for a statistical check of every c4 entry, few enough to keep the file under ~10 s. */
const IMAGES = 1000;
const BATCH = 500;

function argmax(data: Float32Array, row: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) if (data[row * cols + c]! > data[row * cols + best]!) best = c;
  return best;
}

describe.skipIf(!location || !dataDir)('measured split-with-exit and WebP figures', () => {
  let manifest: ModelManifest;
  let evaluation: EvalResult;

  beforeAll(async () => {
    manifest = JSON.parse(
      await fs.readFile(path.join(location!.publicDir, 'manifest.json'), 'utf8'),
    ) as ModelManifest;
    const test = await loadTestSet(dataDir!, IMAGES);
    // One level and its exit (c4, the app's default): every bit-width × threshold of it.
    const level = manifest.levels.find((entry) => entry.id === 'c4')!;
    const exit = manifest.earlyExits.find((entry) => entry.level === 'c4')!;
    evaluation = await evaluateBundle({ ...manifest, levels: [level], earlyExits: [exit] }, test, {
      bundleDir: location!.publicDir,
      tailsDir: location!.serverDir,
      batchSize: 500,
      threads: 1,
      webpQualities: [50],
    });
    expect(evaluation.problems).toEqual([]);
  }, 60_000);

  it('the shipped manifest has every level with an exit × bit-width × threshold, and WebP at q50', () => {
    expect(measuredConfigProblems(manifest)).toEqual([]);
    const expected = manifest.earlyExits.flatMap((exit) =>
      Array.from({ length: manifest.quantization.maxBits - manifest.quantization.minBits + 1 }, (_, i) =>
        exit.thresholds.map(
          ({ threshold }) => `${exit.level}-b${manifest.quantization.minBits + i}-x${threshold}`,
        ),
      ).flat(),
    );
    expect(manifest.splitWithExit!.map((e) => `${e.level}-b${e.bits}-x${e.threshold}`).sort()).toEqual(
      expected.sort(),
    );
    expect(manifest.webpOffload!.map((e) => e.quality)).toEqual([50]);
    for (const entry of [...manifest.splitWithExit!, ...manifest.webpOffload!])
      expect(entry.total).toBe(manifest.dataset.testImages);
  });

  it("each split-with-exit's coverage is exactly its exit's coverage at that threshold", () => {
    for (const entry of manifest.splitWithExit!) {
      const exit = manifest.earlyExits.find((e) => e.level === entry.level)!;
      const row = exit.thresholds.find((t) => t.threshold === entry.threshold)!;
      expect(entry.coverage).toBe(row.coverage);
      // The exited images answer at the exit's accuracy; the tail answers the rest.
      const exitCorrect = Math.round(row.accuracy * entry.exited);
      expect(entry.correct).toBeGreaterThanOrEqual(exitCorrect);
      expect(entry.correct).toBeLessThanOrEqual(exitCorrect + entry.total - entry.exited);
    }
  });

  it(`agrees with a Node re-evaluation on ${IMAGES} images (the evaluator's quick-form bound)`, () => {
    expect(evaluation.splitWithExit).toHaveLength(8 * 5);
    expect(evaluation.webpOffload).toHaveLength(1);
    const rows = compare(manifest, evaluation).filter(
      (row) => /-x[0-9.]+( coverage)?$/.test(row.config) || row.config.startsWith('webp-'),
    );
    expect(rows).toHaveLength(8 * 5 * 2 + 1);
    expect(rows.filter((row) => !row.ok)).toEqual([]);
  });

  it("c4 at 2 bits with the exit at 0.9 (the app's default split) is exact on all 10,000 images", async () => {
    // Independently of evaluateBundle: head -> exit on the float bottleneck -> at confidence >= 0.9
    // the exit's class, else the device's encode and the server's decode -> tail.
    const test = await loadTestSet(dataDir!);
    const level = manifest.levels.find((entry) => entry.id === 'c4')!;
    const exit = manifest.earlyExits.find((entry) => entry.level === 'c4')!;
    const open = (file: string) => ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
    const head = await open(path.join(location!.publicDir, level.head.file));
    const exitModel = await open(path.join(location!.publicDir, exit.file));
    const tail = await open(path.join(location!.serverDir, level.tail.file));
    const classes = manifest.classes.length;
    const shape = level.bottleneckShape;
    const size = level.elements;
    const deq = new Float32Array(BATCH * size);
    let exited = 0;
    let correct = 0;
    for (let start = 0; start < test.count; start += BATCH) {
      const n = Math.min(BATCH, test.count - start);
      const images = test.images.subarray(start * 784, (start + n) * 784);
      const z = (await head.run({ [level.head.input]: new ort.Tensor('float32', images, [n, 1, 28, 28]) }))[
        level.head.output
      ]!.data as Float32Array;
      const out = await exitModel.run({ [exit.input]: new ort.Tensor('float32', z, [n, ...shape]) });
      const exitLogits = out[exit.outputs.logits]!.data as Float32Array;
      const confidence = out[exit.outputs.confidence]!.data as Float32Array;
      const rest: number[] = [];
      for (let i = 0; i < n; i++) {
        if (confidence[i]! < 0.9) {
          decodeBottleneck(
            encodeBottleneck(z.subarray(i * size, (i + 1) * size), 2),
            size,
            2,
            0,
            deq,
            rest.length * size,
          );
          rest.push(i);
        } else {
          exited++;
          if (argmax(exitLogits, i, classes) === test.labels[start + i]) correct++;
        }
      }
      if (rest.length === 0) continue;
      const feed = new ort.Tensor('float32', deq.subarray(0, rest.length * size), [rest.length, ...shape]);
      const logits = (await tail.run({ [level.tail.input]: feed }))[level.tail.output]!.data as Float32Array;
      rest.forEach((i, j) => {
        if (argmax(logits, j, classes) === test.labels[start + i]) correct++;
      });
    }
    await Promise.all([head.release(), exitModel.release(), tail.release()]);
    const entry = manifest.splitWithExit!.find(
      (e) => e.level === 'c4' && e.bits === 2 && e.threshold === 0.9,
    )!;
    expect({ exited, correct, total: test.count }).toEqual({
      exited: entry.exited,
      correct: entry.correct,
      total: entry.total,
    });
  }, 60_000);

  it('the WebP round trip matches what the page measured in Chromium on test images 0-95', async () => {
    // bench/results/e2e.json, webp-q50 cells (Chromium 156's canvas encoder, seed 0): 230.17 B per
    // image on 96 images, 85 of them right.
    const test = await loadTestSet(dataDir!, 96);
    const trip = await webpRoundTrip(test.raw.pixels, 96, 50);
    expect(trip.bytes.reduce((sum, b) => sum + b, 0)).toBe(22_096);
    const page = evaluation.predictions['webp-q50']!.subarray(0, 96);
    let correct = 0;
    for (let i = 0; i < 96; i++) if (page[i] === test.labels[i]) correct++;
    expect(correct).toBe(85);
  });
});
