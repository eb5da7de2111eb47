/**
 * Per-inference data outside React: records go into a ring buffer with running counters, and one
 * snapshot is published per animation frame at most (and only when something changed), so a
 * stream of 50 inferences a second costs the UI 10-20 renders a second, not 50.
 */
import { correctCount, MODES, type InferenceRecord, type Mode } from '../core/record';
import { ClockOffsetEstimator, RingBuffer, median, quantile } from '../core/stats';
import { UplinkEstimator, type UplinkSample } from '../core/uplinkEstimator';
import {
  emptyCounters,
  emptyModeTotals,
  type Counters,
  type CurrentDecision,
  type DecisionPoint,
  type EstimatePoint,
  type LastImage,
  type LivePoint,
  type LiveSnapshot,
  rowKey,
  type ModeTotals,
  type ResultRow,
  type RowCondition,
  type RowMode,
} from './liveSnapshot';

/** A row's figures without its condition: what `perMode` holds. */
function modeTotalsOf(row: ResultRow): ModeTotals {
  const {
    mode: _mode,
    config: _config,
    imagesPerRequest: _ipr,
    backend: _backend,
    slowdown: _slowdown,
    key: _key,
    current: _current,
    ...totals
  } = row;
  return totals;
}

/** Records kept for export; charts read only the newest CHART_POINTS. */
export const RECORD_CAPACITY = 100_000;
export const CHART_POINTS = 90;
const ESTIMATE_POINTS = 120;
/** Auto's decisions kept for the decision timeline. */
export const DECISION_POINTS = 300;

/** A record that auto mode decided: it belongs to the auto row, whatever kind it ran. */
export function isAutoRecord(record: InferenceRecord): boolean {
  return record.decision?.policy === 'auto';
}
/**
 * Floor between publications: at most about 14 a second. Every publication redraws the charts on screen
 * and makes the browser composite a new frame; on a slow device (measured: a 2-core machine with
 * software compositing) frames themselves are the scarce resource, so the charts get ten-odd
 * fresh frames a second and the rest of the time goes to the inference stream.
 */
const MIN_PUBLISH_INTERVAL_MS = 70;

/** Rows kept per session; beyond it the oldest rows that are no mode's current one are dropped. */
export const MAX_ROWS = 24;

interface ModeAccumulator {
  condition: RowCondition;
  totals: ModeTotals;
  recentTotals: RingBuffer<number>;
  recentPerImage: RingBuffer<number>;
}

const now = () => performance.now();

export class LiveFeed {
  readonly records = new RingBuffer<InferenceRecord>(RECORD_CAPACITY);
  private readonly points = new RingBuffer<LivePoint>(CHART_POINTS);
  private readonly estimates = new RingBuffer<EstimatePoint>(ESTIMATE_POINTS);
  private readonly decisions = new RingBuffer<DecisionPoint>(DECISION_POINTS);
  private lastDecision: CurrentDecision | null = null;
  readonly uplink = new UplinkEstimator();
  readonly clock = new ClockOffsetEstimator();
  private counters: Counters = emptyCounters();
  /** Every row of the session by key, in the order they began. */
  private rows = new Map<string, ModeAccumulator>();
  /** Each mode's current row key. */
  private currentRow: Partial<Record<RowMode, string>> = {};
  private firstStartedAt: number | null = null;
  private lastImage: LastImage | null = null;
  private lastError: string | null = null;
  private version = 0;
  private scheduled = false;
  private lastPublishAt = 0;
  private published = 0;
  /** Bumped by reset(): requests launched before a reset belong to the old session. */
  session = 0;

  constructor(private readonly publish: (snapshot: LiveSnapshot) => void) {}

  /** The row for this record's condition: a new condition (backend, slowdown, …) starts its own. */
  private rowFor(record: InferenceRecord): ModeAccumulator {
    const auto = isAutoRecord(record);
    const condition: RowCondition = {
      mode: auto ? 'auto' : record.mode,
      config: auto ? 'auto' : record.config,
      imagesPerRequest: record.images.length,
      backend: record.backend,
      slowdown: record.slowdown ?? 1,
    };
    const key = rowKey(condition);
    this.currentRow[condition.mode] = key;
    let row = this.rows.get(key);
    if (!row) {
      row = {
        condition,
        totals: emptyModeTotals(),
        recentTotals: new RingBuffer<number>(200),
        recentPerImage: new RingBuffer<number>(200),
      };
      this.rows.set(key, row);
      const current = new Set(Object.values(this.currentRow));
      for (const old of this.rows.keys()) {
        if (this.rows.size <= MAX_ROWS) break;
        if (!current.has(old)) this.rows.delete(old);
      }
    }
    return row;
  }

  /** Session time axis: seconds since the first record's start. */
  secondsSinceStart(at: number): number {
    this.firstStartedAt ??= at;
    return (at - this.firstStartedAt) / 1000;
  }

  add(record: InferenceRecord, lastImage?: LastImage): void {
    this.records.push(record);
    // Per-row figures describe one condition; mixing the old and the new would be neither.
    const accumulator = this.rowFor(record);
    const totals = accumulator.totals;
    const images = record.images.length;
    const correct = record.ok ? correctCount(record) : 0;
    totals.requests++;
    totals.images += images;
    totals.payloadBytes += record.payloadBytes;
    totals.wireBytes += record.wireBytes;
    totals.lastConfig = record.config;
    if (record.ok) {
      totals.answered++;
      totals.answeredImages += images;
      totals.correct += correct;
      accumulator.recentTotals.push(record.phases.totalMs);
      accumulator.recentPerImage.push(record.phases.totalMs / images);
    } else {
      totals.failed++;
    }
    totals.accuracy = totals.answeredImages > 0 ? totals.correct / totals.answeredImages : null;
    totals.wireBytesPerImage = totals.images > 0 ? totals.wireBytes / totals.images : null;

    const counters = this.counters;
    counters.images += images;
    counters.correct += correct;
    if (record.mode === 'on-device') {
      counters.local++;
      if (!record.ok) counters.localFailed++;
    } else if (record.requestId > 0) {
      // Counted as sent by noteSent() when it was handed to the socket; requests that failed on the
      // device before that carry request id 0 and were never sent.
      if (record.ok) counters.answered++;
      else counters.failed++;
    }
    if (!record.ok && record.failure) {
      counters.failedByReason[record.failure.reason] =
        (counters.failedByReason[record.failure.reason] ?? 0) + 1;
      this.lastError = `${record.mode}: ${record.failure.reason}: ${record.failure.message}`;
    }

    const p = record.phases;
    this.points.push({
      seq: record.seq,
      t: this.secondsSinceStart(record.startedAt),
      mode: record.mode,
      config: record.config,
      ok: record.ok,
      images,
      totalMs: p.totalMs,
      deviceMs: p.deviceMs,
      encodeMs: p.encodeMs,
      networkMs: p.networkMs,
      uplinkMs: p.uplinkMs,
      serverQueueMs: p.serverQueueMs,
      serverComputeMs: p.serverComputeMs,
      overheadMs: p.overheadMs,
      wireBytes: record.wireBytes,
      payloadBytes: record.payloadBytes,
      wireBytesPerImage: record.wireBytes / images,
      runningAccuracy: totals.accuracy,
    });
    const decision = record.decision;
    if (decision && isAutoRecord(record)) {
      this.decisions.push({
        seq: record.seq,
        t: this.secondsSinceStart(record.startedAt),
        candidate: decision.candidate,
        kind: record.mode,
        exploring: decision.exploring,
        meetsSlo: decision.meetsSlo,
        uplinkKbps: decision.uplinkBps === null ? null : decision.uplinkBps / 1000,
        slowdown: record.slowdown ?? 1,
        sloMs: decision.sloMs,
        totalMs: p.totalMs,
        ok: record.ok,
      });
      this.lastDecision = {
        seq: record.seq,
        policy: decision.policy,
        candidate: decision.candidate,
        reason: decision.reason,
        sloMs: decision.sloMs,
        predictedP90Ms: decision.predicted?.p90Ms ?? null,
        expectedAccuracy: decision.expectedAccuracy,
      };
    }
    if (lastImage) this.lastImage = lastImage;
    this.changed();
  }

  /** A request handed to the socket; until its record arrives it is in flight. */
  noteSent(): void {
    this.counters.sent++;
    this.changed();
  }

  /** A request that reached the server: feeds the uplink estimator. */
  addUplinkSample(sample: UplinkSample): void {
    this.uplink.add(sample);
    const estimate = this.uplink.estimate();
    this.estimates.push({
      t: this.secondsSinceStart(sample.sentAt),
      uplinkKbps: estimate.uplinkBps === null ? null : estimate.uplinkBps / 1000,
      rttMs: estimate.rttMs,
    });
    this.changed();
  }

  noteError(message: string): void {
    this.lastError = message;
    this.changed();
  }

  reset(): void {
    this.session++;
    this.records.clear();
    this.points.clear();
    this.estimates.clear();
    this.decisions.clear();
    this.lastDecision = null;
    this.uplink.clear();
    this.counters = emptyCounters();
    this.rows.clear();
    this.currentRow = {};
    this.firstStartedAt = null;
    this.lastImage = null;
    this.lastError = null;
    this.changed();
  }

  /** Snapshots handed to the UI so far. */
  get publishedCount(): number {
    return this.published;
  }

  get countersNow(): Readonly<Counters> {
    return this.counters;
  }

  private changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    const frame =
      typeof requestAnimationFrame === 'function'
        ? requestAnimationFrame
        : (callback: (time: number) => void) => setTimeout(() => callback(now()), 16);
    const tick = () => {
      if (now() - this.lastPublishAt < MIN_PUBLISH_INTERVAL_MS) {
        frame(tick);
        return;
      }
      this.scheduled = false;
      this.lastPublishAt = now();
      this.published++;
      this.publish(this.snapshot());
    };
    frame(tick);
  }

  snapshot(): LiveSnapshot {
    const rows: ResultRow[] = [];
    for (const [key, accumulator] of this.rows) {
      const totals = accumulator.recentTotals.toArray();
      const perImage = accumulator.recentPerImage.toArray();
      rows.push({
        ...accumulator.totals,
        medianTotalMs: totals.length ? median(totals) : null,
        p95TotalMs: totals.length ? quantile(totals, 0.95) : null,
        medianPerImageMs: perImage.length ? median(perImage) : null,
        ...accumulator.condition,
        key,
        current: this.currentRow[accumulator.condition.mode] === key,
      });
    }
    const perMode = {} as Record<Mode, ModeTotals>;
    for (const mode of MODES) {
      const row = rows.find((candidate) => candidate.key === this.currentRow[mode]);
      perMode[mode] = row ? modeTotalsOf(row) : emptyModeTotals();
    }
    const autoRow = rows.find((candidate) => candidate.key === this.currentRow.auto);
    const points = this.points.toArray();
    const estimate = this.uplink.estimate();
    const clock = this.clock.get();
    return {
      version: this.version,
      counters: { ...this.counters, failedByReason: { ...this.counters.failedByReason } },
      perMode,
      auto: autoRow ? modeTotalsOf(autoRow) : emptyModeTotals(),
      decisions: this.decisions.toArray(),
      lastDecision: this.lastDecision,
      rows,
      points,
      throughput: throughputSeries(points),
      estimates: this.estimates.toArray(),
      estimate: { ...estimate, clockUncertaintyMs: clock?.uncertaintyMs ?? null },
      lastImage: this.lastImage,
      lastError: this.lastError,
    };
  }
}

const SHORT_STREAM_STEPS = [0.05, 0.1, 0.2, 0.25, 0.5, 1];

/**
 * Images answered per second, per mode. The points are cut into streams where the page had a
 * request going (a pause of over `pauseSeconds` ends one), and each stream is sampled on its own
 * at round times: a sample counts the images answered in the trailing `windowSeconds`, or since
 * its stream began when that is shorter, and divides by that span. A long stream gets a sample a
 * second; a stream of a second or two gets samples a fraction of a second apart, so it is drawn
 * too. No sample reaches past a stream's newest answer: that would show a false drop.
 */
export function throughputSeries(
  points: readonly LivePoint[],
  windowSeconds = 3,
  samplesForShortStreams = 8,
  pauseSeconds = 1,
): LiveSnapshot['throughput'] {
  const requests = points
    .map((point) => ({ ...point, end: point.t + point.totalMs / 1000 }))
    .sort((a, b) => a.t - b.t);
  const streams: { from: number; to: number; answers: typeof requests }[] = [];
  for (const request of requests) {
    const stream = streams[streams.length - 1];
    if (stream && request.t <= stream.to + pauseSeconds) {
      stream.to = Math.max(stream.to, request.end);
      stream.answers.push(request);
    } else {
      streams.push({ from: request.t, to: request.end, answers: [request] });
    }
  }
  const series: LiveSnapshot['throughput'] = [];
  for (const stream of streams) {
    const answers = stream.answers.filter((request) => request.ok);
    if (answers.length === 0) continue;
    const last = Math.max(...answers.map((answer) => answer.end));
    const span = last - stream.from;
    if (!(span > 0)) continue;
    const step =
      span >= windowSeconds * 2
        ? 1
        : (SHORT_STREAM_STEPS.find((candidate) => candidate >= span / samplesForShortStreams) ?? 1);
    const times: number[] = [];
    for (let k = Math.floor(stream.from / step) + 1; k * step <= last + 1e-9; k++)
      times.push(Number((k * step).toPrecision(12)));
    // The stream's newest answer gets its own sample when it falls between round times.
    if (times.length === 0 || times[times.length - 1]! < last - 1e-9) times.push(last);
    for (const t of times) {
      const from = Math.max(stream.from, t - windowSeconds);
      const width = t - from;
      if (!(width > 0)) continue;
      const sum = { 'on-device': 0, offload: 0, split: 0 };
      for (const answer of answers)
        if (answer.end > from && answer.end <= t) sum[answer.mode] += answer.images;
      series.push({
        t,
        'on-device': sum['on-device'] / width,
        offload: sum.offload / width,
        split: sum.split / width,
      });
    }
  }
  return series;
}
