/**
 * A trace replayed through Chromium's DevTools throttle (CDP `Network.emulateNetworkConditions`),
 * and a model of what that throttle does to WebSocket messages, so a simulator can predict a live
 * replay and say where the replay departs from the trace.
 *
 * What the throttle does, as measured in this Chromium:
 * - each message is charged whole 1500-byte quanta, floor(n / 1500) + 1 of them;
 * - quanta are released on the throttle's own clock, which starts when the conditions are set
 *   (Chromium makes a new throttle for each set of conditions), so a message sent mid-quantum
 *   waits only for the rest of it;
 * - a change of conditions releases the message in flight at once;
 * - messages queued behind a throttled one go out unthrottled when it is released;
 * - `uploadThroughput: 0` means no throttle at all, so an outage cannot be a rate of 0.
 */
import { THROTTLE_QUANTUM_BYTES, throttleChargedBytes } from './stats';
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

interface InFlight {
  releaseAt: number;
}

/**
 * The DevTools throttle driven by a schedule. `send` returns when the message is delivered; calls
 * come in time order.
 */
export class CdpThrottleModel {
  /** Runs of equal conditions: re-sending the same conditions changes nothing in Chromium. */
  private readonly segments: { atMs: number; uplinkBps: number }[] = [];
  private segmentIndex = 0;
  private inFlight: InFlight | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(schedule: readonly ThrottleStep[]) {
    if (schedule.length === 0) throw new RangeError('the schedule is empty');
    for (const step of schedule) {
      if (!(step.uplinkBps > 0)) throw new RangeError(`step at ${step.atMs} ms has no rate`);
      const last = this.segments[this.segments.length - 1];
      if (!last || last.uplinkBps !== step.uplinkBps)
        this.segments.push({ atMs: step.atMs, uplinkBps: step.uplinkBps });
    }
  }

  private segmentAt(ms: number): number {
    while (this.segmentIndex + 1 < this.segments.length && this.segments[this.segmentIndex + 1]!.atMs <= ms)
      this.segmentIndex++;
    return this.segmentIndex;
  }

  send(bytes: number, atMs: number): number {
    if (atMs < this.lastSentAt) throw new RangeError('messages must be sent in time order');
    this.lastSentAt = atMs;
    if (this.inFlight && this.inFlight.releaseAt > atMs) {
      // Queued behind a throttled message: it leaves, unthrottled, when that one is released.
      return this.inFlight.releaseAt;
    }
    const index = this.segmentAt(atMs);
    const segment = this.segments[index]!;
    const quantumMs = (THROTTLE_QUANTUM_BYTES * 8 * 1000) / segment.uplinkBps;
    const quanta = throttleChargedBytes(bytes) / THROTTLE_QUANTUM_BYTES;
    // The throttle's clock starts with its conditions; the message ends on one of its ticks.
    const ticksSoFar = Math.floor((atMs - segment.atMs) / quantumMs);
    const finishAt = segment.atMs + (ticksSoFar + quanta) * quantumMs;
    const nextChange =
      index + 1 < this.segments.length ? this.segments[index + 1]!.atMs : Number.POSITIVE_INFINITY;
    const releaseAt = Math.min(finishAt, nextChange);
    this.inFlight = { releaseAt };
    return releaseAt;
  }
}
