/**
 * Generated uplink traces in `mm-link` form, the project's own (the real cellular traces live
 * outside the repository, under their own licence).
 *
 * A rate r bit/s gives r / 12,000,000 opportunities of 1500 bytes per ms; they are laid out on whole
 * milliseconds by carrying the fractional part from one millisecond to the next, as a trace
 * recorded at 1 ms resolution would look. Every trace ends with an opportunity at its last
 * millisecond, because `mm-link` takes the last timestamp as the period it loops with.
 */
import { mulberry32 } from './sampling';
import { TRACE_OPPORTUNITY_BYTES, type UplinkTrace } from './uplinkTrace';

const OPPORTUNITY_BITS = TRACE_OPPORTUNITY_BYTES * 8;

/** Lays out opportunities for a rate that may change every millisecond. */
function traceFromRates(name: string, durationMs: number, bpsAt: (ms: number) => number): UplinkTrace {
  if (!Number.isInteger(durationMs) || durationMs < 1)
    throw new RangeError(`durationMs must be a positive integer, got ${durationMs}`);
  const times: number[] = [];
  let credit = 0;
  for (let ms = 1; ms <= durationMs; ms++) {
    const bps = bpsAt(ms - 1);
    if (!(bps >= 0) || !Number.isFinite(bps)) throw new RangeError(`rate at ${ms - 1} ms is ${bps}`);
    // In bits, so that whole rates (1200 bit/ms) add up without rounding error.
    credit += bps / 1000;
    while (credit >= OPPORTUNITY_BITS) {
      times.push(ms);
      credit -= OPPORTUNITY_BITS;
    }
  }
  if (times[times.length - 1] !== durationMs) times.push(durationMs);
  return { name, opportunitiesMs: Float64Array.from(times), periodMs: durationMs };
}

export interface StepSpec {
  kbps: number;
  durationMs: number;
}

/** Constant rates one after another, e.g. 2 Mbit/s for 60 s, then 64 kbit/s for 60 s. */
export function stepTrace(name: string, steps: readonly StepSpec[]): UplinkTrace {
  if (steps.length === 0) throw new RangeError('a step trace needs at least one step');
  const ends: number[] = [];
  let total = 0;
  for (const step of steps) {
    total += step.durationMs;
    ends.push(total);
  }
  return traceFromRates(name, total, (ms) => {
    let i = 0;
    while (ms >= ends[i]!) i++;
    return steps[i]!.kbps * 1000;
  });
}

export interface MarkovOnOffSpec {
  seed: number;
  durationMs: number;
  /** Mean rate while on; each on period draws its own rate around it (log-uniform, ×/÷ spread). */
  onKbps: number;
  spread: number;
  meanOnMs: number;
  meanOffMs: number;
  /** Rate while "off": 0 for an outage, or a trickle. */
  offKbps: number;
}

/**
 * A two-state (on/off) Markov link: sojourn times are exponential with the given means, the on
 * rate varies from one on period to the next. It models a cellular uplink that fades out and back.
 */
export function markovOnOffTrace(name: string, spec: MarkovOnOffSpec): UplinkTrace {
  if (!(spec.spread >= 1)) throw new RangeError('spread must be at least 1');
  const random = mulberry32(spec.seed);
  const exponential = (mean: number): number => -mean * Math.log(1 - random());
  let on = true;
  let stateEndsAt = exponential(spec.meanOnMs);
  let onBps = spec.onKbps * 1000;
  return traceFromRates(name, spec.durationMs, (ms) => {
    while (ms >= stateEndsAt) {
      on = !on;
      stateEndsAt += exponential(on ? spec.meanOnMs : spec.meanOffMs);
      if (on) onBps = spec.onKbps * 1000 * Math.pow(spec.spread, 2 * random() - 1);
    }
    return on ? onBps : spec.offKbps * 1000;
  });
}

/** The traces the project ships (traces/*.up), made by scripts/generate-traces.ts. */
export function shippedTraces(): UplinkTrace[] {
  return [
    stepTrace('steps-2000-64', [
      { kbps: 2000, durationMs: 60_000 },
      { kbps: 64, durationMs: 60_000 },
      { kbps: 256, durationMs: 60_000 },
      { kbps: 1000, durationMs: 60_000 },
    ]),
    markovOnOffTrace('markov-onoff', {
      seed: 7,
      durationMs: 300_000,
      onKbps: 800,
      spread: 3,
      meanOnMs: 8000,
      meanOffMs: 2000,
      offKbps: 0,
    }),
  ];
}
