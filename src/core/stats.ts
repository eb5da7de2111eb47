/**
 * Statistics for the live view: a fixed-size ring buffer for per-inference data, order statistics,
 * the DevTools throttle's charge per message and the clock offset to the server. The uplink
 * estimator is in uplinkEstimator.ts. Framework-free, shared with the benchmarks.
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
