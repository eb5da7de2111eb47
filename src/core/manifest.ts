/**
 * The model bundle's manifest: what the training pipeline (training/) writes next to the
 * exported ONNX files, and what the browser, the tail server and the evaluator read.
 *
 * Accuracies are measured by running the exported ONNX files (server/eval), never the
 * PyTorch modules, so that the numbers the app shows are those of the graphs it runs.
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
