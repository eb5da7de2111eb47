/**
 * One record per request: the unit every chart, counter and export of the app is made of.
 *
 * Time phases are derived from timestamps taken on the device and the timings the server reports,
 * so that they add up to the measured total by construction: whatever the named phases do not
 * cover (scheduling gaps between steps on the device) is its own phase, `overhead`.
 */

export type Mode = 'on-device' | 'offload' | 'split';
export const MODES: readonly Mode[] = ['on-device', 'offload', 'split'];

export type ImageFormat = 'png' | 'webp' | 'raw';

export type FailureReason = 'disconnected' | 'timeout' | 'server-error' | 'device-error' | 'encode-error';

/** Server-side timings as the tail server reports them (ms). */
export interface ServerTimings {
  queuedMs: number;
  decodeMs: number;
  computeMs: number;
  totalMs: number;
}

/** The device's timestamps for one request, in ms of the page's clock (performance.now()). */
export interface RequestTimestamps {
  start: number;
  /** Head (split) or full model (on-device) finished; equals start for offload. */
  computeEnd: number;
  /** Payload encoded (quantized and packed, or images compressed); equals computeEnd on-device. */
  encodeEnd: number;
  /** Handed to the socket. Absent on-device. */
  sent?: number;
  /** The reply reached the socket (in its own thread); defaults to `end`. */
  received?: number;
  /** The request is over for the page: reply handled (or, on-device, the result read back). */
  end: number;
}

export interface Phases {
  deviceMs: number;
  encodeMs: number;
  /** Round trip minus the server's reported total. */
  networkMs: number;
  /** Parts of networkMs, when the clock offset to the server is known; else null. */
  uplinkMs: number | null;
  downlinkMs: number | null;
  serverQueueMs: number;
  /** Server decode + compute + whatever else the server counted in its total. */
  serverComputeMs: number;
  /** Device-side gaps: hand-overs to and from the socket thread, waits for the page's main thread. */
  overheadMs: number;
  totalMs: number;
}

export const PHASE_KEYS = [
  'deviceMs',
  'encodeMs',
  'networkMs',
  'serverQueueMs',
  'serverComputeMs',
  'overheadMs',
] as const satisfies readonly (keyof Phases)[];

export type PhaseKey = (typeof PHASE_KEYS)[number];

/**
 * Splits a request's measured total into phases that add up to it exactly.
 *
 * @param clockOffsetMs server clock minus device clock, when known (e.g. from the min-RTT probe),
 *   used only to split the network time into up and down; never to change the total.
 * @param serverReceivedAt / serverSentAt the server's timestamps in its own clock (ms).
 */
export function computePhases(
  t: RequestTimestamps,
  server?: ServerTimings,
  clock?: { offsetMs: number; serverReceivedAt: number; serverSentAt: number },
): Phases {
  const totalMs = t.end - t.start;
  const deviceMs = t.computeEnd - t.start;
  const encodeMs = t.encodeEnd - t.computeEnd;
  const received = t.received ?? t.end;
  if (t.sent !== undefined && server === undefined) {
    // Sent, never answered (timeout, disconnect, error reply): the wait was on the network side.
    const networkMs = received - t.sent;
    return {
      deviceMs,
      encodeMs,
      networkMs,
      uplinkMs: null,
      downlinkMs: null,
      serverQueueMs: 0,
      serverComputeMs: 0,
      overheadMs: totalMs - deviceMs - encodeMs - networkMs,
      totalMs,
    };
  }
  if (t.sent === undefined || server === undefined) {
    return {
      deviceMs,
      encodeMs,
      networkMs: 0,
      uplinkMs: null,
      downlinkMs: null,
      serverQueueMs: 0,
      serverComputeMs: 0,
      overheadMs: totalMs - deviceMs - encodeMs,
      totalMs,
    };
  }
  const roundTripMs = received - t.sent;
  // A server total longer than the round trip would be a clock bug on the server; never let a
  // phase go negative because of it.
  const serverTotal = Math.min(Math.max(server.totalMs, 0), roundTripMs);
  const serverQueueMs = Math.min(Math.max(server.queuedMs, 0), serverTotal);
  const serverComputeMs = serverTotal - serverQueueMs;
  const networkMs = roundTripMs - serverTotal;
  let uplinkMs: number | null = null;
  let downlinkMs: number | null = null;
  if (clock) {
    const up = clock.serverReceivedAt - clock.offsetMs - t.sent;
    uplinkMs = Math.min(Math.max(up, 0), networkMs);
    downlinkMs = networkMs - uplinkMs;
  }
  return {
    deviceMs,
    encodeMs,
    networkMs,
    uplinkMs,
    downlinkMs,
    serverQueueMs,
    serverComputeMs,
    // Hand-over to the socket's thread and back, and any wait for the page's main thread.
    overheadMs: t.sent - t.encodeEnd + (t.end - received),
    totalMs,
  };
}

/** Sum of the phases that partition the total (up/down are parts of networkMs, not added). */
export function sumOfPhases(p: Phases): number {
  return PHASE_KEYS.reduce((sum, key) => sum + p[key], 0);
}

export interface ImageOutcome {
  /** Index of the image in the test set. */
  index: number;
  label: number;
  /** Predicted class, or -1 when the request failed. */
  predicted: number;
  confidence: number;
  /** Answered on the device by the early exit (nothing sent for it). */
  earlyExit?: boolean;
}

export interface RecordPrediction {
  /** Candidate id, as the cost model names it ("full", "png", "c4-b2", "c4-b2-x0.9"). */
  candidate: string;
  medianMs: number;
  p90Ms: number;
}

/** One candidate as the policy saw it when it decided (null figures: it could not be priced). */
export interface DecisionCandidate {
  id: string;
  medianMs: number | null;
  p90Ms: number | null;
  expectedAccuracy: number | null;
}

/**
 * The decision a request ran by (src/core/policy.ts): which policy, what it chose and why, the
 * latency target, and every candidate's prediction it chose among. Records of one prediction
 * round share one `candidates` array.
 */
export interface RecordDecision {
  /** The policy's name: "auto", or "static c4-b2" for a fixed mode. */
  policy: string;
  /** Candidate id chosen (the record's `config`). */
  candidate: string;
  reason: string;
  sloMs: number;
  /** The chosen candidate's prediction at decision time; null when it could not be priced. */
  predicted: { medianMs: number; p90Ms: number } | null;
  expectedAccuracy: number | null;
  /** Predicted to meet the target with the policy's margin. */
  meetsSlo: boolean;
  /** Run to measure what its prediction lacked, not because it was predicted best. */
  exploring: boolean;
  /** The uplink estimate the decision was made with (bit/s), null when unknown. */
  uplinkBps: number | null;
  candidates: readonly DecisionCandidate[];
}

export interface InferenceRecord {
  /** Sequence number within the session. */
  seq: number;
  /** Wire request id, from 1; 0 for requests never handed to the socket (on-device, or failed before). */
  requestId: number;
  mode: Mode;
  /** Split: "c4-b2"; offload: "png", "webp-q50" or "raw"; on-device: "full". */
  config: string;
  backend: string;
  /**
   * Emulated device slowdown factor (the device's model work ran this many times); absent means 1,
   * a real device speed.
   */
  slowdown?: number;
  /** performance.now() at the start; wall-clock epoch ms for exports. */
  startedAt: number;
  epochMs: number;
  images: ImageOutcome[];
  /** Bytes of our payload (codes or encoded images), without protocol framing. */
  payloadBytes: number;
  /** Bytes of the WebSocket message(s) the socket sent for this request: 0 on-device. */
  wireBytes: number;
  phases: Phases;
  /** Server-reported batch size this request ran in. */
  serverBatch?: number;
  /**
   * What the cost model (src/core/costModel.ts) predicted for this request's total before it ran,
   * for the candidate it ran; absent when the model lacked the measurements to predict.
   */
  prediction?: RecordPrediction;
  /** The policy's decision this request ran by; absent on records from before policies. */
  decision?: RecordDecision;
  ok: boolean;
  failure?: { reason: FailureReason; message: string };
}

export function correctCount(record: InferenceRecord): number {
  return record.images.reduce((n, image) => n + (image.predicted === image.label ? 1 : 0), 0);
}
