/**
 * Measures a model bundle by running its exported ONNX files with onnxruntime-node and the shared
 * codec: the full model, every level unquantized and at every bit-width (quantize + pack + unpack +
 * dequantize, exactly as the device and the tail server do), the early exits, every split with its
 * exit (level × bit-width × threshold, as split mode answers), and WebP offload at the requested
 * qualities (encoded as the page encodes, decoded as the tail server decodes: ./webpOffload.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeBottleneck, encodeBottleneck, packedLength } from '../../src/core/codec.ts';
import type {
  MeasuredAccuracy,
  ModelManifest,
  SplitWithExitEntry,
  WebpOffloadEntry,
} from '../../src/core/manifest.ts';
import type { TestSet } from './testSet.ts';
import { webpEncoderDescription, webpRoundTrip } from './webpOffload.ts';

export interface EvalOptions {
  bundleDir: string;
  tailsDir: string;
  batchSize?: number;
  threads?: number;
  /** WebP qualities to measure offload at (none by default; the CLI measures the page's default). */
  webpQualities?: readonly number[];
  log?: (line: string) => void;
}

export interface LevelResult {
  id: string;
  float: MeasuredAccuracy;
  bits: (MeasuredAccuracy & { bits: number; payloadBytes: number })[];
}

export interface ExitResult {
  level: string;
  accuracy: number;
  correct: number;
  total: number;
  thresholds: { threshold: number; coverage: number; accuracy: number; covered: number; correct: number }[];
}

export interface EvalResult {
  total: number;
  full: MeasuredAccuracy;
  levels: LevelResult[];
  earlyExits: ExitResult[];
  /** Each level with an exit × bit-width × threshold, as split mode with that exit answers. */
  splitWithExit: SplitWithExitEntry[];
  /** WebP offload at each requested quality. */
  webpOffload: WebpOffloadEntry[];
  /** Problems with the files themselves (sizes, shapes); non-empty means the bundle is broken. */
  problems: string[];
  /** Predicted class per image, per configuration id ("full", "c4-float", "c4-b2", "exit-c4", "webp-q50"). */
  predictions: Record<string, Uint8Array>;
  /** Per image, per configuration id: top-1 minus top-2 logit, how close the decision was. */
  margins: Record<string, Float32Array>;
  /** Per image, per exit ("exit-c4"): the exit's confidence output on the float bottleneck. */
  exitConfidences: Record<string, Float32Array>;
}

export function measured(correct: number, total: number): MeasuredAccuracy {
  return { correct, total, accuracy: total > 0 ? correct / total : 0 };
}

function argmaxRows(
  data: Float32Array,
  rows: number,
  cols: number,
  out: Uint8Array,
  outOffset: number,
  margins?: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = data[r * cols]!;
    let second = -Infinity;
    for (let c = 1; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (v > bestValue) {
        second = bestValue;
        bestValue = v;
        best = c;
      } else if (v > second) {
        second = v;
      }
    }
    out[outOffset + r] = best;
    if (margins) margins[outOffset + r] = bestValue - second;
  }
}

function countCorrect(pred: Uint8Array, labels: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) n++;
  return n;
}

async function session(file: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

/** Runs a single-input model over `count` rows of `rowSize` values, in batches; returns each output concatenated. */
async function runBatched(
  s: ort.InferenceSession,
  input: Float32Array,
  count: number,
  rowShape: number[],
  batchSize: number,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const outputs: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const tensor = new ort.Tensor('float32', input.subarray(start * rowSize, (start + n) * rowSize), [
      n,
      ...rowShape,
    ]);
    const result = await s.run({ [s.inputNames[0]!]: tensor });
    for (const name of s.outputNames) {
      const t = result[name]!;
      const per = (t.data as Float32Array).length / n;
      if (!outputs[name])
        outputs[name] = { data: new Float32Array(count * per), dims: [count, ...t.dims.slice(1)] };
      outputs[name]!.data.set(t.data as Float32Array, start * per);
    }
  }
  return outputs;
}

async function checkFile(file: string, bytes: number, problems: string[]): Promise<void> {
  try {
    const stat = await fs.stat(file);
    if (stat.size !== bytes) problems.push(`${file}: ${stat.size} bytes, manifest says ${bytes}`);
  } catch {
    problems.push(`${file}: missing`);
  }
}

export async function evaluateBundle(
  manifest: ModelManifest,
  test: TestSet,
  options: EvalOptions,
): Promise<EvalResult> {
  const batchSize = options.batchSize ?? 500;
  const threads = options.threads ?? 2;
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const predictions: Record<string, Uint8Array> = {};
  const margins: Record<string, Float32Array> = {};
  const exitConfidences: Record<string, Float32Array> = {};
  const n = test.count;
  const labels = test.labels;
  const imageShape = manifest.input.shape.slice(1);

  const pub = (f: string) => path.join(options.bundleDir, f);
  const srv = (f: string) => path.join(options.tailsDir, f);
  await checkFile(pub(manifest.full.file), manifest.full.bytes, problems);
  for (const level of manifest.levels) {
    await checkFile(pub(level.head.file), level.head.bytes, problems);
    await checkFile(srv(level.tail.file), level.tail.bytes, problems);
  }
  for (const exit of manifest.earlyExits) await checkFile(pub(exit.file), exit.bytes, problems);
  if (problems.length)
    return {
      total: n,
      full: measured(0, 0),
      levels: [],
      earlyExits: [],
      splitWithExit: [],
      webpOffload: [],
      problems,
      predictions,
      margins,
      exitConfidences: {},
    };

  // full
  const full = await session(pub(manifest.full.file), threads);
  const fullOut = await runBatched(full, test.images, n, imageShape, batchSize);
  const fullLogits = fullOut[manifest.full.output];
  if (!fullLogits) throw new Error(`${manifest.full.file}: no output named ${manifest.full.output}`);
  const fullPred = new Uint8Array(n);
  margins.full = new Float32Array(n);
  argmaxRows(fullLogits.data, n, manifest.classes.length, fullPred, 0, margins.full);
  predictions.full = fullPred;
  const fullAcc = measured(countCorrect(fullPred, labels), n);
  log(`full: ${(fullAcc.accuracy * 100).toFixed(2)}%`);

  // WebP offload: the page's encode, the server's decode, the full model.
  const webpOffload: WebpOffloadEntry[] = [];
  for (const quality of options.webpQualities ?? []) {
    const trip = await webpRoundTrip(test.raw.pixels, n, quality);
    const out = (await runBatched(full, trip.pixels, n, imageShape, batchSize))[manifest.full.output]!;
    const pred = new Uint8Array(n);
    margins[`webp-q${quality}`] = new Float32Array(n);
    argmaxRows(out.data, n, manifest.classes.length, pred, 0, margins[`webp-q${quality}`]);
    predictions[`webp-q${quality}`] = pred;
    let bytes = 0;
    for (const b of trip.bytes) bytes += b;
    webpOffload.push({
      quality,
      ...measured(countCorrect(pred, labels), n),
      bytesPerImage: bytes / n,
      encoder: webpEncoderDescription(),
    });
    log(
      `webp-q${quality}: ${(webpOffload.at(-1)!.accuracy * 100).toFixed(2)}%, ${(bytes / n).toFixed(1)} B per image`,
    );
  }
  await full.release();

  const levels: LevelResult[] = [];
  const bottlenecks = new Map<string, Float32Array>();
  for (const level of manifest.levels) {
    const [c, h, w] = level.bottleneckShape;
    const elements = c * h * w;
    if (elements !== level.elements)
      problems.push(`${level.id}: elements ${level.elements} != ${c}*${h}*${w}`);
    const head = await session(pub(level.head.file), threads);
    const headOut = (await runBatched(head, test.images, n, imageShape, batchSize))[level.head.output];
    await head.release();
    if (!headOut) throw new Error(`${level.head.file}: no output named ${level.head.output}`);
    const dims = headOut.dims.slice(1);
    if (dims.join(',') !== [c, h, w].join(','))
      problems.push(
        `${level.head.file}: bottleneck shape [${dims.join(',')}], manifest says [${c},${h},${w}]`,
      );
    const z = headOut.data;
    let outOfRange = 0;
    for (let i = 0; i < z.length; i++) if (!(z[i]! >= 0 && z[i]! <= 1)) outOfRange++;
    if (outOfRange) problems.push(`${level.head.file}: ${outOfRange} bottleneck values outside [0,1]`);
    bottlenecks.set(level.id, z);

    const tail = await session(srv(level.tail.file), threads);
    const classify = async (input: Float32Array, key: string): Promise<MeasuredAccuracy> => {
      const out = (await runBatched(tail, input, n, [c, h, w], batchSize))[level.tail.output];
      if (!out) throw new Error(`${level.tail.file}: no output named ${level.tail.output}`);
      const pred = new Uint8Array(n);
      margins[key] = new Float32Array(n);
      argmaxRows(out.data, n, manifest.classes.length, pred, 0, margins[key]);
      predictions[key] = pred;
      return measured(countCorrect(pred, labels), n);
    };
    const floatAcc = await classify(z, `${level.id}-float`);
    const bitsResults: LevelResult['bits'] = [];
    const minBits = manifest.quantization.minBits;
    const maxBits = manifest.quantization.maxBits;
    const deq = new Float32Array(z.length);
    for (let bits = minBits; bits <= maxBits; bits++) {
      // The device's encode and the server's decode, image by image.
      for (let i = 0; i < n; i++) {
        const packed = encodeBottleneck(z.subarray(i * elements, (i + 1) * elements), bits);
        if (packed.length !== packedLength(elements, bits))
          problems.push(`${level.id}-b${bits}: packed length ${packed.length}`);
        decodeBottleneck(packed, elements, bits, 0, deq, i * elements);
      }
      const acc = await classify(deq, `${level.id}-b${bits}`);
      bitsResults.push({ bits, payloadBytes: packedLength(elements, bits), ...acc });
    }
    await tail.release();
    levels.push({ id: level.id, float: floatAcc, bits: bitsResults });
    log(
      `${level.id}: float ${(floatAcc.accuracy * 100).toFixed(2)}%  ` +
        bitsResults.map((b) => `${b.bits}b ${(b.accuracy * 100).toFixed(2)}%`).join('  '),
    );
  }

  const earlyExits: ExitResult[] = [];
  const splitWithExit: SplitWithExitEntry[] = [];
  for (const exit of manifest.earlyExits) {
    const level = manifest.levels.find((l) => l.id === exit.level);
    const z = bottlenecks.get(exit.level);
    if (!level || !z) {
      problems.push(`early exit ${exit.file}: unknown level ${exit.level}`);
      continue;
    }
    const s = await session(pub(exit.file), threads);
    const out = await runBatched(s, z, n, level.bottleneckShape, batchSize);
    await s.release();
    const logits = out[exit.outputs.logits];
    const conf = out[exit.outputs.confidence];
    if (!logits || !conf)
      throw new Error(`${exit.file}: outputs ${exit.outputs.logits}/${exit.outputs.confidence} missing`);
    const pred = new Uint8Array(n);
    margins[`exit-${exit.level}`] = new Float32Array(n);
    argmaxRows(logits.data, n, manifest.classes.length, pred, 0, margins[`exit-${exit.level}`]);
    predictions[`exit-${exit.level}`] = pred;
    exitConfidences[`exit-${exit.level}`] = conf.data;
    const correct = countCorrect(pred, labels);
    const thresholds = exit.thresholds.map(({ threshold }) => {
      let covered = 0;
      let right = 0;
      for (let i = 0; i < n; i++) {
        if (conf.data[i]! >= threshold) {
          covered++;
          if (pred[i] === labels[i]) right++;
        }
      }
      return {
        threshold,
        coverage: covered / n,
        accuracy: covered ? right / covered : 0,
        covered,
        correct: right,
      };
    });
    earlyExits.push({ level: exit.level, accuracy: correct / n, correct, total: n, thresholds });
    for (let bits = manifest.quantization.minBits; bits <= manifest.quantization.maxBits; bits++)
      for (const { threshold } of exit.thresholds) {
        const answers = splitWithExitAnswers(
          { predictions, margins, exitConfidences },
          exit.level,
          bits,
          threshold,
        );
        let exited = 0;
        for (let i = 0; i < n; i++) exited += answers.exited[i]!;
        splitWithExit.push({
          level: exit.level,
          bits,
          threshold,
          ...measured(countCorrect(answers.predicted, labels), n),
          exited,
          coverage: exited / n,
        });
      }
    log(
      `exit-${exit.level}: ${((correct / n) * 100).toFixed(2)}%  ` +
        thresholds
          .map(
            (t) =>
              `>=${t.threshold}: cov ${(t.coverage * 100).toFixed(1)}% acc ${(t.accuracy * 100).toFixed(2)}%`,
          )
          .join('  '),
    );
  }
  return {
    total: n,
    full: fullAcc,
    levels,
    earlyExits,
    splitWithExit,
    webpOffload,
    problems,
    predictions,
    margins,
    exitConfidences,
  };
}

export interface SplitWithExitAnswers {
  /** Final answer per image: the exit's where it was confident enough, else the tail's. */
  predicted: Uint8Array;
  /** 1 where the exit answered (confidence >= threshold on the float bottleneck), else 0. */
  exited: Uint8Array;
  /** Top-1 minus top-2 logit of whichever model answered. */
  margins: Float32Array;
  /** Per image: the exit's confidence minus the threshold, how close the exit decision was. */
  thresholdMargins: Float32Array;
}

/**
 * What split mode with an early exit answers per image: head -> exit on the float bottleneck;
 * at confidence >= threshold the exit's class, otherwise head -> quantize at `bits` -> tail, exactly
 * as the device and the tail server run it.
 */
export function splitWithExitAnswers(
  result: Pick<EvalResult, 'predictions' | 'margins' | 'exitConfidences'>,
  levelId: string,
  bits: number,
  threshold: number,
): SplitWithExitAnswers {
  const tail = result.predictions[`${levelId}-b${bits}`];
  const tailMargins = result.margins[`${levelId}-b${bits}`];
  const exit = result.predictions[`exit-${levelId}`];
  const exitMargins = result.margins[`exit-${levelId}`];
  const confidence = result.exitConfidences[`exit-${levelId}`];
  if (!tail || !tailMargins || !exit || !exitMargins || !confidence)
    throw new Error(`no evaluation of ${levelId} at ${bits} bits with its exit`);
  const n = tail.length;
  const answers: SplitWithExitAnswers = {
    predicted: new Uint8Array(n),
    exited: new Uint8Array(n),
    margins: new Float32Array(n),
    thresholdMargins: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const exits = confidence[i]! >= threshold;
    answers.exited[i] = exits ? 1 : 0;
    answers.predicted[i] = exits ? exit[i]! : tail[i]!;
    answers.margins[i] = exits ? exitMargins[i]! : tailMargins[i]!;
    answers.thresholdMargins[i] = confidence[i]! - threshold;
  }
  return answers;
}

/** Writes the measured accuracies into the manifest (in place). */
export function applyResults(manifest: ModelManifest, result: EvalResult): void {
  manifest.full.accuracy = result.full;
  for (const r of result.levels) {
    const level = manifest.levels.find((l) => l.id === r.id)!;
    level.float = r.float;
    level.bits = r.bits.map((b) => ({
      bits: b.bits,
      payloadBytes: b.payloadBytes,
      correct: b.correct,
      total: b.total,
      accuracy: b.accuracy,
    }));
  }
  for (const r of result.earlyExits) {
    const exit = manifest.earlyExits.find((e) => e.level === r.level)!;
    exit.accuracy = r.accuracy;
    exit.thresholds = r.thresholds.map((t) => ({
      threshold: t.threshold,
      coverage: t.coverage,
      accuracy: t.accuracy,
    }));
  }
  if (result.splitWithExit.length) manifest.splitWithExit = result.splitWithExit.map((e) => ({ ...e }));
  if (result.webpOffload.length) manifest.webpOffload = result.webpOffload.map((e) => ({ ...e }));
}

export interface Comparison {
  config: string;
  manifest: number;
  measured: number;
  manifestTotal: number;
  measuredTotal: number;
  tolerance: number;
  ok: boolean;
}

/**
 * Compares measured accuracies with the manifest's. When both cover the same images the tolerance
 * is 0.05 points; when the measurement covers fewer images (--limit) than the manifest, the numbers
 * are checked against a statistical bound (4 standard errors of the subset + 0.05 points).
 */
export function compare(manifest: ModelManifest, result: EvalResult): Comparison[] {
  const rows: Comparison[] = [];
  const add = (config: string, expected: number, expectedTotal: number, got: number, gotTotal: number) => {
    let tolerance = 0.0005;
    if (expectedTotal !== gotTotal) {
      const p = Math.min(Math.max(expected, 0.01), 0.99);
      tolerance += 4 * Math.sqrt((p * (1 - p)) / Math.max(gotTotal, 1));
    }
    rows.push({
      config,
      manifest: expected,
      measured: got,
      manifestTotal: expectedTotal,
      measuredTotal: gotTotal,
      tolerance,
      ok: Math.abs(expected - got) <= tolerance + 1e-12,
    });
  };
  add(
    'full',
    manifest.full.accuracy.accuracy,
    manifest.full.accuracy.total,
    result.full.accuracy,
    result.full.total,
  );
  for (const r of result.levels) {
    const level = manifest.levels.find((l) => l.id === r.id)!;
    add(`${r.id}-float`, level.float.accuracy, level.float.total, r.float.accuracy, r.float.total);
    for (const b of r.bits) {
      const entry = level.bits.find((e) => e.bits === b.bits);
      if (!entry) {
        rows.push({
          config: `${r.id}-b${b.bits}`,
          manifest: NaN,
          measured: b.accuracy,
          manifestTotal: 0,
          measuredTotal: b.total,
          tolerance: 0,
          ok: false,
        });
        continue;
      }
      add(`${r.id}-b${b.bits}`, entry.accuracy, entry.total, b.accuracy, b.total);
      if (entry.payloadBytes !== b.payloadBytes) {
        rows.push({
          config: `${r.id}-b${b.bits} payloadBytes`,
          manifest: entry.payloadBytes,
          measured: b.payloadBytes,
          manifestTotal: 0,
          measuredTotal: 0,
          tolerance: 0,
          ok: false,
        });
      }
    }
  }
  for (const r of result.earlyExits) {
    const exit = manifest.earlyExits.find((e) => e.level === r.level)!;
    const total = manifest.full.accuracy.total;
    add(`exit-${r.level}`, exit.accuracy, total, r.accuracy, r.total);
    for (const t of r.thresholds) {
      const m = exit.thresholds.find((e) => e.threshold === t.threshold)!;
      add(`exit-${r.level} cov@${t.threshold}`, m.coverage, total, t.coverage, r.total);
      if (t.covered > 0)
        add(
          `exit-${r.level} acc@${t.threshold}`,
          m.accuracy,
          Math.round(m.coverage * total),
          t.accuracy,
          t.covered,
        );
    }
  }
  const missing = (config: string, got: number, gotTotal: number) =>
    rows.push({
      config,
      manifest: NaN,
      measured: got,
      manifestTotal: 0,
      measuredTotal: gotTotal,
      tolerance: 0,
      ok: false,
    });
  for (const r of result.splitWithExit) {
    const config = `${r.level}-b${r.bits}-x${r.threshold}`;
    const m = manifest.splitWithExit?.find(
      (e) => e.level === r.level && e.bits === r.bits && e.threshold === r.threshold,
    );
    if (!m) {
      missing(config, r.accuracy, r.total);
      continue;
    }
    add(config, m.accuracy, m.total, r.accuracy, r.total);
    add(`${config} coverage`, m.coverage, m.total, r.coverage, r.total);
  }
  for (const r of result.webpOffload) {
    const config = `webp-q${r.quality}`;
    const m = manifest.webpOffload?.find((e) => e.quality === r.quality);
    if (!m) {
      missing(config, r.accuracy, r.total);
      continue;
    }
    add(config, m.accuracy, m.total, r.accuracy, r.total);
  }
  return rows;
}
