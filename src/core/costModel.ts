/**
 * The cost model: for every candidate way of answering the next request of k images (on-device;
 * offload PNG or WebP; split at each level × bit-width, with or without an early exit), the
 * latency distribution it predicts (median and 90th percentile) from live measurements only.
 *
 * A request's total is the sum of its phases (src/core/record.ts), and each phase is predicted
 * from what was measured for it:
 * - device compute per model ("full", "head-c4", "exit-c4") and batch size at the current
 *   emulated slowdown (other slowdowns are scaled by the factor, other batch sizes by the batch);
 * - encode time per image (codes, PNG, WebP);
 * - uplink: the message's wire bytes cost floor(n/1500)+1 quanta of DevTools' throttle, each
 *   1500·8/uplinkBps long; the first one waits for the throttle's own quantum clock, anything
 *   from 0 to 1 quantum (the phase), taken from this candidate's own recent replies when it has
 *   enough of them, uniform otherwise;
 * - server queue + compute per server model and batch size, downlink and the device's hand-over
 *   overhead, from recent replies;
 * - for an early exit, the number of images that leave early is binomial with the manifest's
 *   coverage at the threshold; a request whose images all exit sends nothing.
 *
 * The distribution is a Monte Carlo sum of independent draws from those measurements with a fixed
 * seed per candidate, so a prediction is repeatable. Framework-free; the engine feeds it.
 */
import type { ModelManifest } from './manifest';
import { payloadBytesPerImage } from './manifest';
import type { InferenceRecord } from './record';
import type { BandwidthEstimate } from './uplinkEstimator';
import { mulberry32 } from './sampling';
import { quantile, THROTTLE_QUANTUM_BYTES } from './stats';

export type Candidate =
  | { kind: 'on-device' }
  | { kind: 'offload'; format: 'png' }
  | { kind: 'offload'; format: 'webp'; quality: number }
  | { kind: 'split'; levelId: string; bits: number; exitThreshold: number | null };

/** The candidate's id, equal to the `config` of the records it produces. */
export function candidateId(candidate: Candidate): string {
  switch (candidate.kind) {
    case 'on-device':
      return 'full';
    case 'offload':
      return candidate.format === 'webp' ? `webp-q${candidate.quality}` : 'png';
    case 'split':
      return splitCandidateId(candidate.levelId, candidate.bits, candidate.exitThreshold);
  }
}

export function splitCandidateId(levelId: string, bits: number, exitThreshold: number | null): string {
  return exitThreshold === null ? `${levelId}-b${bits}` : `${levelId}-b${bits}-x${exitThreshold}`;
}

/** The parts of the manifest the cost model reads. */
export type CostManifest = Pick<ModelManifest, 'levels' | 'earlyExits' | 'quantization'>;

/** Every candidate of a bundle: on-device, PNG, WebP, and each level × bit-width × (no exit, each threshold). */
export function allCandidates(manifest: CostManifest, webpQuality = 50): Candidate[] {
  const candidates: Candidate[] = [
    { kind: 'on-device' },
    { kind: 'offload', format: 'png' },
    { kind: 'offload', format: 'webp', quality: webpQuality },
  ];
  for (const level of manifest.levels) {
    const exit = manifest.earlyExits.find((entry) => entry.level === level.id);
    for (let bits = manifest.quantization.minBits; bits <= manifest.quantization.maxBits; bits++) {
      candidates.push({ kind: 'split', levelId: level.id, bits, exitThreshold: null });
      for (const { threshold } of exit?.thresholds ?? [])
        candidates.push({ kind: 'split', levelId: level.id, bits, exitThreshold: threshold });
    }
  }
  return candidates;
}

/** Device models a candidate runs, in order. */
/** Quantum (ms) from which the lock to the throttle's clock prices even a candidate with its own phases. */
const LOCK_MIN_QUANTUM_MS = 20;

/** The pseudo-model the device's work around its model runs is filed under. */
export function deviceWorkOf(candidate: Candidate): string {
  return candidate.kind === 'on-device' ? 'work-on-device' : 'work-split';
}

export function deviceModelsOf(candidate: Candidate): string[] {
  if (candidate.kind === 'on-device') return ['full'];
  if (candidate.kind === 'offload') return [];
  return candidate.exitThreshold === null
    ? [`head-${candidate.levelId}`]
    : [`head-${candidate.levelId}`, `exit-${candidate.levelId}`];
}

export interface UplinkInput {
  /** The estimator's uplink, bit/s; null when it does not know. */
  bps: number | null;
  /** Its relative standard uncertainty (0.1 = ±10%), when the estimator states one. */
  relativeUncertainty?: number;
}

/**
 * What the cost model is told of the uplink: the estimate, or its lower bound when only that is
 * known, with the interval's half-width as its uncertainty, or the slow side's alone when that is
 * narrower. A clock that fits the arrivals as well at half its period (every tick of Q is one of
 * Q/2) reads e.g. 63.7-128 kbit/s around 64: the link may be faster, which only answers sooner,
 * but it is not slower. Spread ±50% both ways, every split that sends priced past 260 ms at 8×
 * (p90; locked at ~190 ms it ran) and auto went to an exit that sends nothing half the time.
 */
export function uplinkInputOf(
  estimate: Pick<BandwidthEstimate, 'uplinkBps' | 'uplinkLowBps' | 'uplinkRelativeUncertainty'>,
): UplinkInput {
  const bps = estimate.uplinkBps ?? estimate.uplinkLowBps;
  if (bps === null) return { bps: null };
  if (estimate.uplinkRelativeUncertainty === null) return { bps };
  const slowSide =
    estimate.uplinkBps !== null && estimate.uplinkLowBps !== null && estimate.uplinkLowBps > 0
      ? Math.max(0, estimate.uplinkBps / estimate.uplinkLowBps - 1)
      : Number.POSITIVE_INFINITY;
  return { bps, relativeUncertainty: Math.min(estimate.uplinkRelativeUncertainty, slowSide) };
}

export interface PredictionContext {
  /** Images in the next request. */
  images: number;
  /** Emulated device slowdown factor the device runs at now. */
  slowdown: number;
  uplink: UplinkInput;
  /**
   * The run keeps one request in flight, back to back, as fast as replies allow: a request that
   * starts right after a reply to a message the throttle released on one of its ticks sends its own
   * on the first tick after its device work. A candidate is priced as it runs for a while: locked
   * whenever its previous request sent a message (always without an exit; with one, unless all its
   * images exited), at a uniform phase otherwise. Not by whether the request before this decision
   * sent one: after requests that an exit answered whole, a split without an exit priced at a
   * uniform phase (p90 ~340 ms at 8× and 64 kbit/s) looked as late as the exit, and auto stayed on
   * the exit, where it runs locked at ~190 ms.
   */
  tickAligned?: boolean;
}

export interface PhaseMedians {
  deviceMs: number;
  encodeMs: number;
  uplinkMs: number;
  serverMs: number;
  downlinkMs: number;
  overheadMs: number;
}

export interface Prediction {
  ok: true;
  candidate: string;
  medianMs: number;
  p90Ms: number;
  /** Each phase's own median (they need not add up to the total's median). */
  phases: PhaseMedians;
  /** Median wire bytes of the request (0 when everything exits). */
  wireBytes: number;
  /** Expected share of images answered by the early exit (0 without one). */
  exitShare: number;
  /**
   * When an image of the request is answered, as ANSWER_QUANTILES of its distribution (ms): an
   * image the exit answers at the end of the device work, any other at the request's end. What
   * share of a candidate's images meets a target (`answeredWithin`): for an exit the request's
   * total says little, since most of its images never wait for the network.
   */
  answerMsQuantiles?: readonly number[];
  /** Inputs that were not measured as such but derived: "full at 8× scaled from 1×". */
  assumptions: string[];
}

/**
 * The engine re-measures device models that no running candidate keeps current (src/app/engine.ts,
 * refreshStaleDeviceCost), and the simulator does as it does: a model not run at the current size
 * and slowdown for DEVICE_COST_MAX_AGE_MS is run again, within DEVICE_REFRESH_BUDGET of the run's
 * time.
 */
export const DEVICE_COST_MAX_AGE_MS = 20_000;
export const DEVICE_REFRESH_BUDGET = 0.03;

/**
 * Monte Carlo draws per prediction, in the page and in the simulator alike. Auto prices ~150
 * candidates several times a second on the page's main thread, where the emulated slowdown's pacer
 * also runs: at 400 draws, live auto at 8× on TMobile-UMTS-driving had device phases of 105-150 ms
 * where the same heads took 84-117 ms in static runs, and made 492 requests in 120 s where the
 * simulator, at 200, made 884.
 */
export const PRICING_DRAWS = 200;

/** The quantiles `answerMsQuantiles` holds: 0, 0.05, …, 1. */
export const ANSWER_QUANTILES: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * The share of a candidate's images answered within `ms`, from its prediction's answer-time
 * quantiles (linear between them). A prediction without them (made by hand in a test) is read as
 * every image answered at the request's end, on the line through its median (0.5) and p90 (0.9).
 */
export function answeredWithin(prediction: Prediction, ms: number): number {
  const quantiles = prediction.answerMsQuantiles;
  if (!quantiles) {
    const spread = prediction.p90Ms - prediction.medianMs;
    if (!(spread > 0)) return ms >= prediction.medianMs ? 1 : 0;
    return Math.min(1, Math.max(0, 0.5 + (0.4 * (ms - prediction.medianMs)) / spread));
  }
  if (ms < quantiles[0]!) return 0;
  for (let i = quantiles.length - 1; i >= 0; i--) {
    const at = quantiles[i]!;
    if (ms < at) continue;
    const next = quantiles[i + 1];
    if (next === undefined) return 1;
    // Equal quantiles (a spike of the distribution) count whole at their value.
    return next === at
      ? ANSWER_QUANTILES[i + 1]!
      : ANSWER_QUANTILES[i]! + ((ANSWER_QUANTILES[i + 1]! - ANSWER_QUANTILES[i]!) * (ms - at)) / (next - at);
  }
  return 0;
}

export interface MissingInputs {
  ok: false;
  candidate: string;
  /** What the model would need to measure first. */
  missing: string[];
  /**
   * The request's wire bytes with every image sent, when they are known though the latency is not
   * (only the uplink estimate missing): what a request sent to measure the uplink would cost.
   */
  wireBytes?: number;
}

export type PredictionResult = Prediction | MissingInputs;

export interface MeasuredLatency {
  medianMs: number;
  p90Ms: number;
  requests: number;
}

const NO_VALUES: readonly number[] = [];

/** Quanta within about 10% of each other share a bucket (log base 1.1). */
function quantumBucket(quantumMs: number): number {
  return Math.round(Math.log(quantumMs) / Math.log(1.1));
}

/** Recent samples per key: the newest `capacity` of each. */
class SampleStore {
  private readonly values_ = new Map<string, number[]>();
  private readonly newest = new Map<string, number>();
  /** Keys by the family before their "@" (e.g. "server:tail-c4"), for the fallbacks' searches. */
  private readonly families = new Map<string, string[]>();

  constructor(private readonly capacity: number) {}

  add(key: string, value: number, at: number): void {
    if (!Number.isFinite(value)) return;
    let list = this.values_.get(key);
    if (!list) {
      this.values_.set(key, (list = []));
      const family = key.split('@')[0]!;
      this.families.set(family, [...(this.families.get(family) ?? []), key]);
    }
    list.push(value);
    if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
    this.newest.set(key, at);
  }

  /** The samples as stored (not a copy): callers only read them. */
  values(key: string): readonly number[] {
    return this.values_.get(key) ?? NO_VALUES;
  }

  newestAt(key: string): number | null {
    return this.newest.get(key) ?? null;
  }

  /** Keys of a family ("device:full", "server:tail-c4"), or of every family starting with `familyPrefix`. */
  keysOf(family: string, prefixOfFamilies = false): string[] {
    if (!prefixOfFamilies) return this.families.get(family) ?? [];
    return [...this.families.entries()]
      .filter(([name]) => name.startsWith(family))
      .flatMap(([, keys]) => keys);
  }

  /** Every key starting with `prefix` and its samples (copies), for inspection. */
  entries(prefix: string): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [key, values] of this.values_) if (key.startsWith(prefix)) out[key] = [...values];
    return out;
  }

  /** Forgets one key, or everything. */
  clear(key?: string): void {
    if (key !== undefined) {
      this.values_.delete(key);
      this.newest.delete(key);
      const family = key.split('@')[0]!;
      this.families.set(
        family,
        (this.families.get(family) ?? []).filter((other) => other !== key),
      );
      return;
    }
    this.values_.clear();
    this.newest.clear();
    this.families.clear();
  }
}

/** A draw from a set of values: the values as they are, or scaled. */
interface Draws {
  values: readonly number[];
  scale: number;
}

const draw = (draws: Draws, random: () => number): number =>
  draws.values[Math.floor(random() * draws.values.length)]! * draws.scale;

function seedOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface CostModelOptions {
  /** Monte Carlo draws per prediction. */
  draws?: number;
  /** Samples kept per measured quantity. */
  window?: number;
  /** Replies a candidate needs before its own quantum phase replaces the uniform one. */
  phaseSamples?: number;
}

/** The server model that answers a record: the tail of its level, or the full model behind a decoder. */
function serverModelOf(mode: InferenceRecord['mode'], config: string): string | null {
  if (mode === 'offload') return `offload-${config}`;
  if (mode === 'split') return `tail-${config.split('-b')[0]}`;
  return null;
}

function encodeKindOf(mode: InferenceRecord['mode'], config: string): string | null {
  if (mode === 'offload') return config;
  if (mode === 'split') return 'codes';
  return null;
}

/** Linear-interpolated quantile of values sorted ascending (as src/core/stats.ts quantile). */
function sortedQuantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! * (1 - (position - lower)) + sorted[upper]! * (position - lower);
}

/**
 * sortedQuantile of `values` without sorting them (it reorders them in place): the two order
 * statistics the quantile interpolates, by selection.
 */
export function selectedQuantile(values: Float64Array, q: number): number {
  if (values.length === 0) return Number.NaN;
  const position = q * (values.length - 1);
  const lower = Math.floor(position);
  const low = selectInPlace(values, lower);
  if (position === lower) return low;
  // Everything after `lower` is at least as large now: the next order statistic is their minimum.
  let high = Number.POSITIVE_INFINITY;
  for (let i = lower + 1; i < values.length; i++) if (values[i]! < high) high = values[i]!;
  return low * (1 - (position - lower)) + high * (position - lower);
}

/** The k-th smallest of `values` (Hoare's selection, in place): left of k nothing larger, right nothing smaller. */
function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k]!;
}

/** One Monte Carlo draw of a request's phases, filled in place. */
type PhaseDraw = PhaseMedians & { wireBytes: number };

interface DrawColumns {
  totals: Float64Array;
  deviceMs: Float64Array;
  encodeMs: Float64Array;
  uplinkMs: Float64Array;
  serverMs: Float64Array;
  downlinkMs: Float64Array;
  overheadMs: Float64Array;
  wireBytes: Float64Array;
}

function newColumns(draws: number): DrawColumns {
  const column = () => new Float64Array(draws);
  return {
    totals: column(),
    deviceMs: column(),
    encodeMs: column(),
    uplinkMs: column(),
    serverMs: column(),
    downlinkMs: column(),
    overheadMs: column(),
    wireBytes: column(),
  };
}

/** A draw that sends nothing: the device's work and its own overhead. */
function fillLocal(out: PhaseDraw, deviceMs: number, overheadMs: number): void {
  out.deviceMs = deviceMs;
  out.encodeMs = 0;
  out.uplinkMs = 0;
  out.serverMs = 0;
  out.downlinkMs = 0;
  out.overheadMs = overheadMs;
  out.wireBytes = 0;
}

/** The sum of one draw from each of `parts` in order (an unmeasured part adds nothing). */
function drawSum(parts: readonly (Draws | null)[], random: () => number): number {
  let sum = 0;
  for (const part of parts) sum += part ? draw(part, random) : 0;
  return sum;
}

/**
 * Quantiles of the mixture of two sorted samples, the first weighted `firstShare` and the second
 * the rest: when an image is answered, an exited one at the end of the device work and any other
 * at the request's end. A merge of the two sorted columns, no allocation: every candidate is priced
 * on the page's main thread several times a second (live at 8×, a sort of weighted objects per
 * candidate there stretched the paced device phase).
 */
function mixtureQuantiles(
  first: Float64Array,
  second: Float64Array,
  firstShare: number,
  qs: readonly number[],
): number[] {
  const a = firstShare <= 0 ? 0 : first.length;
  const b = firstShare >= 1 ? 0 : second.length;
  const weightA = a === 0 ? 0 : firstShare / a;
  const weightB = b === 0 ? 0 : (1 - firstShare) / b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  let cumulative = 0;
  let value = Number.NaN;
  for (const q of qs) {
    while ((i < a || j < b) && (cumulative < q - 1e-9 || Number.isNaN(value))) {
      if (j >= b || (i < a && first[i]! <= second[j]!)) {
        value = first[i++]!;
        cumulative += weightA;
      } else {
        value = second[j++]!;
        cumulative += weightB;
      }
    }
    out.push(value);
  }
  return out;
}

/** floor(n/1500)+1: the quanta DevTools' throttle charges one WebSocket message of n bytes. */
export function quantaOf(wireBytes: number): number {
  return Math.floor(wireBytes / THROTTLE_QUANTUM_BYTES) + 1;
}

/** One quantum's time on an uplink of `bps`. */
export function quantumMs(bps: number): number {
  return (THROTTLE_QUANTUM_BYTES * 8 * 1000) / bps;
}

export class CostModel {
  private readonly samples: SampleStore;
  private readonly draws: number;
  private readonly phaseSamples: number;
  /** Mean encoded bytes per image for offload formats (by config), as measured on the test set. */
  private readonly offloadImageBytes = new Map<string, number>();
  /** Scratch for `simulate`: the draws' columns and the draw being filled. */
  private columns: DrawColumns | null = null;
  private readonly sample: PhaseDraw = {
    deviceMs: 0,
    encodeMs: 0,
    uplinkMs: 0,
    serverMs: 0,
    downlinkMs: 0,
    overheadMs: 0,
    wireBytes: 0,
  };

  constructor(
    private readonly manifest: CostManifest,
    options: CostModelOptions = {},
  ) {
    this.draws = options.draws ?? 400;
    this.samples = new SampleStore(options.window ?? 30);
    this.phaseSamples = options.phaseSamples ?? 8;
  }

  // -----------------------------------------------------------------------------------------
  // Measurements in

  /**
   * The device phase's time outside its model runs for one request of `batch` images (already
   * slowed down as the models are), keyed like a model: "work-split", "work-on-device".
   */
  addDeviceWork(candidate: Candidate, batch: number, slowdown: number, ms: number, at: number): void {
    this.addDeviceRun(deviceWorkOf(candidate), batch, slowdown, ms, at);
  }

  /**
   * Measured in step with the throttle's clock: a request started `tickOffsetMs` after the tick
   * that released the previous message (its arrival at the server), and its own message took
   * `handOverMs` from the end of encoding to the socket.
   */
  observeTickLock(tickOffsetMs: number, handOverMs: number, at: number): void {
    if (!(tickOffsetMs >= 0) || !Number.isFinite(handOverMs)) return;
    if (this.samples.values('tick-offset:measured').length === 0) this.samples.clear('tick-offset');
    this.samples.add('tick-offset:measured', 1, at);
    this.samples.add('tick-offset', tickOffsetMs, at);
    this.samples.add('hand-over', handOverMs, at);
  }

  /** One timed run of a device model (already including the emulated slowdown's repeats). */
  addDeviceRun(model: string, batch: number, slowdown: number, ms: number, at: number): void {
    this.samples.add(`device:${model}@${batch}@${slowdown}`, ms, at);
  }

  /** Mean encoded size of one test image in an offload format ("png", "webp-q50"). */
  setOffloadImageBytes(config: string, bytesPerImage: number): void {
    if (Number.isFinite(bytesPerImage) && bytesPerImage > 0)
      this.offloadImageBytes.set(config, bytesPerImage);
  }

  /**
   * Everything a finished request measured beyond device compute: encode time, wire bytes, the
   * uplink's quantum phase, server time, downlink, hand-over overhead, and the total.
   * `uplinkBps` is the estimate when the request was sent.
   */
  observeRecord(record: InferenceRecord, uplinkBps: number | null): void {
    if (!record.ok) return;
    const at = record.startedAt + record.phases.totalMs;
    const k = record.images.length;
    const slowdown = record.slowdown ?? 1;
    const p = record.phases;
    this.samples.add(`total:${record.config}@${k}@${slowdown}`, p.totalMs, at);
    const sent = record.images.filter((image) => !image.earlyExit).length;
    if (record.mode === 'on-device' || sent === 0 || record.requestId === 0) {
      this.samples.add('overhead:local', p.overheadMs, at);
      return;
    }
    const encodeKind = encodeKindOf(record.mode, record.config);
    if (encodeKind) this.samples.add(`encode:${encodeKind}`, p.encodeMs / sent, at);
    this.samples.add(`wire:${record.config}@${sent}`, record.wireBytes, at);
    this.samples.add(`framing:${record.mode}@${sent}`, record.wireBytes - record.payloadBytes, at);
    this.samples.add(`framing:${record.mode}`, (record.wireBytes - record.payloadBytes) / sent, at);
    const serverModel = serverModelOf(record.mode, record.config);
    if (serverModel)
      this.samples.add(`server:${serverModel}@${sent}`, p.serverQueueMs + p.serverComputeMs, at);
    this.samples.add('overhead:network', p.overheadMs, at);
    if (p.uplinkMs !== null && p.downlinkMs !== null) {
      this.samples.add('downlink', p.downlinkMs, at);
      // Until the engine measures it: from the tick that released this message to the start of the
      // next request, the server, the reply's way back and the hand-over back (about half the
      // device's overhead).
      if (this.samples.values('tick-offset:measured').length === 0)
        this.samples.add(
          'tick-offset',
          p.serverQueueMs + p.serverComputeMs + p.downlinkMs + p.overheadMs / 2,
          at,
        );
      if (uplinkBps !== null && uplinkBps > 0) {
        // Where in its first quantum the message started, in quanta: what the phase lock decides.
        const q = quantumMs(uplinkBps);
        const phase = (p.uplinkMs - (quantaOf(record.wireBytes) - 1) * q) / q;
        // Filed under the quantum it was measured against: a phase read against an estimate the
        // link has since left is no evidence about the link now (a 2 Mbit/s phase read at a
        // 64 kbit/s estimate clamps at 1.5 and would price every message half a quantum high).
        this.samples.add(
          `phase:${record.config}@${k}@${quantumBucket(q)}`,
          Math.min(Math.max(phase, 0), 1.5),
          at,
        );
      }
    }
  }

  clear(): void {
    this.samples.clear();
  }

  /** The samples the predictions rest on, by key ("device:head-c4@16@8", "server:tail-c4@16"). */
  samplesOf(prefix = ''): Record<string, number[]> {
    return this.samples.entries(prefix);
  }

  /** This candidate's phases measured against a quantum within a bucket of `q` (about ±15%). */
  private phasesNear(id: string, k: number, q: number): readonly number[] {
    const bucket = quantumBucket(q);
    const near: number[] = [];
    for (let b = bucket - 1; b <= bucket + 1; b++) near.push(...this.samples.values(`phase:${id}@${k}@${b}`));
    return near;
  }

  // -----------------------------------------------------------------------------------------
  // What is current

  /** When `model` last ran at this batch and slowdown (device clock), or null if never. */
  lastDeviceRunAt(model: string, batch: number, slowdown: number): number | null {
    return this.samples.newestAt(`device:${model}@${batch}@${slowdown}`);
  }

  /**
   * Device models the candidates need that have no run at this batch and slowdown newer than
   * `maxAgeMs`, the stalest first: what to re-measure so their predictions stay current.
   */
  staleDeviceModels(
    candidates: readonly Candidate[],
    batch: number,
    slowdown: number,
    now: number,
    maxAgeMs: number,
  ): string[] {
    const models = new Set(candidates.flatMap(deviceModelsOf));
    return [...models]
      .map((model) => ({
        model,
        at: this.lastDeviceRunAt(model, batch, slowdown) ?? Number.NEGATIVE_INFINITY,
      }))
      .filter(({ at }) => now - at > maxAgeMs)
      .sort((a, b) => a.at - b.at)
      .map(({ model }) => model);
  }

  /** The measured totals of the candidate's recent requests of k images at this slowdown. */
  measured(candidate: string, images: number, slowdown: number): MeasuredLatency | null {
    const totals = this.samples.values(`total:${candidate}@${images}@${slowdown}`);
    if (totals.length === 0) return null;
    return { medianMs: quantile(totals, 0.5), p90Ms: quantile(totals, 0.9), requests: totals.length };
  }

  // -----------------------------------------------------------------------------------------
  // Predictions out

  predictAll(candidates: readonly Candidate[], context: PredictionContext): PredictionResult[] {
    return candidates.map((candidate) => this.predict(candidate, context));
  }

  predict(candidate: Candidate, context: PredictionContext): PredictionResult {
    const id = candidateId(candidate);
    const k = context.images;
    const missing: string[] = [];
    const assumptions: string[] = [];

    const device = deviceModelsOf(candidate).map((model) =>
      this.deviceDraws(model, k, context.slowdown, missing, assumptions),
    );
    // The device's own work around its model runs (inputs, copies, the exit's gate), which an
    // emulated slower device also does k times slower.
    if (candidate.kind !== 'offload') {
      const unmeasured: string[] = [];
      const work = this.deviceDraws(deviceWorkOf(candidate), k, context.slowdown, unmeasured, assumptions);
      if (work) device.push(work);
      else assumptions.push('device work outside the models not measured: taken as 0');
    }
    if (candidate.kind === 'on-device') {
      const overhead = this.optionalDraws('overhead:local', 'device overhead', assumptions);
      if (missing.length > 0) return { ok: false, candidate: id, missing };
      return this.simulate(
        id,
        () => {
          const random = mulberry32(seedOf(id));
          return (out) => fillLocal(out, drawSum(device, random), draw(overhead, random));
        },
        0,
        assumptions,
      );
    }

    const exitShare = candidate.kind === 'split' ? this.exitShare(candidate, missing) : 0;
    const { bps, relativeUncertainty = 0 } = context.uplink;
    if (bps === null || !(bps > 0)) missing.push('uplink estimate');
    const encodeKind = candidate.kind === 'offload' ? id : 'codes';
    const encode = this.samples.values(`encode:${encodeKind}`);
    if (encode.length === 0) {
      if (candidate.kind === 'offload') missing.push(`encode time of ${id}`);
      else assumptions.push('encode time of codes not measured: taken as 0');
    }
    const mode = candidate.kind === 'offload' ? 'offload' : 'split';
    const serverModel = serverModelOf(mode, id)!;
    const localOverhead = this.optionalDraws('overhead:local', 'device overhead', assumptions);
    const networkOverhead = this.optionalDraws('overhead:network', 'hand-over overhead', assumptions);
    const downlink = this.optionalDraws('downlink', 'downlink', assumptions);
    // Per number of images sent (k minus those that exit): wire bytes and server time. All k is
    // priced now, to know what is missing; smaller counts (they have the same fallbacks) when drawn.
    const bySent = new Map<number, { wire: Draws; server: Draws } | null>();
    const partsFor = (sent: number, report: boolean) => {
      let parts = bySent.get(sent);
      if (parts === undefined) {
        const wire = this.wireDraws(candidate, id, sent, mode, report ? missing : [], assumptions, report);
        const server = this.serverDraws(serverModel, sent, report ? missing : [], assumptions, report);
        parts = wire && server ? { wire, server } : null;
        bySent.set(sent, parts);
      }
      return parts;
    };
    const allSent = partsFor(k, true);
    if (missing.length > 0)
      return {
        ok: false,
        candidate: id,
        missing: [...new Set(missing)],
        ...(allSent ? { wireBytes: quantile(allSent.wire.values, 0.5) * allSent.wire.scale } : {}),
      };

    const q = quantumMs(bps!);
    const phases = this.phasesNear(id, k, q);
    const ownPhase = phases.length >= this.phaseSamples;
    // In step with the throttle's clock, the wait follows from the device work before it: a long
    // run leaves less of the quantum to wait. Drawing the two apart (the candidate's own phases)
    // would add their spreads as if independent.
    const tickOffsets = this.samples.values('tick-offset');
    const handOvers = this.samples.values('hand-over');
    // On a fast link (a quantum of a few ms) the clock offset's error (about a millisecond) is a
    // good share of the quantum, while the candidate's own phases carry none, and the lock moves a
    // request by a few ms at most: there its own phases, once it has them, price it better.
    const lockedPhase =
      context.tickAligned === true && tickOffsets.length > 0 && (!ownPhase || q >= LOCK_MIN_QUANTUM_MS);
    // The share of this candidate's requests that follow one that sent a message (all k images
    // exiting is what breaks the lock).
    const lockedShare = exitShare > 0 ? 1 - exitShare ** k : 1;
    if (lockedPhase) assumptions.push("quantum phase from the request cycle's lock to the throttle's clock");
    else if (!ownPhase)
      assumptions.push(
        'quantum phase uniform in [0, 1) (too few replies of this candidate at this bandwidth)',
      );
    return this.simulate(
      id,
      () => {
        const random = mulberry32(seedOf(id));
        return (out) => {
          const deviceMs = drawSum(device, random);
          let exited = 0;
          if (exitShare > 0) for (let i = 0; i < k; i++) if (random() < exitShare) exited++;
          const sent = k - exited;
          if (sent === 0) return fillLocal(out, deviceMs, draw(localOverhead, random));
          out.deviceMs = deviceMs;
          const parts = partsFor(sent, false)!;
          const wireBytes = Math.round(draw(parts.wire, random));
          const encodeMs = encode.length > 0 ? encode[Math.floor(random() * encode.length)]! * sent : 0;
          const overheadMs = draw(networkOverhead, random);
          const bandwidthFactor = Math.max(0.2, 1 + relativeUncertainty * normal(random));
          const tick = q * bandwidthFactor;
          let phase: number;
          if (lockedPhase && (lockedShare === 1 || random() < lockedShare)) {
            // Handed over this long after the tick the previous reply followed; it leaves on the next.
            const handOverMs =
              tickOffsets[Math.floor(random() * tickOffsets.length)]! +
              deviceMs +
              encodeMs +
              (handOvers.length > 0 ? handOvers[Math.floor(random() * handOvers.length)]! : overheadMs / 2);
            phase = 1 - (handOverMs / tick - Math.floor(handOverMs / tick));
          } else if (ownPhase) phase = phases[Math.floor(random() * phases.length)]!;
          else phase = random();
          out.encodeMs = encodeMs;
          out.uplinkMs = (quantaOf(wireBytes) - 1) * tick + phase * tick;
          out.serverMs = draw(parts.server, random);
          out.downlinkMs = draw(downlink, random);
          out.overheadMs = overheadMs;
          out.wireBytes = wireBytes;
        };
      },
      exitShare,
      assumptions,
    );
  }

  private simulate(
    id: string,
    makeSampler: () => (out: PhaseDraw) => void,
    exitShare: number,
    assumptions: string[],
  ): Prediction {
    const sampler = makeSampler();
    // One set of columns per model, reused by every candidate, and one draw filled in place: every
    // candidate is priced on the page's main thread several times a second, and allocating and
    // sorting eight columns per candidate took 40 ms a round of ~150 (live at 8×, between requests).
    const columns = (this.columns ??= newColumns(this.draws));
    const sample = this.sample;
    const { totals, deviceMs, encodeMs, uplinkMs, serverMs, downlinkMs, overheadMs, wireBytes } = columns;
    for (let i = 0; i < this.draws; i++) {
      sampler(sample);
      totals[i] =
        sample.deviceMs +
        sample.encodeMs +
        sample.uplinkMs +
        sample.serverMs +
        sample.downlinkMs +
        sample.overheadMs;
      deviceMs[i] = sample.deviceMs;
      encodeMs[i] = sample.encodeMs;
      uplinkMs[i] = sample.uplinkMs;
      serverMs[i] = sample.serverMs;
      downlinkMs[i] = sample.downlinkMs;
      overheadMs[i] = sample.overheadMs;
      wireBytes[i] = sample.wireBytes;
    }
    // Typed columns sort numerically without a comparator. Only the two the answer times merge
    // are sorted; the other phases need their median alone.
    totals.sort();
    deviceMs.sort();
    return {
      ok: true,
      candidate: id,
      medianMs: sortedQuantile(totals, 0.5),
      p90Ms: sortedQuantile(totals, 0.9),
      phases: {
        deviceMs: sortedQuantile(deviceMs, 0.5),
        encodeMs: selectedQuantile(encodeMs, 0.5),
        uplinkMs: selectedQuantile(uplinkMs, 0.5),
        serverMs: selectedQuantile(serverMs, 0.5),
        downlinkMs: selectedQuantile(downlinkMs, 0.5),
        overheadMs: selectedQuantile(overheadMs, 0.5),
      },
      wireBytes: selectedQuantile(wireBytes, 0.5),
      exitShare,
      answerMsQuantiles: mixtureQuantiles(deviceMs, totals, exitShare, ANSWER_QUANTILES),
      assumptions: [...new Set(assumptions)],
    };
  }

  private exitShare(candidate: Extract<Candidate, { kind: 'split' }>, missing: string[]): number {
    if (candidate.exitThreshold === null) return 0;
    const exit = this.manifest.earlyExits.find((entry) => entry.level === candidate.levelId);
    const row = exit?.thresholds.find((entry) => entry.threshold === candidate.exitThreshold);
    if (!row) {
      missing.push(`manifest coverage of exit ${candidate.levelId} at ${candidate.exitThreshold}`);
      return 0;
    }
    return row.coverage;
  }

  /**
   * Device time of `model` on `batch` images at `slowdown`: measured there, else scaled from
   * another slowdown (the emulation runs the model that many times), else from another batch size.
   */
  private deviceDraws(
    model: string,
    batch: number,
    slowdown: number,
    missing: string[],
    assumptions: string[],
  ): Draws | null {
    const exact = this.samples.values(`device:${model}@${batch}@${slowdown}`);
    if (exact.length > 0) return { values: exact, scale: 1 };
    const keys = this.samples.keysOf(`device:${model}`).map((key) => {
      const [batchText, slowdownText] = key.slice(`device:${model}@`.length).split('@');
      return { key, batch: Number(batchText), slowdown: Number(slowdownText) };
    });
    const sameBatch = keys
      .filter((entry) => entry.batch === batch)
      .sort((a, b) => Math.abs(Math.log(a.slowdown / slowdown)) - Math.abs(Math.log(b.slowdown / slowdown)));
    if (sameBatch.length > 0) {
      const from = sameBatch[0]!;
      assumptions.push(`${model} at ${slowdown}× scaled from ${from.slowdown}×`);
      return { values: this.samples.values(from.key), scale: slowdown / from.slowdown };
    }
    const nearest = keys.sort(
      (a, b) =>
        Math.abs(Math.log((a.batch * a.slowdown) / (batch * slowdown))) -
        Math.abs(Math.log((b.batch * b.slowdown) / (batch * slowdown))),
    )[0];
    if (nearest) {
      assumptions.push(`${model} on ${batch} images scaled from ${nearest.batch} at ${nearest.slowdown}×`);
      return {
        values: this.samples.values(nearest.key),
        scale: (batch / nearest.batch) * (slowdown / nearest.slowdown),
      };
    }
    missing.push(`device time of ${model}`);
    return null;
  }

  private optionalDraws(key: string, what: string, assumptions: string[]): Draws {
    const values = this.samples.values(key);
    if (values.length > 0) return { values, scale: 1 };
    assumptions.push(`${what} not measured: taken as 0`);
    return { values: [0], scale: 1 };
  }

  private wireDraws(
    candidate: Candidate,
    id: string,
    sent: number,
    mode: 'offload' | 'split',
    missing: string[],
    assumptions: string[],
    report: boolean,
  ): Draws | null {
    const observed = this.samples.values(`wire:${id}@${sent}`);
    if (observed.length >= 3) return { values: observed, scale: 1 };
    let payload: number;
    if (candidate.kind === 'split') {
      const level = this.manifest.levels.find((entry) => entry.id === candidate.levelId);
      if (!level) {
        missing.push(`level ${candidate.levelId}`);
        return null;
      }
      payload = payloadBytesPerImage(level.elements, candidate.bits) * sent;
    } else {
      const perImage = this.offloadImageBytes.get(id);
      if (perImage === undefined) {
        missing.push(`encoded size of ${id}`);
        return null;
      }
      payload = perImage * sent;
    }
    const framingAt = this.samples.values(`framing:${mode}@${sent}`);
    const framingPerImage = this.samples.values(`framing:${mode}`);
    let framing: number;
    if (framingAt.length > 0) framing = quantile(framingAt, 0.5);
    else if (framingPerImage.length > 0) framing = quantile(framingPerImage, 0.5) * sent;
    else {
      // socket.io's event framing and our header: a few tens of bytes, measured once anything replies.
      framing = 16 + 2 * sent;
      if (report) assumptions.push(`${mode} framing not measured: ${framing} B assumed`);
    }
    if (report && observed.length < 3) assumptions.push(`wire bytes of ${id} computed, not yet observed`);
    return { values: [payload + framing], scale: 1 };
  }

  private serverDraws(
    serverModel: string,
    sent: number,
    missing: string[],
    assumptions: string[],
    report: boolean,
  ): Draws | null {
    const exact = this.samples.values(`server:${serverModel}@${sent}`);
    if (exact.length > 0) return { values: exact, scale: 1 };
    const others = this.samples
      .keysOf(`server:${serverModel}`)
      .map((key) => ({ key, batch: Number(key.slice(`server:${serverModel}@`.length)) }))
      .sort((a, b) => Math.abs(Math.log(a.batch / sent)) - Math.abs(Math.log(b.batch / sent)));
    const nearest = others[0];
    if (nearest) {
      // Server time is mostly per-request overhead at these sizes; scaling it by the batch would
      // overstate small batches, so it is taken as it is and the assumption named.
      if (report) assumptions.push(`server time of ${serverModel} on ${sent} taken from ${nearest.batch}`);
      return { values: this.samples.values(nearest.key), scale: 1 };
    }
    // Another server model of the same kind (another level's tail) is the next best measurement.
    const sibling = serverModel.startsWith('tail-')
      ? this.samples.keysOf('server:tail-', true)[0]
      : undefined;
    if (sibling) {
      if (report)
        assumptions.push(
          `server time of ${serverModel} taken from ${sibling.slice('server:'.length).split('@')[0]}`,
        );
      return { values: this.samples.values(sibling), scale: 1 };
    }
    missing.push(`server time of ${serverModel}`);
    return null;
  }
}
