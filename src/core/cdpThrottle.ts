/**
 * A trace replayed through Chromium's DevTools throttle (CDP `Network.emulateNetworkConditions`):
 * the conditions to set each step, and the throttle model (src/core/throttleModel.ts) they give,
 * so a simulator can predict a live replay and say where the replay departs from the trace.
 * `uploadThroughput: 0` means no throttle at all in CDP, so an outage cannot be a rate of 0.
 */
import { ThrottleModel, type ThrottleSegment } from './throttleModel';
import { capacityPerStep, type UplinkTrace } from './uplinkTrace';

/**
 * The rate that stands for an outage: one quantum takes 12 s, longer than any step, so nothing
 * crosses until the next step's change of conditions releases it.
 */
export const OUTAGE_BPS = 1000;

export interface ThrottleStep {
  /** Replay time (ms) at which these conditions are set. */
  atMs: number;
  /** The trace's capacity over the step. */
  traceBps: number;
  /** What is sent to CDP: bits per second (OUTAGE_BPS for a step with no capacity). */
  uplinkBps: number;
}

/** One set of conditions per step of the trace, from `fromMs` for `durationMs`. */
export function throttleSchedule(
  trace: UplinkTrace,
  fromMs = 0,
  durationMs = trace.periodMs,
  stepMs = 1000,
): ThrottleStep[] {
  const rates = capacityPerStep(trace, stepMs);
  const steps: ThrottleStep[] = [];
  for (let at = 0; at < durationMs; at += stepMs) {
    const index = Math.floor(((fromMs + at) % trace.periodMs) / stepMs) % rates.length;
    const traceBps = rates[index]!;
    steps.push({ atMs: at, traceBps, uplinkBps: traceBps > 0 ? traceBps : OUTAGE_BPS });
  }
  return steps;
}

/** The CDP payload for a step: upload throttled, download and latency left alone. */
export function cdpConditions(step: ThrottleStep): {
  offline: false;
  latency: 0;
  downloadThroughput: -1;
  uploadThroughput: number;
} {
  return { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: step.uplinkBps / 8 };
}

/**
 * The DevTools throttle as a schedule drives it. Runs of equal conditions are one segment:
 * re-sending the same conditions changes nothing in Chromium (no new clock, no release).
 */
export function throttleModelFor(schedule: readonly ThrottleStep[]): ThrottleModel {
  if (schedule.length === 0) throw new RangeError('the schedule is empty');
  const segments: ThrottleSegment[] = [];
  for (const step of schedule) {
    if (!(step.uplinkBps > 0)) throw new RangeError(`step at ${step.atMs} ms has no rate`);
    const last = segments[segments.length - 1];
    if (!last || last.bps !== step.uplinkBps) segments.push({ fromMs: step.atMs, bps: step.uplinkBps });
  }
  return new ThrottleModel(segments);
}
