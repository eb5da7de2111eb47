/**
 * The immutable view of the live run that the store holds and the charts draw. Built from the
 * ring buffer once per published frame, never per record.
 */
import { MODES, type FailureReason, type Mode } from '../core/record';
import type { BandwidthEstimate } from '../core/uplinkEstimator';

export interface LivePoint {
  seq: number;
  /** Seconds since the session's first record. */
  t: number;
  mode: Mode;
  config: string;
  ok: boolean;
  images: number;
  totalMs: number;
  deviceMs: number;
  encodeMs: number;
  networkMs: number;
  uplinkMs: number | null;
  serverQueueMs: number;
  serverComputeMs: number;
  overheadMs: number;
  wireBytes: number;
  payloadBytes: number;
  wireBytesPerImage: number;
  /** This mode's accuracy over the whole session, up to and including this record. */
  runningAccuracy: number | null;
}

/**
 * One mode's figures under one condition: configuration × images per request × backend × device
 * slowdown. Results measured under different conditions are never added up.
 */
export interface ModeTotals {
  requests: number;
  images: number;
  /** Requests that ended in an answer (server reply, or the local run). */
  answered: number;
  failed: number;
  correct: number;
  /** Images with an answer. */
  answeredImages: number;
  payloadBytes: number;
  wireBytes: number;
  accuracy: number | null;
  medianTotalMs: number | null;
  p95TotalMs: number | null;
  medianPerImageMs: number | null;
  wireBytesPerImage: number | null;
  lastConfig: string | null;
}

/** A result row's mode: how its requests ran, or 'auto' for requests auto mode decided (any kind). */
export type RowMode = Mode | 'auto';
export const ROW_MODES: readonly RowMode[] = [...MODES, 'auto'];

/** What a result row's figures were measured under. */
export interface RowCondition {
  /** An auto row's config is 'auto': its requests ran whatever each decision chose. */
  mode: RowMode;
  config: string;
  imagesPerRequest: number;
  /** The backend's label ("wasm: 1 thread", "webgpu: google swiftshader"). */
  backend: string;
  /** Emulated device slowdown (1: the device's own speed). */
  slowdown: number;
}

export interface ResultRow extends ModeTotals, RowCondition {
  key: string;
  /** The row the mode's newest request went to (the mode's entry in `perMode`). */
  current: boolean;
}

export function rowKey(condition: RowCondition): string {
  return [
    condition.mode,
    condition.config,
    condition.imagesPerRequest,
    condition.backend,
    condition.slowdown,
  ].join('|');
}

export interface Counters {
  /** Requests handed to the socket (sent - answered - failed are in flight). */
  sent: number;
  /** Server replies with a result. */
  answered: number;
  /** Sent requests that ended without a result (error reply, timeout, disconnect). */
  failed: number;
  failedByReason: Partial<Record<FailureReason, number>>;
  /** On-device requests (never sent). */
  local: number;
  localFailed: number;
  images: number;
  correct: number;
}

export interface EstimatePoint {
  t: number;
  uplinkKbps: number | null;
  rttMs: number | null;
}

/** One of auto mode's decisions, at the time its request started, for the decision timeline. */
export interface DecisionPoint {
  seq: number;
  /** Seconds since the session's first record. */
  t: number;
  /** The chosen candidate's id ("c2-b4", "png", "full"). */
  candidate: string;
  kind: Mode;
  exploring: boolean;
  /** Predicted to meet the target with the policy's margin. */
  meetsSlo: boolean;
  /** The uplink estimate the decision was made with. */
  uplinkKbps: number | null;
  /** Emulated device slowdown the request ran at. */
  slowdown: number;
  sloMs: number;
  /** Measured total of the request (ms) and whether it answered. */
  totalMs: number;
  ok: boolean;
}

/** Auto's newest decision as the page states it. */
export interface CurrentDecision {
  seq: number;
  policy: string;
  candidate: string;
  reason: string;
  sloMs: number;
  predictedP90Ms: number | null;
  expectedAccuracy: number | null;
}

export interface LastImage {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  mode: Mode;
  config: string;
  /** Split only: the codes of this image, for the heat map. */
  codes: { values: number[]; shape: [number, number, number]; bits: number } | null;
}

export interface LiveSnapshot {
  version: number;
  counters: Counters;
  /** Each mode's current row (empty totals for a mode not run yet). */
  perMode: Record<Mode, ModeTotals>;
  /** Auto's current row (empty totals before auto ran). */
  auto: ModeTotals;
  /** Auto's recent decisions, oldest first. */
  decisions: DecisionPoint[];
  lastDecision: CurrentDecision | null;
  /** Every result row of the session, in the order they began. */
  rows: ResultRow[];
  points: LivePoint[];
  throughput: { t: number; 'on-device': number; offload: number; split: number }[];
  estimates: EstimatePoint[];
  /** The uplink estimate (see BandwidthEstimate) and the clock offset's error bound. */
  estimate: BandwidthEstimate & { clockUncertaintyMs: number | null };
  lastImage: LastImage | null;
  lastError: string | null;
}

export const emptyModeTotals = (): ModeTotals => ({
  requests: 0,
  images: 0,
  answered: 0,
  failed: 0,
  correct: 0,
  answeredImages: 0,
  payloadBytes: 0,
  wireBytes: 0,
  accuracy: null,
  medianTotalMs: null,
  p95TotalMs: null,
  medianPerImageMs: null,
  wireBytesPerImage: null,
  lastConfig: null,
});

export const emptyCounters = (): Counters => ({
  sent: 0,
  answered: 0,
  failed: 0,
  failedByReason: {},
  local: 0,
  localFailed: 0,
  images: 0,
  correct: 0,
});

export const EMPTY_SNAPSHOT: LiveSnapshot = {
  version: 0,
  counters: emptyCounters(),
  perMode: { 'on-device': emptyModeTotals(), offload: emptyModeTotals(), split: emptyModeTotals() },
  auto: emptyModeTotals(),
  decisions: [],
  lastDecision: null,
  rows: [],
  points: [],
  throughput: [],
  estimates: [],
  estimate: {
    uplinkBps: null,
    uplinkLowBps: null,
    uplinkHighBps: null,
    uplinkRelativeUncertainty: null,
    quantumMs: null,
    method: 'none',
    rttMs: null,
    samples: 0,
    clockUncertaintyMs: null,
  },
  lastImage: null,
  lastError: null,
};
