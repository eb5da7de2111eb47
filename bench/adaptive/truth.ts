/**
 * The true answers the simulator scores against: labels and, per test image, what every
 * configuration answers, by running the bundle's ONNX files in Node (server/eval, onnxruntime-node
 * and the shared codec, exactly as the device and the tail server run them).
 *
 * - "full" and "png": the full model on the image (PNG is lossless, the server decodes the same
 *   pixels);
 * - "webp-q50": the full model on the image after a WebP round trip at quality 50 through sharp
 *   (libwebp). The page encodes with Chromium's own libwebp through OffscreenCanvas, so this is an
 *   approximation of what the server sees, and the report says so;
 * - "cX-bB": head → quantize at B bits → pack → unpack → tail;
 * - per level: the exit's class and confidence on the float bottleneck.
 *
 * Evaluating the 10,000 test images takes a minute or two, so the result is cached (JSON, keyed
 * by a hash of the manifest and of this recipe) under a gitignored folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelManifest } from '../../src/core/manifest';
import type { ImageTruth } from '../../src/core/simulator';

/** The serialisable form of an ImageTruth. */
export interface TruthJson {
  key: string;
  images: number;
  labels: number[];
  predicted: Record<string, number[]>;
  exits: Record<string, { predicted: number[]; confidence: number[] }>;
  /** How each entry was obtained, for the report. */
  notes: Record<string, string>;
}

/** What server/eval's evaluateBundle returns that the truth needs. */
export interface EvalAnswers {
  labels: ArrayLike<number>;
  /** "full", "c4-b2", "exit-c4", … */
  predictions: Record<string, ArrayLike<number>>;
  /** "exit-c4" → confidence per image. */
  exitConfidences: Record<string, ArrayLike<number>>;
}

/**
 * The truth from an evaluation: every bit-width of every level, the full model for on-device and
 * PNG, WebP when its answers are given, the exits by level.
 */
export function truthFromEval(
  manifest: Pick<ModelManifest, 'levels' | 'quantization' | 'earlyExits'>,
  answers: EvalAnswers,
  webp?: { id: string; predicted: ArrayLike<number> },
): ImageTruth {
  const full = answers.predictions.full;
  if (!full) throw new Error('truth: the evaluation has no answers of the full model');
  const predicted = new Map<string, ArrayLike<number>>([
    ['full', full],
    ['png', full],
  ]);
  if (webp) predicted.set(webp.id, webp.predicted);
  for (const level of manifest.levels)
    for (let bits = manifest.quantization.minBits; bits <= manifest.quantization.maxBits; bits++) {
      const id = `${level.id}-b${bits}`;
      const answer = answers.predictions[id];
      if (!answer) throw new Error(`truth: the evaluation has no answers of ${id}`);
      predicted.set(id, answer);
    }
  const exits = new Map<string, { predicted: ArrayLike<number>; confidence: ArrayLike<number> }>();
  for (const exit of manifest.earlyExits) {
    const classes = answers.predictions[`exit-${exit.level}`];
    const confidence = answers.exitConfidences[`exit-${exit.level}`];
    if (!classes || !confidence)
      throw new Error(`truth: the evaluation has no answers of exit-${exit.level}`);
    exits.set(exit.level, { predicted: classes, confidence });
  }
  return { labels: answers.labels, predicted, exits };
}

export function truthToJson(truth: ImageTruth, key: string, notes: Record<string, string>): TruthJson {
  return {
    key,
    images: truth.labels.length,
    labels: Array.from(truth.labels),
    predicted: Object.fromEntries([...truth.predicted].map(([id, values]) => [id, Array.from(values)])),
    exits: Object.fromEntries(
      [...truth.exits].map(([level, exit]) => [
        level,
        { predicted: Array.from(exit.predicted), confidence: Array.from(exit.confidence) },
      ]),
    ),
    notes,
  };
}

export function truthFromJson(json: TruthJson): ImageTruth {
  return {
    labels: Uint8Array.from(json.labels),
    predicted: new Map(Object.entries(json.predicted).map(([id, values]) => [id, Uint8Array.from(values)])),
    exits: new Map(
      Object.entries(json.exits).map(([level, exit]) => [
        level,
        { predicted: Uint8Array.from(exit.predicted), confidence: Float32Array.from(exit.confidence) },
      ]),
    ),
  };
}

/** Accuracy of each config of the truth (and of each exit alone), for the report. */
export function truthAccuracies(truth: ImageTruth): Map<string, number> {
  const out = new Map<string, number>();
  const n = truth.labels.length;
  for (const [id, answers] of truth.predicted) {
    let right = 0;
    for (let i = 0; i < n; i++) if (answers[i] === truth.labels[i]) right++;
    out.set(id, right / n);
  }
  return out;
}

const RECIPE = 'truth v1: onnxruntime-node evaluateBundle; webp via sharp quality 50 → full';

export function truthKey(manifestText: string, webpQuality: number): string {
  return createHash('sha256').update(RECIPE).update(String(webpQuality)).update(manifestText).digest('hex');
}

/** Full model on each image after a WebP round trip through sharp at `quality`, decoded as the server does. */
async function webpAnswers(
  manifest: ModelManifest,
  bundleDir: string,
  pixels: Uint8Array,
  count: number,
  quality: number,
  threads: number,
): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default;
  const ort = await import('onnxruntime-node');
  const size = 28 * 28;
  const input = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const grey = pixels.subarray(i * size, (i + 1) * size);
    const rgb = new Uint8Array(size * 3);
    for (let p = 0; p < size; p++) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = grey[p]!;
    const webp = await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
      .webp({ quality })
      .toBuffer();
    const decoded = await sharp(webp).removeAlpha().greyscale().raw().toBuffer();
    for (let p = 0; p < size; p++) input[i * size + p] = decoded[p]! / 255;
  }
  const session = await ort.InferenceSession.create(path.join(bundleDir, manifest.full.file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const out = new Uint8Array(count);
  const classes = manifest.classes.length;
  for (let start = 0; start < count; start += 500) {
    const n = Math.min(500, count - start);
    const tensor = new ort.Tensor('float32', input.subarray(start * size, (start + n) * size), [
      n,
      1,
      28,
      28,
    ]);
    const result = await session.run({ [session.inputNames[0]!]: tensor });
    const logits = result[manifest.full.output]!.data as Float32Array;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
      out[start + r] = best;
    }
  }
  await session.release();
  return out;
}

/** The truth for the bundle, from the cache when it holds this manifest's, else evaluated (and cached). */
export async function loadTruth(options: {
  bundleDir: string;
  tailsDir: string;
  cacheDir: string;
  webpQuality: number;
  threads?: number;
  log?: (line: string) => void;
}): Promise<{ truth: ImageTruth; json: TruthJson; cached: boolean; seconds: number }> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const manifestText = readFileSync(path.join(options.bundleDir, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as ModelManifest;
  const key = truthKey(manifestText, options.webpQuality);
  const file = path.join(options.cacheDir, `truth-${key.slice(0, 16)}.json`);
  if (existsSync(file)) {
    const json = JSON.parse(readFileSync(file, 'utf8')) as TruthJson;
    if (json.key === key)
      return { truth: truthFromJson(json), json, cached: true, seconds: (Date.now() - started) / 1000 };
  }
  const { evaluateBundle } = await import('../../server/eval/evaluate');
  const { loadTestSet } = await import('../../server/eval/testSet');
  const test = await loadTestSet();
  const threads = options.threads ?? 1;
  log(`truth: evaluating ${test.count} test images with onnxruntime-node (${threads} thread)`);
  const result = await evaluateBundle(manifest, test, {
    bundleDir: options.bundleDir,
    tailsDir: options.tailsDir,
    threads,
    log,
  });
  if (result.problems.length > 0)
    throw new Error(`truth: the bundle is broken: ${result.problems.join('; ')}`);
  const webpId = `webp-q${options.webpQuality}`;
  log(`truth: ${webpId} round trip through sharp`);
  const webp = await webpAnswers(
    manifest,
    options.bundleDir,
    test.raw.pixels,
    test.count,
    options.webpQuality,
    threads,
  );
  const truth = truthFromEval(
    manifest,
    { labels: test.labels, predictions: result.predictions, exitConfidences: result.exitConfidences },
    { id: webpId, predicted: webp },
  );
  const json = truthToJson(truth, key, {
    full: 'full model, onnxruntime-node, on the 8-bit test images',
    png: 'lossless: the full model on the same pixels',
    [webpId]: `approximate: WebP q${options.webpQuality} round trip through sharp (libwebp), not Chromium's canvas encoder the page uses`,
    splits: 'head → quantize/pack (shared codec) → unpack → tail, per bit-width',
    exits: 'exit classifier on the float bottleneck: class and confidence',
  });
  mkdirSync(options.cacheDir, { recursive: true });
  writeFileSync(file, JSON.stringify(json));
  return { truth, json, cached: false, seconds: (Date.now() - started) / 1000 };
}
