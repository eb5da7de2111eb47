/**
 * Per-inference data outside React: records go into a ring buffer with running counters, and one
 * snapshot is published per animation frame at most (and only when something changed), so a
 * stream of 50 inferences a second costs the UI 10-20 renders a second, not 50.
 */
import { correctCount, MODES, type InferenceRecord, type Mode } from '../core/record';
import {
  ClockOffsetEstimator,
  RingBuffer,
  UplinkEstimator,
  median,
  quantile,
  type UplinkSample,
} from '../core/stats';
import {
  emptyCounters,
  emptyModeTotals,
  type Counters,
  type EstimatePoint,
  type LastImage,
  type LivePoint,
  type LiveSnapshot,
  type ModeTotals,
} from './liveSnapshot';

/** Records kept for export; charts read only the newest CHART_POINTS. */
export const RECORD_CAPACITY = 100_000;
export const CHART_POINTS = 90;
const ESTIMATE_POINTS = 120;
/**
 * Floor between publications: at most about 14 a second. Every publication redraws the charts on screen
 * and makes the browser composite a new frame; on a slow device (measured: a 2-core machine with
 * software compositing) frames themselves are the scarce resource, so the charts get ten-odd
 * fresh frames a second and the rest of the time goes to the inference stream.
 */
const MIN_PUBLISH_INTERVAL_MS = 70;

interface ModeAccumulator {
  /** config × images per request the totals belong to: a new one starts them afresh. */
  key: string | null;
  totals: ModeTotals;
  recentTotals: RingBuffer<number>;
  recentPerImage: RingBuffer<number>;
}

const now = () => performance.now();

export class LiveFeed {
  readonly records = new RingBuffer<InferenceRecord>(RECORD_CAPACITY);
  private readonly points = new RingBuffer<LivePoint>(CHART_POINTS);
  private readonly estimates = new RingBuffer<EstimatePoint>(ESTIMATE_POINTS);
  readonly uplink = new UplinkEstimator(3000, 2);
  readonly clock = new ClockOffsetEstimator();
  private counters: Counters = emptyCounters();
  private modes = this.freshModes();
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

  private freshModes(): Record<Mode, ModeAccumulator> {
    const make = (): ModeAccumulator => ({
      key: null,
      totals: emptyModeTotals(),
      recentTotals: new RingBuffer<number>(200),
      recentPerImage: new RingBuffer<number>(200),
    });
    return { 'on-device': make(), offload: make(), split: make() };
  }

  /** Session time axis: seconds since the first record's start. */
  secondsSinceStart(at: number): number {
    this.firstStartedAt ??= at;
    return (at - this.firstStartedAt) / 1000;
  }

  add(record: InferenceRecord, lastImage?: LastImage): void {
    this.records.push(record);
    const key = `${record.config}×${record.images.length}`;
    if (this.modes[record.mode].key !== key) {
      // Per-mode figures describe one configuration; mixing the old and the new would be neither.
      this.modes[record.mode] = { ...this.freshModes()[record.mode], key };
    }
    const accumulator = this.modes[record.mode];
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
    this.uplink.clear();
    this.counters = emptyCounters();
    this.modes = this.freshModes();
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
    const perMode = {} as Record<Mode, ModeTotals>;
    for (const mode of MODES) {
      const accumulator = this.modes[mode];
      const totals = accumulator.recentTotals.toArray();
      const perImage = accumulator.recentPerImage.toArray();
      perMode[mode] = {
        ...accumulator.totals,
        medianTotalMs: totals.length ? median(totals) : null,
        p95TotalMs: totals.length ? quantile(totals, 0.95) : null,
        medianPerImageMs: perImage.length ? median(perImage) : null,
      };
    }
    const points = this.points.toArray();
    const estimate = this.uplink.estimate();
    const clock = this.clock.get();
    return {
      version: this.version,
      counters: { ...this.counters, failedByReason: { ...this.counters.failedByReason } },
      perMode,
      points,
      throughput: throughputSeries(points),
      estimates: this.estimates.toArray(),
      estimate: { ...estimate, clockUncertaintyMs: clock?.uncertaintyMs ?? null },
      lastImage: this.lastImage,
      lastError: this.lastError,
    };
  }
}

/**
 * Images answered per second, per mode: one value per second of the session clock, averaged over
 * the trailing `windowSeconds` (a 16-image request every 1.5 s would otherwise alternate 16 and 0).
 */
export function throughputSeries(
  points: readonly LivePoint[],
  windowSeconds = 3,
): LiveSnapshot['throughput'] {
  const bins = new Map<number, { 'on-device': number; offload: number; split: number }>();
  for (const point of points) {
    if (!point.ok) continue;
    const second = Math.floor(point.t + point.totalMs / 1000);
    const bin = bins.get(second) ?? { 'on-device': 0, offload: 0, split: 0 };
    bin[point.mode] += point.images;
    bins.set(second, bin);
  }
  if (bins.size === 0) return [];
  const seconds = [...bins.keys()];
  const first = Math.min(...seconds);
  // The newest bin is still filling; drawing it would show a false drop.
  const last = Math.max(...seconds) - 1;
  const series: LiveSnapshot['throughput'] = [];
  for (let t = first + windowSeconds - 1; t <= last; t++) {
    const sum = { 'on-device': 0, offload: 0, split: 0 };
    for (let s = t - windowSeconds + 1; s <= t; s++) {
      const bin = bins.get(s);
      if (!bin) continue;
      sum['on-device'] += bin['on-device'];
      sum.offload += bin.offload;
      sum.split += bin.split;
    }
    series.push({
      t,
      'on-device': sum['on-device'] / windowSeconds,
      offload: sum.offload / windowSeconds,
      split: sum.split / windowSeconds,
    });
  }
  return series;
}
