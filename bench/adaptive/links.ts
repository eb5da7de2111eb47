/**
 * The DevTools throttle model (src/core/throttleModel.ts) over a long schedule, fast: the model
 * scans its segments from the first on every send, which over a 900-s trace (one segment a
 * second) and the oracle's fresh link per candidate per request is billions of steps. This link
 * finds the segment by binary search and hands the model only that segment and the next, which is
 * all one send reads; a message sent while the previous one is still held goes out with it, as in
 * the model. Same answers, checked against the model in links.test.ts.
 */
import { throttleModelFor, type ThrottleStep } from '../../src/core/cdpThrottle';
import type { SimulatedLink } from '../../src/core/simulator';
import { ThrottleModel, type ThrottleSegment } from '../../src/core/throttleModel';

export class SegmentedThrottleLink implements SimulatedLink {
  private releaseAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly segments: readonly ThrottleSegment[]) {
    if (segments.length === 0) throw new RangeError('at least one set of conditions');
  }

  send(sentAt: number, bytes: number): number {
    if (sentAt < this.releaseAt) return this.releaseAt;
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.segments[mid]!.fromMs <= sentAt) low = mid;
      else high = mid - 1;
    }
    this.releaseAt = new ThrottleModel(this.segments.slice(low, low + 2)).send(sentAt, bytes);
    return this.releaseAt;
  }
}

/** Runs of equal conditions merged, as throttleModelFor merges them (re-sending changes nothing). */
export function mergedSegments(steps: readonly { atMs: number; uplinkBps: number }[]): ThrottleSegment[] {
  const segments: ThrottleSegment[] = [];
  for (const step of steps) {
    if (!(step.uplinkBps > 0)) throw new RangeError(`step at ${step.atMs} ms has no rate`);
    const last = segments[segments.length - 1];
    if (!last || last.bps !== step.uplinkBps) segments.push({ fromMs: step.atMs, bps: step.uplinkBps });
  }
  return segments;
}

/** A fresh link for a schedule, as throttleModelFor(schedule) would answer. */
export function scheduleLink(schedule: readonly ThrottleStep[], shiftMs = 0): () => SimulatedLink {
  const segments = mergedSegments(
    schedule.map((step) => ({ atMs: step.atMs - shiftMs, uplinkBps: step.uplinkBps })),
  );
  return () => new SegmentedThrottleLink(segments);
}

export { throttleModelFor };
