/**
 * Which parts of a trace the live benchmark replays: `count` segments of `seconds`, spread evenly
 * over the trace from its start to its end, in whole seconds (the throttle steps once a second).
 * They do not overlap when the trace is long enough (count × seconds ≤ its length); a shorter
 * trace gets overlapping segments, and one shorter than a segment is looped, as mm-link loops it.
 */
import { capacityPerStep, type UplinkTrace } from '../../src/core/uplinkTrace';

export interface Segment {
  /** Where in the trace the segment starts (ms, a whole second). */
  offsetMs: number;
  durationMs: number;
}

export function chooseSegments(periodMs: number, count: number, seconds: number): Segment[] {
  if (!(count >= 1) || !Number.isInteger(count)) throw new RangeError(`count must be a positive integer`);
  if (!(seconds > 0)) throw new RangeError('seconds must be positive');
  const durationMs = Math.round(seconds * 1000);
  const periodSeconds = Math.floor(periodMs / 1000);
  const room = Math.max(0, periodSeconds - Math.ceil(seconds));
  const offsets = Array.from({ length: count }, (_, i) =>
    count === 1 ? 0 : Math.round((i * room) / (count - 1)),
  );
  return [...new Set(offsets)].map((s) => ({ offsetMs: s * 1000, durationMs }));
}

export function segmentsOverlap(segments: readonly Segment[]): boolean {
  const sorted = [...segments].sort((a, b) => a.offsetMs - b.offsetMs);
  return sorted.some(
    (segment, i) => i > 0 && segment.offsetMs < sorted[i - 1]!.offsetMs + sorted[i - 1]!.durationMs,
  );
}

export interface CapacitySummary {
  meanKbps: number;
  p10Kbps: number;
  p50Kbps: number;
  p90Kbps: number;
  /** Seconds with no capacity at all. */
  outageSeconds: number;
  seconds: number;
}

/** The trace's 1-s capacities over a window (the whole trace by default). */
export function capacitySummary(
  trace: UplinkTrace,
  fromMs = 0,
  durationMs = trace.periodMs,
): CapacitySummary {
  const rates = capacityPerStep(trace, 1000);
  const values: number[] = [];
  for (let at = 0; at < durationMs; at += 1000)
    values.push(rates[Math.floor(((fromMs + at) % trace.periodMs) / 1000) % rates.length]!);
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000;
  return {
    meanKbps: values.reduce((a, b) => a + b, 0) / values.length / 1000,
    p10Kbps: at(0.1),
    p50Kbps: at(0.5),
    p90Kbps: at(0.9),
    outageSeconds: values.filter((v) => v === 0).length,
    seconds: values.length,
  };
}
