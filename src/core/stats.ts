/**
 * Statistics for the live view: a fixed-size ring buffer for per-inference data, order statistics,
 * and the uplink bandwidth / RTT estimator. Framework-free, shared with the benchmarks.
 */

/** Fixed-capacity FIFO that overwrites the oldest item; never allocates after construction. */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Items ever pushed, including overwritten ones. */
  private pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[(this.head + this.count) % this.capacity] = item;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
    this.pushed++;
  }

  get size(): number {
    return this.count;
  }

  get totalPushed(): number {
    return this.pushed;
  }

  /** i = 0 is the oldest item still held. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) % this.capacity];
  }

  last(): T | undefined {
    return this.at(this.count - 1);
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity]!);
    return out;
  }

  /** The newest `n` items, oldest first. */
  tail(n: number): T[] {
    const from = Math.max(0, this.count - n);
    const out: T[] = [];
    for (let i = from; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity]!);
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}

/** Linear-interpolated quantile (q in [0,1]) of unsorted values; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const weight = position - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Bytes Chromium's DevTools throttle charges for one WebSocket message of `n` payload bytes:
 * whole 1500-byte quanta, floor(n/1500)+1 of them (measured: 1..1,490 B cost one quantum,
 * 1,500..2,990 B two, 20,000 B fourteen).
 */
export const THROTTLE_QUANTUM_BYTES = 1500;
export function throttleChargedBytes(n: number): number {
  return (Math.floor(n / THROTTLE_QUANTUM_BYTES) + 1) * THROTTLE_QUANTUM_BYTES;
}

/** Time a DevTools-throttled uplink of `bitsPerSecond` needs for one n-byte WebSocket message. */
export function throttledMessageMs(n: number, bitsPerSecond: number): number {
  return (throttleChargedBytes(n) * 8 * 1000) / bitsPerSecond;
}

export interface UplinkSample {
  /** Device clock (ms) when the message was handed to the socket. */
  sentAt: number;
  /** Device clock (ms) when the server received it: server timestamp minus clock offset. */
  arrivedAt: number;
  /** WebSocket payload bytes of the message. */
  wireBytes: number;
  /** Round trip minus server time, ms. */
  networkMs: number;
}

export interface BandwidthEstimate {
  /** Uplink bits per second, or null before any sample. */
  uplinkBps: number | null;
  /** Median network round trip (RTT minus server time) of the window, ms. */
  rttMs: number | null;
  samples: number;
}

/**
 * Estimates uplink bandwidth from the traffic itself.
 *
 * Each message is charged the bytes the DevTools throttle charges (whole 1500-byte quanta), so a
 * 49-byte bottleneck is not mistaken for a 49-byte transfer. Messages share one FIFO link, so a
 * message queued behind another is only timed from when the link became free
 * (max(sent, previous arrival)) until it arrived.
 *
 * The throttle releases quanta on a free-running clock (measured in this Chromium after a throttle
 * change mid-stream: one-quantum messages at 64 kbit/s took anything from 47 to 190 ms, never
 * more than one 187.5 ms quantum). A message that finds the link idle therefore waits only for the
 * rest of the current quantum plus its other quanta, and averaging bits over busy time reads up
 * to twice the setting. What does not depend on that phase is the upper envelope: no message takes
 * longer than its quanta times one quantum's time. So the estimate is one quantum's bits over the
 * 90th percentile of per-quantum transfer times in a sliding window (each message's time less a
 * few ms of processing jitter; the percentile, not the maximum, so that a few stalled samples do
 * not count), and never over less than the mean per-quantum time over busy time, which wins on
 * fast links. When the link is busy, every message starts on a
 * quantum boundary and all of them measure it exactly.
 */
/**
 * Processing jitter on a message's measured transfer time (socket thread hand-over, the server's
 * event loop, clock offset): one-byte probes on an unthrottled loopback measure 2-4 ms here.
 */
const TRANSFER_JITTER_MS = 3;

export class UplinkEstimator {
  private readonly samples: UplinkSample[] = [];
  /** Arrival of the newest sample that left the window: the link was busy until then. */
  private evictedArrival = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs = 3000,
    private readonly minSamples = 2,
  ) {}

  add(sample: UplinkSample): void {
    // Keep samples ordered by arrival: the link is FIFO, so arrival order is send order.
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1]!.arrivedAt > sample.arrivedAt) i--;
    this.samples.splice(i, 0, sample);
    const newest = this.samples[this.samples.length - 1]!.arrivedAt;
    // Keep at least minSamples even when they are older than the window (slow links).
    while (this.samples.length > this.minSamples && this.samples[0]!.arrivedAt < newest - this.windowMs) {
      this.evictedArrival = Math.max(this.evictedArrival, this.samples.shift()!.arrivedAt);
    }
  }

  estimate(): BandwidthEstimate {
    if (this.samples.length === 0) return { uplinkBps: null, rttMs: null, samples: 0 };
    const messages: { quanta: number; transferMs: number; perQuantumMs: number }[] = [];
    let previousArrival = this.evictedArrival;
    for (const sample of this.samples) {
      const linkFreeAt = Math.max(sample.sentAt, previousArrival);
      const transferMs = sample.arrivedAt - linkFreeAt;
      const sampleQuanta = throttleChargedBytes(sample.wireBytes) / THROTTLE_QUANTUM_BYTES;
      if (transferMs > 0) {
        // Jitter is paid once per message, not per quantum.
        const perQuantumMs = Math.max(0, transferMs - TRANSFER_JITTER_MS) / sampleQuanta;
        messages.push({ quanta: sampleQuanta, transferMs, perQuantumMs });
      }
      previousArrival = Math.max(previousArrival, sample.arrivedAt);
    }
    if (messages.length === 0)
      return {
        uplinkBps: null,
        rttMs: median(this.samples.map((s) => s.networkMs)),
        samples: this.samples.length,
      };
    // The 90th percentile rather than the maximum: a stall elsewhere (a busy server, a descheduled
    // thread) stretches a few samples, and those must not drag the estimate down.
    const envelopeMs = quantile(
      messages.map((message) => message.perQuantumMs),
      0.9,
    );
    // The mean leaves out the same stalled samples.
    let quanta = 0;
    let busyMs = 0;
    for (const message of messages)
      if (message.perQuantumMs <= envelopeMs) {
        quanta += message.quanta;
        busyMs += message.transferMs;
      }
    // On a fast link a quantum lasts a few ms and the envelope mostly measures jitter; there the
    // mean over busy time (which the clock phase barely moves) is the better figure.
    const quantumMs = Math.max(busyMs / quanta, envelopeMs);
    return {
      uplinkBps: (THROTTLE_QUANTUM_BYTES * 8 * 1000) / quantumMs,
      rttMs: median(this.samples.map((s) => s.networkMs)),
      samples: this.samples.length,
    };
  }

  clear(): void {
    this.samples.length = 0;
    this.evictedArrival = Number.NEGATIVE_INFINITY;
  }
}

/**
 * NTP-style clock offset (server minus device) from request/response pairs; the sample with the
 * smallest round trip bounds the error best (|error| <= rtt/2), so it wins. Only samples of the
 * last `windowMs` compete, so clock drift cannot build up; the window is long (10 min) because
 * probes taken under an uplink-only throttle are asymmetric and biased by half their uplink time,
 * so an early unthrottled probe must not be forgotten quickly. (Drift of a synchronised clock over
 * 10 min is well under a millisecond.)
 */
export class ClockOffsetEstimator {
  private samples: { at: number; offsetMs: number; rttMs: number }[] = [];

  constructor(private readonly windowMs = 600_000) {}

  add(deviceSentAt: number, serverAt: number, deviceReceivedAt: number): void {
    const rttMs = deviceReceivedAt - deviceSentAt;
    const offsetMs = serverAt - (deviceSentAt + deviceReceivedAt) / 2;
    this.samples.push({ at: deviceReceivedAt, offsetMs, rttMs });
    const oldest = deviceReceivedAt - this.windowMs;
    // Keep the newest sample even when it is old: an offset with a wide bound beats none.
    while (this.samples.length > 1 && this.samples[0]!.at < oldest) this.samples.shift();
  }

  /** Offset and its error bound (half the best round trip), or null before any sample. */
  get(): { offsetMs: number; uncertaintyMs: number } | null {
    let best: { offsetMs: number; rttMs: number } | null = null;
    for (const sample of this.samples) if (!best || sample.rttMs < best.rttMs) best = sample;
    return best ? { offsetMs: best.offsetMs, uncertaintyMs: best.rttMs / 2 } : null;
  }

  reset(): void {
    this.samples = [];
  }
}
