/**
 * Uplink capacity traces in mahimahi's `mm-link` format, and the link they describe.
 *
 * A trace file holds one integer per line: a time in ms from the start of the trace. Each line is
 * one chance for up to 1500 bytes to cross the link; a time written k times means k chances in that
 * millisecond. `mm-link` loops the file, with the last timestamp as its period, and serves bytes,
 * not packets: one opportunity carries 1500 bytes of whatever is queued (several small messages,
 * or part of a large one), and the bytes it cannot fill are lost to an idle link.
 */

export const TRACE_OPPORTUNITY_BYTES = 1500;

export interface UplinkTrace {
  name: string;
  /** Delivery opportunities in ms from the start, non-decreasing, all within (0, periodMs]. */
  opportunitiesMs: Float64Array;
  /** The trace repeats with this period: its last timestamp, as `mm-link` loops it. */
  periodMs: number;
}

export class TraceFormatError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

/** Reads an `mm-link` trace. Blank lines are skipped; anything else that is not a time is an error. */
export function parseMahimahiTrace(text: string, name = 'trace'): UplinkTrace {
  const times: number[] = [];
  const lines = text.split(/\r?\n/);
  let previous = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (!/^\d+$/.test(line)) throw new TraceFormatError('expected a whole number of milliseconds', i + 1);
    const ms = Number(line);
    if (!Number.isSafeInteger(ms)) throw new TraceFormatError('time too large', i + 1);
    if (ms < previous) throw new TraceFormatError(`times must not decrease (${ms} after ${previous})`, i + 1);
    times.push(ms);
    previous = ms;
  }
  if (times.length === 0) throw new TraceFormatError('the trace has no delivery opportunities');
  const periodMs = times[times.length - 1]!;
  if (periodMs <= 0)
    throw new TraceFormatError('the trace must end after 0 ms (its last time is its period)');
  return { name, opportunitiesMs: Float64Array.from(times), periodMs };
}

export function formatMahimahiTrace(trace: UplinkTrace): string {
  return Array.from(trace.opportunitiesMs, (ms) => String(Math.round(ms))).join('\n') + '\n';
}

/** Index of the first opportunity at or after `ms` within one period (length when none). */
function firstAtOrAfter(opportunities: Float64Array, ms: number): number {
  let low = 0;
  let high = opportunities.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (opportunities[mid]! < ms) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Opportunities of the looped trace strictly before `ms`: also the index of the first one at or
 * after it. A trace's last time equals the next loop's time 0, so a time on a loop boundary
 * belongs to the loop that ends there.
 */
export function opportunitiesBefore(trace: UplinkTrace, ms: number): number {
  let loops = Math.floor(ms / trace.periodMs);
  let within = ms - loops * trace.periodMs;
  if (within === 0 && loops > 0) {
    loops -= 1;
    within = trace.periodMs;
  }
  return loops * trace.opportunitiesMs.length + firstAtOrAfter(trace.opportunitiesMs, within);
}

/** Opportunities in [fromMs, toMs) of the looped trace. */
export function opportunitiesBetween(trace: UplinkTrace, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  return opportunitiesBefore(trace, toMs) - opportunitiesBefore(trace, fromMs);
}

/** Capacity of each `stepMs` window over one period, in bits per second. */
export function capacityPerStep(trace: UplinkTrace, stepMs = 1000): Float64Array {
  const steps = Math.ceil(trace.periodMs / stepMs);
  const rates = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const from = i * stepMs;
    const to = Math.min(trace.periodMs, from + stepMs);
    rates[i] = (opportunitiesBetween(trace, from, to) * TRACE_OPPORTUNITY_BYTES * 8 * 1000) / (to - from);
  }
  return rates;
}

export function meanCapacityBps(trace: UplinkTrace): number {
  return (trace.opportunitiesMs.length * TRACE_OPPORTUNITY_BYTES * 8 * 1000) / trace.periodMs;
}

/**
 * The link a trace describes, as `mm-link` serves it: one FIFO queue of bytes, drained 1500 bytes
 * per opportunity. `send(atMs, bytes)` returns when the message's last byte crosses. Messages must be sent in
 * non-decreasing time order (a simulator's clock). An opportunity at the very millisecond a
 * message is sent carries it, as in `mm-link`, which serves every opportunity due by now.
 */
export class TraceLink {
  /** Absolute index (across loops) of the next unused opportunity. */
  private nextOpportunity = 0;
  /** Bytes still free in the opportunity before `nextOpportunity`, usable until the queue empties. */
  private bytesLeftInCurrent = 0;
  /** Time the last queued byte crosses: after it the queue is empty. */
  private queueEmptyAt = Number.NEGATIVE_INFINITY;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly trace: UplinkTrace,
    /** Where in the trace the link's time 0 falls (to replay a segment). */
    private readonly offsetMs = 0,
  ) {}

  private opportunityTime(index: number): number {
    const length = this.trace.opportunitiesMs.length;
    const period = Math.floor(index / length);
    return (
      period * this.trace.periodMs + this.trace.opportunitiesMs[index - period * length]! - this.offsetMs
    );
  }

  send(atMs: number, bytes: number): number {
    if (!(bytes > 0) || !Number.isFinite(bytes)) throw new RangeError(`bytes must be positive, got ${bytes}`);
    if (atMs < this.lastSentAt) throw new RangeError('messages must be sent in time order');
    this.lastSentAt = atMs;
    let remaining = bytes;
    if (atMs <= this.queueEmptyAt && this.bytesLeftInCurrent > 0) {
      // Queued behind bytes still crossing: the rest of their last opportunity carries ours too.
      const used = Math.min(this.bytesLeftInCurrent, remaining);
      this.bytesLeftInCurrent -= used;
      remaining -= used;
      if (remaining === 0) return this.queueEmptyAt;
    } else if (atMs > this.queueEmptyAt) {
      // An idle link: opportunities that passed unused are gone.
      const skipTo = opportunitiesBefore(this.trace, atMs + this.offsetMs);
      this.nextOpportunity = Math.max(this.nextOpportunity, skipTo);
      this.bytesLeftInCurrent = 0;
    }
    const needed = Math.ceil(remaining / TRACE_OPPORTUNITY_BYTES);
    const last = this.nextOpportunity + needed - 1;
    this.nextOpportunity = last + 1;
    this.bytesLeftInCurrent = needed * TRACE_OPPORTUNITY_BYTES - remaining;
    // Float rounding of the offset must not deliver a byte before it was sent.
    this.queueEmptyAt = Math.max(atMs, this.opportunityTime(last));
    return this.queueEmptyAt;
  }
}
