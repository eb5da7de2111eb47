/**
 * The model bundle's manifest: what the training pipeline (training/) writes next to the
 * exported ONNX files, and what the browser, the tail server and the evaluator read.
 *
 * Accuracies are measured by running the exported ONNX files (server/eval), never the
 * PyTorch modules, so that the numbers the app shows are those of the graphs it runs. Training
 * writes the structure with zero figures and then runs the Node evaluator with --write, which fills
 * them in, including the split-with-exit and WebP offload tables.
 */

export const MANIFEST_SCHEMA_VERSION = 1;

/** An ONNX file of the bundle, with its tensor names. */
export interface ModelFile {
  /** File name, relative to the folder it lives in (public/models/<bundle>/ or server/models/<bundle>/). */
  file: string;
  /** Exact size of the file in bytes. */
  bytes: number;
  /** Parameter count of the module it was exported from. */
  params: number;
  input: string;
  output: string;
}

/** Accuracy of one configuration measured on the test images by running ONNX. */
export interface MeasuredAccuracy {
  /** Correct top-1 answers. */
  correct: number;
  /** Images evaluated (10 000 for the full table). */
  total: number;
  /** correct / total, as a fraction in [0,1]. */
  accuracy: number;
}

export interface BitsEntry extends MeasuredAccuracy {
  bits: number;
  /** ceil(elements * bits / 8): bytes of packed codes per image. */
  payloadBytes: number;
}

/** How the tail was fine-tuned in stage 2; both are measured, the better is shipped. */
export type Stage2Variant = 'whole-network' | 'frozen-head';

export interface LevelEntry {
  /** Stable identifier, e.g. "c4" for a 4-channel bottleneck. */
  id: string;
  /** Bottleneck shape without the batch dimension: [channels, height, width]. */
  bottleneckShape: [number, number, number];
  /** channels * height * width. */
  elements: number;
  /** image -> bottleneck values in [0,1]. Served to the device from public/. */
  head: ModelFile;
  /** dequantized bottleneck -> logits. Read only by the server, from server/models/. */
  tail: ModelFile;
  /** Which stage-2 variant these files are. */
  stage2: Stage2Variant;
  /** Unquantized (float) bottleneck accuracy, measured with ONNX. */
  float: MeasuredAccuracy;
  /** One entry per bit-width 1..8, measured with ONNX and the shared codec. */
  bits: BitsEntry[];
  /**
   * The stage-2 variants trained for this level, per bit-width, as measured at training time
   * (PyTorch, with the same quantization), so the report can show what freezing the head costs.
   * Levels outside the training run's ablation list have only the shipped variant.
   */
  ablation?: Partial<Record<Stage2Variant, { bits: number; accuracy: number }[]>>;
}

export interface EarlyExitThreshold {
  threshold: number;
  /** Fraction of test images whose confidence is >= threshold (answered on the device). */
  coverage: number;
  /** Accuracy on those covered images. */
  accuracy: number;
}

export interface EarlyExitEntry {
  /** Level whose bottleneck it reads. */
  level: string;
  /**
   * Which bottleneck it reads: the head's float output, before quantization (its accuracy and
   * threshold tables are measured on that, and the device runs it on that).
   */
  bottleneck: 'float';
  /** ONNX file name, served to the device from public/ next to the heads. */
  file: string;
  bytes: number;
  params: number;
  input: string;
  /** Output names: logits and a confidence in [0,1]. */
  outputs: { logits: string; confidence: string };
  /** Accuracy over all images, ignoring the threshold. */
  accuracy: number;
  thresholds: EarlyExitThreshold[];
}

/**
 * Split at a level and bit-width with that level's early exit at a threshold, measured end to end
 * as the app runs it: head -> exit on the float bottleneck; an image whose confidence is >= the
 * threshold is answered by the exit on the device, the rest go head -> quantize -> pack -> unpack ->
 * dequantize -> tail. `correct`/`accuracy` count the final answers over all `total` images.
 */
export interface SplitWithExitEntry extends MeasuredAccuracy {
  level: string;
  bits: number;
  /** One of the exit's `thresholds`. */
  threshold: number;
  /** Images the exit answered on the device (confidence >= threshold). */
  exited: number;
  /** exited / total: the share of images that send nothing. */
  coverage: number;
}

/**
 * Offload of lossy WebP at one quality, measured end to end: each test image encoded as the page
 * encodes it, stripped to the simple format (src/core/webp.ts), decoded as the tail server decodes
 * it (sharp, to 8-bit grey) and classified by the full model.
 */
export interface WebpOffloadEntry extends MeasuredAccuracy {
  /** The page's WebP quality, 1..100 (the canvas encoder gets quality / 100). */
  quality: number;
  /** Mean bytes of one image as sent (simple-format WebP). */
  bytesPerImage: number;
  /** How the images were encoded for this measurement, in words. */
  encoder: string;
}

export interface QuantizationConvention {
  /** Human-readable formula. */
  formula: string;
  /** How x*(2^b-1) is rounded: half up is floor(v + 0.5). */
  rounding: 'half-up';
  /** Inputs are clamped to this range before quantization. */
  clamp: [number, number];
  minBits: number;
  maxBits: number;
}

export interface ModelManifest {
  schemaVersion: number;
  bundleId: string;
  dataset: { name: string; testImages: number; trainImages: number };
  input: {
    name: string;
    /** [batch, channels, height, width]; batch is dynamic and written as -1. */
    shape: [number, number, number, number];
    dtype: 'float32';
    /** Pixels are byte/255, so values lie in [0,1]. */
    valueRange: [number, number];
    /** Normalisation applied INSIDE the graphs; clients only divide by 255. */
    normalization: { mean: number; std: number; insideGraph: true };
  };
  classes: string[];
  quantization: QuantizationConvention;
  full: ModelFile & { accuracy: MeasuredAccuracy };
  levels: LevelEntry[];
  earlyExits: EarlyExitEntry[];
  /**
   * Every level with an exit × bit-width × exit threshold, measured by the Node evaluator
   * (server/eval, `npm run eval:models -- --write`); absent in a manifest it has not measured.
   */
  splitWithExit?: SplitWithExitEntry[];
  /** WebP offload at the qualities measured by the Node evaluator; absent likewise. */
  webpOffload?: WebpOffloadEntry[];
  training: {
    seed: number;
    commit: string;
    torchVersion: string;
    opset: number;
    durationSeconds: number;
    epochs: Record<string, number>;
    quick: boolean;
    /** Levels whose frozen-head (BottleFit) variant was trained too. */
    ablationLevels?: string[];
    /** Relative sampling weights of bit-widths 1..8 in quantization-aware training. */
    bitWeights?: number[];
  };
}

/** Identifier of one split configuration: a level at a bit-width, e.g. "c4-b2". */
export type SplitConfigId = `${string}-b${number}`;

export function splitConfigId(levelId: string, bits: number): SplitConfigId {
  return `${levelId}-b${bits}`;
}

export function parseSplitConfigId(id: string): { levelId: string; bits: number } | null {
  const match = /^([A-Za-z0-9_]+)-b([1-8])$/.exec(id);
  if (!match) return null;
  return { levelId: match[1]!, bits: Number(match[2]) };
}

/** Bytes of packed codes for one image: ceil(elements * bits / 8). */
export function payloadBytesPerImage(elements: number, bits: number): number {
  return Math.ceil((elements * bits) / 8);
}

// ---------------------------------------------------------------------------------------------
// Validation of the measured composite configurations

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

type Measured = Pick<ModelManifest, 'levels' | 'earlyExits' | 'quantization'> &
  Partial<Pick<ModelManifest, 'splitWithExit' | 'webpOffload'>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isFraction = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
/** A stored fraction must be its counts' quotient (JSON round-trips doubles exactly). */
const agrees = (fraction: number, count: number, total: number) => Math.abs(fraction - count / total) <= 1e-9;

/** Problems of a `correct`/`total`/`accuracy` triple, each prefixed with `where`. */
function accuracyProblems(entry: Record<string, unknown>, where: string): string[] {
  const { correct, total, accuracy } = entry;
  if (!isCount(total) || total === 0) return [`${where}: total must be a positive integer`];
  if (!isCount(correct) || correct > total) return [`${where}: correct must be an integer in 0..total`];
  if (!isFraction(accuracy) || !agrees(accuracy, correct, total))
    return [`${where}: accuracy must equal correct / total`];
  return [];
}

/**
 * Every defect of the manifest's `splitWithExit` and `webpOffload` tables: an entry that is not an
 * object, names a level without an exit, a bit-width outside the quantization range or a threshold
 * the exit's table lacks, has counts that do not add up or fractions that are not their quotients,
 * or repeats a configuration. Empty when both are absent or sound.
 */
export function measuredConfigProblems(manifest: Measured): string[] {
  const problems: string[] = [];
  const { splitWithExit, webpOffload } = manifest as { splitWithExit?: unknown; webpOffload?: unknown };
  if (splitWithExit !== undefined) {
    if (!Array.isArray(splitWithExit)) problems.push('splitWithExit: must be an array');
    else {
      const seen = new Set<string>();
      splitWithExit.forEach((entry: unknown, i) => {
        const where = `splitWithExit[${i}]`;
        if (!isRecord(entry)) return problems.push(`${where}: must be an object`);
        const { level, bits, threshold, exited, coverage } = entry;
        const exit = (manifest.earlyExits ?? []).find((e) => e.level === level);
        if (typeof level !== 'string' || !exit || !(manifest.levels ?? []).some((l) => l.id === level))
          return problems.push(`${where}: level ${String(level)} has no early exit in this manifest`);
        const { minBits, maxBits } = manifest.quantization ?? { minBits: 1, maxBits: 8 };
        if (!Number.isInteger(bits) || (bits as number) < minBits || (bits as number) > maxBits)
          return problems.push(`${where}: bits must be an integer in ${minBits}..${maxBits}`);
        if (typeof threshold !== 'number' || !exit.thresholds.some((t) => t.threshold === threshold))
          return problems.push(`${where}: threshold ${String(threshold)} is not in exit-${level}'s table`);
        const counts = accuracyProblems(entry, where);
        if (counts.length) return problems.push(...counts);
        const total = entry.total as number;
        if (!isCount(exited) || exited > total)
          return problems.push(`${where}: exited must be an integer in 0..total`);
        if (!isFraction(coverage) || !agrees(coverage, exited, total))
          return problems.push(`${where}: coverage must equal exited / total`);
        const id = `${level}-b${bits as number}-x${threshold}`;
        if (seen.has(id)) return problems.push(`${where}: ${id} appears twice`);
        seen.add(id);
        return undefined;
      });
    }
  }
  if (webpOffload !== undefined) {
    if (!Array.isArray(webpOffload)) problems.push('webpOffload: must be an array');
    else {
      const seen = new Set<number>();
      webpOffload.forEach((entry: unknown, i) => {
        const where = `webpOffload[${i}]`;
        if (!isRecord(entry)) return problems.push(`${where}: must be an object`);
        const { quality, bytesPerImage, encoder } = entry;
        if (!Number.isInteger(quality) || (quality as number) < 1 || (quality as number) > 100)
          return problems.push(`${where}: quality must be an integer in 1..100`);
        const counts = accuracyProblems(entry, where);
        if (counts.length) return problems.push(...counts);
        if (typeof bytesPerImage !== 'number' || !Number.isFinite(bytesPerImage) || bytesPerImage <= 0)
          return problems.push(`${where}: bytesPerImage must be a positive number`);
        if (typeof encoder !== 'string' || encoder.trim() === '')
          return problems.push(`${where}: encoder must say how the images were encoded`);
        if (seen.has(quality as number))
          return problems.push(`${where}: quality ${String(quality)} appears twice`);
        seen.add(quality as number);
        return undefined;
      });
    }
  }
  return problems;
}

/** Throws a ManifestError naming every defect of the measured tables (see measuredConfigProblems). */
export function validateMeasuredConfigs(manifest: Measured, name = 'manifest.json'): void {
  const problems = measuredConfigProblems(manifest);
  if (problems.length) throw new ManifestError(`${name}: ${problems.join('; ')}`);
}
