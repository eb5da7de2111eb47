/**
 * Uplink bandwidth from the traffic itself, on a link that serialises whole 1500-byte quanta on
 * its own clock, as Chromium's DevTools throttle does (see `throttleChargedBytes` in stats.ts).
 *
 * Why not bits over transfer time: a message that finds the link idle waits only for the rest of
 * the throttle's current quantum, and with one request in flight the request cycle locks onto the
 * throttle's clock, so a one-quantum message takes some fixed fraction of a quantum (measured:
 * 17-42 ms of 46.9 ms at 256 kbit/s). Any statistic of transfer times then reads that fraction as
 * bandwidth. What does not depend on the phase is *when* messages arrive: every throttled message
 * leaves on a tick of the throttle's clock, and messages queued behind it leave with it. So the
 * server's receive times, whatever the phase and however many requests are in flight, lie on a
 * comb of period Q (one quantum's time) plus a little processing jitter. The estimator fits that
 * comb (packet-pair dispersion, generalised to every arrival of the window), and each message that
 * found the link idle bounds Q by its own transfer time: an n-quantum message takes more than
 * (n-1)·Q and at most n·Q. The bounds pick the comb's fundamental among its multiples and
 * submultiples, and on their own (idle probes of a few quanta) give an interval when no comb fits.
 *
 * The figure comes with an interval. When nothing bounds the bandwidth from above (an unthrottled
 * link, where transfers are all jitter), `uplinkBps` is null ("unknown") and the interval says what
 * is known, e.g. "at least 20 Mbit/s".
 */
import { median, quantile, THROTTLE_QUANTUM_BYTES, throttleChargedBytes } from './stats';

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

/**
 * How the uplink figure was obtained: 'quantum-clock', a fit of the throttle's clock to the
 * arrival times (precise); 'transfer-bounds', the intersection of each idle message's transfer
 * bounds (wider: ±1/(2n-1) for n-quantum probes); 'none' when neither holds.
 */
export type UplinkMethod = 'quantum-clock' | 'transfer-bounds' | 'none';

export interface BandwidthEstimate {
  /**
   * Uplink bits per second; null when unknown: no samples, or nothing bounds it from above (an
   * unthrottled link), or the samples contradict each other. Then the interval below, if any,
   * says what is known.
   */
  uplinkBps: number | null;
  /**
   * The interval the bandwidth lies in (about 95 % for a clock fit; for transfer bounds, the
   * bounds themselves), bit/s. `uplinkLowBps` null: no lower bound; `uplinkHighBps` null: no upper
   * bound. Both null when nothing is known.
   */
  uplinkLowBps: number | null;
  uplinkHighBps: number | null;
  /**
   * Half the interval's width over the figure (0.05: ±5 %); null without a figure. What a cost
   * model should widen its uplink times by.
   */
  uplinkRelativeUncertainty: number | null;
  /** Time the link takes per 1500-byte quantum (ms), the figure's basis; null without a figure. */
  quantumMs: number | null;
  method: UplinkMethod;
  /** Median network round trip (RTT minus server time) of the window, ms. */
  rttMs: number | null;
  samples: number;
}

const QUANTUM_BITS = THROTTLE_QUANTUM_BYTES * 8;
/**
 * Shortest quantum the clock fit looks for (3 Mbit/s): arrival jitter on a loaded 2-core machine
 * is up to about a millisecond, and a tick's tolerance is a sixth of its period.
 */
export const MIN_QUANTUM_MS = 4;
/** Longest quantum considered (48 kbit/s ... 6 kbit/s): slower links take minutes to fit. */
const MAX_QUANTUM_MS = 2000;
/**
 * Processing jitter on a message's measured transfer time (socket thread hand-over, the server's
 * event loop, clock offset): one-byte probes on an unthrottled loopback measure 2-4 ms here.
 */
const TRANSFER_JITTER_MS = 2;
/** A message sent this long after the previous arrival found the link idle (clock offset error). */
const IDLE_MARGIN_MS = 1;
/** Consecutive arrivals closer than this left with the same tick (queued behind each other). */
const SAME_TICK_MS = 1.25;
/** The share of a fit's samples that must lie on the comb and the share of bounds it may break. */
const MIN_INLIER_SHARE = 0.75;
const MAX_VIOLATION_SHARE = 0.1;
/** Share of multi-quantum messages that may beat their quanta (released by a change) in a fit. */
const MAX_FAST_SHARE = 0.02;
/** Fits within this of the best inlier share compete; the longest period among them wins. */
const COMPETING_SHARE = 0.05;
/** Share of the newest quarter's arrivals a fit must explain. */
const RECENT_AGREEMENT = 0.6;
/** Guesses divide a gap by at most this: a gap of more ticks than that is rarely the smallest. */
const MAX_DIVISOR = 40;
/** Fewest messages a clock is fitted to. */
const MIN_FIT_MESSAGES = 5;
/** Largest chance that random arrivals produce a fit as good, over all periods tried. */
const MAX_CHANCE_FIT = 1e-4;
/** The estimate is recomputed at most this often (arrival clock), not on every sample. */
const RECOMPUTE_EVERY_MS = 50;
/** How long after its clock was last fitted an estimate may stand while no clock fits (arrival clock). */
const HOLD_FIT_MS = 3000;
/** While a figure is held, its interval widens by this share per second of arrivals since. */
const HELD_WIDENING_PER_S = 0.05;
/** While a fit is held, transfer jitter a message may show before it counts as late. */
const HELD_FIT_JITTER_MS = 10;
/** While a fit is held, one message this much later than its quanta allow ends it on its own. */
const HELD_FIT_STALL_MS = 50;

/**
 * How far an arrival may sit from its tick: a sixth of Q (so a random arrival is on a tick one time
 * in three), at most 4 ms.
 */
function tickTolerance(quantumMs: number): number {
  return Math.min(quantumMs / 6, 4);
}

export interface Message {
  arrivedAt: number;
  quanta: number;
  /** Sent after the previous arrival, so the throttle timed it from its send. */
  idle: boolean;
  transferMs: number;
}

interface ClockFit {
  quantumMs: number;
  standardErrorMs: number;
  inliers: number;
  inlierShare: number;
  /** The shortest period that fits as well and that the bounds allow (ambiguity), less 2 SE, ms. */
  shortestCompetingMs: number;
}

/** Took longer than its quanta allow: a stall elsewhere (the server busy, a thread descheduled). */
function tooSlow(message: Message, quantumMs: number): boolean {
  return message.transferMs > message.quanta * quantumMs + TRANSFER_JITTER_MS;
}

/**
 * A message of several quanta took longer than they allow by more than a stall (beyond half a
 * quantum and the jitter of a loaded machine): the link is slower than `quantumMs` says, and the
 * message's own bounds say how slow. (One quantum that long may be a server pause: it bounds the
 * link only from one side, and a clock that explains everything else stands.)
 */
function stalledFarBeyond(message: Message | null, quantumMs: number): boolean {
  if (!message || message.quanta < 2) return false;
  const lateAfterMs = Math.max(quantumMs / 2, HELD_FIT_JITTER_MS);
  return message.transferMs - (message.quanta * quantumMs + lateAfterMs) > HELD_FIT_STALL_MS;
}

/** Took less than its whole quanta: only a change of conditions (which releases it) does that. */
function tooFast(message: Message, quantumMs: number): boolean {
  return message.transferMs < (message.quanta - 1) * quantumMs - TRANSFER_JITTER_MS;
}

function withinBounds(message: Message, quantumMs: number): boolean {
  return !tooSlow(message, quantumMs) && !tooFast(message, quantumMs);
}

function leastSquares(ks: number[], ys: number[]): { slope: number; intercept: number; slopeSe: number } {
  const n = ks.length;
  let kMean = 0;
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    kMean += ks[i]!;
    yMean += ys[i]!;
  }
  kMean /= n;
  yMean /= n;
  let skk = 0;
  let sky = 0;
  for (let i = 0; i < n; i++) {
    skk += (ks[i]! - kMean) ** 2;
    sky += (ks[i]! - kMean) * (ys[i]! - yMean);
  }
  const slope = skk > 0 ? sky / skk : Number.NaN;
  const intercept = yMean - slope * kMean;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - intercept - slope * ks[i]!) ** 2;
  const slopeSe = n > 2 && skk > 0 ? Math.sqrt(sse / (n - 2) / skk) : Number.POSITIVE_INFINITY;
  return { slope, intercept, slopeSe };
}

/**
 * Fits arrivals to a comb a_i = phase + k_i·Q starting from a guess of Q: ticks are counted gap by
 * gap (so a guess a few % off still numbers them right), then Q and the phase are fitted by least
 * squares on the arrivals near their ticks, twice.
 */
export function fitComb(
  messages: Message[],
  guessMs: number,
): { quantumMs: number; phase: number; standardErrorMs: number; onTick: boolean[] } | null {
  const n = messages.length;
  const arrivals = messages.map((message) => message.arrivedAt);
  // Counted back from the newest arrival, refined only by arrivals near their ticks, and the first
  // pass as wide as a quarter period: after a change of conditions the oldest arrivals of the
  // window are off the new comb, and a line anchored on them (or a least-squares line through
  // them) misses the new ticks by more than their tolerance (live after 2000 → 64 kbit/s: two
  // 2 Mbit/s arrivals ahead of eleven on a 187.5 ms comb to a millisecond, and no fit).
  const ticks: number[] = new Array<number>(n).fill(0);
  const newest = arrivals[n - 1]!;
  let period = guessMs;
  for (let i = n - 2; i >= 0; i--) {
    const k = ticks[i + 1]! - Math.round((arrivals[i + 1]! - arrivals[i]!) / period);
    ticks[i] = k;
    const offTick = Math.abs(newest - arrivals[i]! + k * period);
    if (k <= -4 && offTick <= period / 4) period = (newest - arrivals[i]!) / -k;
  }
  let fit = { slope: period, intercept: newest, slopeSe: Number.NaN };
  let onTick: boolean[] = [];
  for (let pass = 0; pass < 4; pass++) {
    if (!(fit.slope >= MIN_QUANTUM_MS * 0.9 && fit.slope <= MAX_QUANTUM_MS)) return null;
    const tolerance =
      pass === 0 ? Math.max(fit.slope / 4, tickTolerance(fit.slope)) : tickTolerance(fit.slope);
    const keptTicks: number[] = [];
    const keptArrivals: number[] = [];
    onTick = arrivals.map((arrival, i) => {
      const k = Math.round((arrival - fit.intercept) / fit.slope);
      ticks[i] = k;
      const near = Math.abs(arrival - fit.intercept - k * fit.slope) <= tolerance;
      if (near) {
        keptTicks.push(k);
        keptArrivals.push(arrival);
      }
      return near;
    });
    if (keptTicks.length < 3) return null;
    fit = leastSquares(keptTicks, keptArrivals);
  }
  if (!Number.isFinite(fit.slope)) return null;
  return { quantumMs: fit.slope, phase: fit.intercept, standardErrorMs: fit.slopeSe, onTick };
}

/** The largest value but the top tenth, or the second largest of a few; `none` for none. */
function robustMax(values: number[], none: number): number {
  if (values.length === 0) return none;
  if (values.length >= 10) return quantile(values, 0.9);
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[values.length >= 3 ? 1 : 0]!;
}

/** P(X >= k) for X ~ Binomial(n, p). */
export function binomialTail(n: number, k: number, p: number): number {
  let term = (1 - p) ** n;
  let tail = k <= 0 ? term : 0;
  for (let i = 1; i <= n; i++) {
    term *= ((n - i + 1) / i) * (p / (1 - p));
    if (i >= k) tail += term;
  }
  return Math.min(1, tail);
}

/** Guesses of Q: divisors of typical gaps between arrivals that left on different ticks. */
export function periodGuesses(messages: Message[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < messages.length; i++) {
    const gap = messages[i]!.arrivedAt - messages[i - 1]!.arrivedAt;
    if (gap > SAME_TICK_MS) gaps.push(gap);
  }
  if (gaps.length === 0) return [];
  const guesses: number[] = [];
  // Gaps that occurred, not interpolated between them: two gaps of 1 and 2 quanta interpolate to
  // 1.5, whose divisors miss the period (live at 64 kbit/s: 280.5 ms between gaps of 186 and 375).
  const sorted = [...gaps].sort((a, b) => a - b);
  for (const q of [0.1, 0.3, 0.5]) {
    const gap = sorted[Math.round(q * (sorted.length - 1))]!;
    const divisors = Math.min(MAX_DIVISOR, Math.floor(gap / MIN_QUANTUM_MS));
    for (let divisor = 1; divisor <= divisors; divisor++) {
      const guess = gap / divisor;
      if (guess > MAX_QUANTUM_MS) continue;
      if (guesses.every((other) => Math.abs(other - guess) / guess > 0.01)) guesses.push(guess);
    }
  }
  return guesses;
}

interface Candidate extends Omit<ClockFit, 'shortestCompetingMs'> {
  phase: number;
  /** Distance of each arrival from its tick, ms. */
  residuals: number[];
}

/** The longest period among the best-fitting combs that the transfer bounds allow. */
export function fitClock(messages: Message[]): ClockFit | null {
  const idle = messages.filter((message) => message.idle);
  const multi = idle.filter((message) => message.quanta >= 2);
  // Stalls happen to any message; a multi-quantum message that beats its quanta is rare (released
  // by a change of conditions), so a single probe of a few quanta can rule a period out.
  const allowedSlow = Math.floor(idle.length * MAX_VIOLATION_SHARE);
  const allowedFast = Math.floor(multi.length * MAX_FAST_SHARE);
  // A stalled message must not rule the true period out: the bounds leave the extremes out.
  const lower = robustMax(
    idle.map((m) => (m.transferMs - TRANSFER_JITTER_MS) / m.quanta),
    0,
  );
  const upper = -robustMax(
    multi.map((m) => -(m.transferMs + TRANSFER_JITTER_MS) / (m.quanta - 1)),
    Number.NEGATIVE_INFINITY,
  );
  const newest = messages[messages.length - 1]!.arrivedAt;
  const recentFrom = newest - (newest - messages[0]!.arrivedAt) / 4;
  // Only periods the bounds allow are tried, and the fewer they are, the less a fit can be luck.
  const guesses = periodGuesses(messages).filter(
    (guess) => guess >= lower * 0.95 - 0.5 && guess <= upper * 1.05 + 0.5,
  );
  const groupStarts: number[] = [];
  messages.forEach((message, i) => {
    if (i === 0 || message.arrivedAt - messages[i - 1]!.arrivedAt > SAME_TICK_MS) groupStarts.push(i);
  });
  const candidates: Candidate[] = [];
  for (const guess of guesses) {
    const comb = fitComb(messages, guess);
    if (!comb || comb.quantumMs < MIN_QUANTUM_MS) continue;
    if (candidates.some((other) => Math.abs(other.quantumMs - comb.quantumMs) / comb.quantumMs < 0.01))
      continue;
    const inliers = comb.onTick.filter(Boolean).length;
    const inlierShare = inliers / messages.length;
    if (inlierShare < MIN_INLIER_SHARE) continue;
    // Random arrivals sit within a sixth of a period of some tick one time in three: a fit must be
    // far beyond what luck gives over all the periods tried (sparse arrivals many ticks apart fit
    // many aliases of the period, which the count of guesses reflects). Messages released together
    // are one event, and the phase and period are fitted, so two events are on ticks regardless.
    // Past 24 ms the tolerance stays at 4 ms and the odds are 2·tolerance / Q (one in 23 at
    // 64 kbit/s), but a message that went straight through sits where its sender put it, and a
    // sender may keep time (a fixed rate, an unthrottled request cycle): only messages that waited
    // on the link count at those odds. Counting all at one in three asked for 12 events on ticks,
    // more than a window of sparse one-quantum messages holds (live at 8× after 2000 → 64 kbit/s:
    // 9 events on a 187.5 ms comb to a millisecond refused for 7 s, while one probe's transfer
    // bounds read 48 kbit/s).
    const groupsOnTick = groupStarts.filter((i) => comb.onTick[i]).length;
    if (groupsOnTick < MIN_INLIER_SHARE * groupStarts.length) continue;
    const tolerance = tickTolerance(comb.quantumMs);
    const waited = groupStarts.filter((i) => messages[i]!.transferMs > tolerance + TRANSFER_JITTER_MS);
    const waitedOnTick = waited.filter((i) => comb.onTick[i]).length;
    const chanceAtAThird = binomialTail(groupStarts.length - 2, groupsOnTick - 2, 1 / 3);
    const chanceOfWaited = binomialTail(
      waited.length - 2,
      waitedOnTick - 2,
      (2 * tolerance) / comb.quantumMs,
    );
    if (Math.min(chanceAtAThird, chanceOfWaited) * guesses.length > MAX_CHANCE_FIT) continue;
    if (idle.filter((message) => tooSlow(message, comb.quantumMs)).length > allowedSlow) continue;
    if (multi.filter((message) => tooFast(message, comb.quantumMs)).length > allowedFast) continue;
    // The newest quarter of the window must agree too: after a change of conditions the old
    // samples would otherwise outvote the new ones for a whole window.
    let recent = 0;
    let recentGood = 0;
    messages.forEach((message, i) => {
      if (message.arrivedAt < recentFrom && i < messages.length - 2) return;
      recent++;
      if (comb.onTick[i] && (!message.idle || withinBounds(message, comb.quantumMs))) recentGood++;
    });
    if (recentGood < RECENT_AGREEMENT * recent) continue;
    const residuals = messages.map((message) => {
      const offset = message.arrivedAt - comb.phase;
      return offset - Math.round(offset / comb.quantumMs) * comb.quantumMs;
    });
    candidates.push({
      quantumMs: comb.quantumMs,
      standardErrorMs: comb.standardErrorMs,
      inliers,
      inlierShare,
      phase: comb.phase,
      residuals,
    });
  }
  if (candidates.length === 0) return null;
  // Candidates compete at the tolerance of the shortest one: a longer period's looser tolerance
  // would favour it. Submultiples of the true period fit as well as it does (every tick of Q is a
  // tick of Q/2), so the longest competitive period is the fundamental unless the bounds ruled it
  // out above; the shortest competitive one is what the data cannot rule out, and the interval
  // reaches to it.
  const tolerance = tickTolerance(Math.min(...candidates.map((c) => c.quantumMs)));
  const share = (candidate: Candidate) =>
    candidate.residuals.filter((residual) => Math.abs(residual) <= tolerance).length / messages.length;
  const best = Math.max(...candidates.map(share));
  const competing = candidates.filter((candidate) => share(candidate) >= best - COMPETING_SHARE);
  const chosen = competing.reduce((a, b) => (b.quantumMs > a.quantumMs ? b : a));
  const shortest = competing.reduce((a, b) => (b.quantumMs < a.quantumMs ? b : a));
  return {
    quantumMs: chosen.quantumMs,
    standardErrorMs: chosen.standardErrorMs,
    inliers: chosen.inliers,
    inlierShare: chosen.inlierShare,
    shortestCompetingMs: shortest.quantumMs - 2 * shortest.standardErrorMs,
  };
}

/** Bandwidth interval from the idle messages' transfer bounds alone. */
function boundsEstimate(
  messages: Message[],
): Pick<
  BandwidthEstimate,
  'uplinkBps' | 'uplinkLowBps' | 'uplinkHighBps' | 'uplinkRelativeUncertainty' | 'quantumMs' | 'method'
> {
  const unknown = {
    uplinkBps: null,
    uplinkLowBps: null,
    uplinkHighBps: null,
    uplinkRelativeUncertainty: null,
    quantumMs: null,
    method: 'none' as const,
  };
  const idle = messages.filter((message) => message.idle);
  if (idle.length === 0) return unknown;
  const lowers = idle.map((m) => (m.transferMs - TRANSFER_JITTER_MS) / m.quanta);
  const uppers = idle
    .filter((m) => m.quanta >= 2)
    .map((m) => (m.transferMs + TRANSFER_JITTER_MS) / (m.quanta - 1));
  // With a few samples, the second-most-extreme bound: one stalled or released message must not
  // decide alone.
  let lowerMs = lowers.length >= 5 ? quantile(lowers, 0.8) : Math.max(...lowers);
  const upperMs =
    uppers.length === 0
      ? Number.POSITIVE_INFINITY
      : uppers.length >= 5
        ? quantile(uppers, 0.2)
        : Math.min(...uppers);
  if (upperMs < lowerMs) return unknown;
  // A lower bound on Q within jitter of zero bounds nothing (an unthrottled loopback).
  if (lowerMs < MIN_QUANTUM_MS / 2) lowerMs = 0;
  const lowBps = Number.isFinite(upperMs) ? (QUANTUM_BITS * 1000) / upperMs : null;
  const highBps = lowerMs > 0 ? (QUANTUM_BITS * 1000) / lowerMs : null;
  if (lowBps === null || highBps === null)
    return { ...unknown, uplinkLowBps: lowBps, uplinkHighBps: highBps, method: 'transfer-bounds' };
  // A message sent at a random phase takes (n - U)·Q, U uniform: (n - 1/2)·Q on average. Under the
  // phase lock U is not uniform; its error is a share 1/(2n - 1) of a message of n quanta, so
  // messages of several quanta (a probe), when there are any, make the figure alone.
  const several = idle.filter((message) => message.quanta >= 2);
  let transfer = 0;
  let quanta = 0;
  for (const message of several.length > 0 ? several : idle) {
    transfer += message.transferMs;
    quanta += message.quanta - 0.5;
  }
  const quantumMs = Math.min(Math.max(transfer / quanta, lowerMs), upperMs);
  const uplinkBps = (QUANTUM_BITS * 1000) / quantumMs;
  return {
    uplinkBps,
    uplinkLowBps: lowBps,
    uplinkHighBps: highBps,
    uplinkRelativeUncertainty: (highBps - lowBps) / 2 / uplinkBps,
    quantumMs,
    method: 'transfer-bounds',
  };
}

export class UplinkEstimator {
  private readonly samples: UplinkSample[] = [];
  /** Arrival of the newest sample that left the window: the link was busy until then. */
  private evictedArrival = Number.NEGATIVE_INFINITY;
  private cached: BandwidthEstimate | null = null;
  /** The newest clock fit and the arrival it was made at, for a moment when none fits. */
  private lastFit: { estimate: BandwidthEstimate; atArrival: number } | null = null;
  private cachedAtArrival = Number.NEGATIVE_INFINITY;
  private newestArrival = Number.NEGATIVE_INFINITY;

  /**
   * @param windowMs samples older than this (arrival clock) leave, but
   * @param minSamples the newest ones stay however old, up to
   * @param maxAgeMs after which even those leave (a link idle that long is not known any more).
   */
  constructor(
    private readonly windowMs = 3000,
    private readonly minSamples = 8,
    private readonly maxAgeMs = 15_000,
  ) {}

  add(sample: UplinkSample): void {
    // Keep samples in send order (replies can come back out of order; the socket is FIFO, so send
    // order is arrival order, and the device's send clock has no offset error).
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1]!.sentAt > sample.sentAt) i--;
    this.samples.splice(i, 0, sample);
    const newest = Math.max(this.newestArrival, sample.arrivedAt);
    this.newestArrival = newest;
    while (
      this.samples.length > 0 &&
      this.samples[0]!.arrivedAt < newest - this.windowMs &&
      (this.samples.length > this.minSamples || this.samples[0]!.arrivedAt < newest - this.maxAgeMs)
    ) {
      this.evictedArrival = Math.max(this.evictedArrival, this.samples.shift()!.arrivedAt);
    }
    if (newest - this.cachedAtArrival >= RECOMPUTE_EVERY_MS) this.cached = null;
  }

  /** A copy of the samples the estimate rests on, in send order. */
  samplesInWindow(): UplinkSample[] {
    return this.samples.map((sample) => ({ ...sample }));
  }

  estimate(): BandwidthEstimate {
    if (this.cached) return this.cached;
    this.cached = this.compute();
    this.cachedAtArrival = this.newestArrival;
    return this.cached;
  }

  private compute(): BandwidthEstimate {
    const samples = this.samples;
    const rttMs = samples.length > 0 ? median(samples.map((s) => s.networkMs)) : null;
    const base = { rttMs, samples: samples.length };
    const messages: Message[] = [];
    let previousArrival = this.evictedArrival;
    for (const sample of samples) {
      messages.push({
        arrivedAt: sample.arrivedAt,
        quanta: throttleChargedBytes(sample.wireBytes) / THROTTLE_QUANTUM_BYTES,
        idle: sample.sentAt > previousArrival + IDLE_MARGIN_MS,
        transferMs: sample.arrivedAt - sample.sentAt,
      });
      previousArrival = Math.max(previousArrival, sample.arrivedAt);
    }
    if (messages.length === 0) return { ...boundsEstimate([]), ...base };
    // The longest recent stretch that one clock explains: after a change of conditions, that is
    // the part since the change.
    const newest = messages[messages.length - 1]!.arrivedAt;
    const newestIdle = [...messages].reverse().find((message) => message.idle) ?? null;
    let slowedDown = false;
    const span = newest - messages[0]!.arrivedAt;
    const stretches = [
      messages,
      ...[2, 4].map((divisor) => messages.filter((m) => m.arrivedAt >= newest - span / divisor)),
      messages.slice(-12),
    ];
    for (const stretch of stretches) {
      if (stretch.length < MIN_FIT_MESSAGES) continue;
      const fit = fitClock(stretch);
      if (!fit) continue;
      // A clock may tolerate a few stalled messages, but not the newest taking far longer than its
      // quanta allow: that is the link slowing down (live, after 2000 → 64 kbit/s: a 6-quantum
      // message of 1122 ms behind fifty of 38 ms, and the 2 Mbit/s clock still fitted them all).
      if (stalledFarBeyond(newestIdle, fit.quantumMs)) {
        slowedDown = true;
        continue;
      }
      // ±2 standard errors, and never tighter than ±0.5 %: the comb's own jitter is not all of it.
      const halfWidth = Math.max(2 * fit.standardErrorMs, 0.005 * fit.quantumMs);
      const uplinkBps = (QUANTUM_BITS * 1000) / fit.quantumMs;
      const lowBps = (QUANTUM_BITS * 1000) / (fit.quantumMs + halfWidth);
      const shortestMs = Math.min(fit.quantumMs - halfWidth, fit.shortestCompetingMs);
      const highBps = (QUANTUM_BITS * 1000) / Math.max(shortestMs, 1e-3);
      const estimate: BandwidthEstimate = {
        uplinkBps,
        uplinkLowBps: lowBps,
        uplinkHighBps: highBps,
        uplinkRelativeUncertainty: (highBps - lowBps) / 2 / uplinkBps,
        quantumMs: fit.quantumMs,
        method: 'quantum-clock',
        ...base,
      };
      this.lastFit = { estimate, atArrival: newest };
      return estimate;
    }
    // No clock fits: bound the bandwidth by the newest messages' transfers (older ones may predate
    // a change of conditions).
    const recent = messages.filter((m) => m.arrivedAt >= newest - this.windowMs / 2);
    // After a slowdown only the messages since say what the link is now.
    const pool = slowedDown
      ? messages.slice(messages.lastIndexOf(newestIdle!))
      : recent.length >= 3
        ? recent
        : messages.slice(-3);
    let bounds = boundsEstimate(pool);
    // The pool contradicts itself: conditions changed inside it, and the newest messages that
    // agree with each other are what the link is now (after a step down, a few slow messages of
    // several quanta behind many fast ones).
    for (let from = 1; bounds.method === 'none' && from < pool.length; from++) {
      const newer = boundsEstimate(pool.slice(from));
      if (newer.method !== 'none') bounds = newer;
    }
    // The same for bounds that older messages outvote: the newest message of several quanta ran
    // far beyond them.
    if (!slowedDown && bounds.quantumMs !== null && stalledFarBeyond(newestIdle, bounds.quantumMs))
      bounds = boundsEstimate(messages.slice(messages.lastIndexOf(newestIdle!)));
    if (bounds.uplinkBps !== null) {
      const estimate = { ...bounds, ...base };
      this.lastFit = { estimate, atArrival: newest };
      return estimate;
    }
    const held = this.heldFit(messages, newest);
    return held ? { ...held, ...base } : { ...bounds, ...base };
  }

  /**
   * The newest figure (a clock fit, or the transfer bounds of messages of several quanta), for up
   * to HOLD_FIT_MS of arrivals after it, while no message since contradicts it, its interval
   * widened by HELD_WIDENING_PER_S for every second of arrivals since. A fast link's comb is blurred
   * now and then by arrival jitter of a few ms (recorded live at 1000 kbit/s: a fit at 5654 ms lost
   * at 5881 ms and not found again for 500 ms); after a step down, the one message of several
   * quanta that measured the new link leaves the bounds' pool while the one-quantum messages since
   * bound nothing from above (live, auto at 8× after 2000 → 64 kbit/s: a figure for 2 s, then
   * "unknown" with every networked candidate unpriced). "Unknown" would claim to know less than
   * the last seconds showed.
   */
  private heldFit(messages: Message[], newest: number): BandwidthEstimate | null {
    const held = this.lastFit;
    if (!held || newest - held.atArrival > HOLD_FIT_MS) return null;
    const quantumMs = held.estimate.quantumMs!;
    // The interval's ends, as quanta: a message is late against the slowest the figure allows, and
    // arrivals are too close together against the fastest.
    const longestMs = held.estimate.uplinkLowBps
      ? (QUANTUM_BITS * 1000) / held.estimate.uplinkLowBps
      : quantumMs;
    const shortestMs = held.estimate.uplinkHighBps
      ? (QUANTUM_BITS * 1000) / held.estimate.uplinkHighBps
      : quantumMs;
    // The jitter that blurred the comb also stretches transfers (recorded live at 2000 kbit/s on a
    // loaded machine: 60-byte messages of 12-27 ms among 3 ms ones, and the estimate fell to
    // "unknown"), so a message is late only when it took longer than its quanta allow by more than
    // half a quantum and more than that jitter. Now and then a late one is a stall; a slower link
    // makes every message late, or one by far more than a stall.
    const lateAfterMs = Math.max(quantumMs / 2, HELD_FIT_JITTER_MS);
    const since = messages.filter((message) => message.arrivedAt > held.atArrival && message.idle);
    const overruns = since.map((message) => message.transferMs - (message.quanta * longestMs + lateAfterMs));
    const newestTwoLate = overruns.length >= 2 && overruns.slice(-2).every((overrun) => overrun > 0);
    if (newestTwoLate || overruns.some((overrun) => overrun > HELD_FIT_STALL_MS)) return null;
    // A faster link: messages since leave on different ticks closer together than one quantum.
    const after = messages.filter((message) => message.arrivedAt > held.atArrival);
    const shortestTickMs = shortestMs - 2 * tickTolerance(shortestMs) - TRANSFER_JITTER_MS;
    let closer = 0;
    for (let i = 1; i < after.length; i++) {
      const gap = after[i]!.arrivedAt - after[i - 1]!.arrivedAt;
      if (gap > SAME_TICK_MS && gap < shortestTickMs) closer++;
    }
    if (closer >= 2) return null;
    const ageS = Math.max(0, newest - held.atArrival) / 1000;
    if (ageS === 0) return held.estimate;
    const { uplinkBps, uplinkLowBps, uplinkHighBps, uplinkRelativeUncertainty } = held.estimate;
    const widen = 1 + HELD_WIDENING_PER_S * ageS;
    const lowBps = uplinkLowBps === null ? null : uplinkLowBps / widen;
    const highBps = uplinkHighBps === null ? null : uplinkHighBps * widen;
    return {
      ...held.estimate,
      uplinkLowBps: lowBps,
      uplinkHighBps: highBps,
      uplinkRelativeUncertainty:
        uplinkBps !== null && lowBps !== null && highBps !== null
          ? (highBps - lowBps) / 2 / uplinkBps
          : uplinkRelativeUncertainty,
    };
  }

  clear(): void {
    this.samples.length = 0;
    this.evictedArrival = Number.NEGATIVE_INFINITY;
    this.cached = null;
    this.cachedAtArrival = Number.NEGATIVE_INFINITY;
    this.newestArrival = Number.NEGATIVE_INFINITY;
    this.lastFit = null;
  }
}

/** Payload bytes of a probe the throttle charges `quanta` quanta (room left for the socket's framing). */
export function probePayloadBytes(quanta: number): number {
  return (Math.max(1, Math.round(quanta)) - 1) * THROTTLE_QUANTUM_BYTES + 700;
}

/**
 * The probe schedule the engine keeps (src/app/engine.ts) and the simulator copies: after this
 * long without traffic an idle link gets a probe, at most once a second and at most a fifth of the
 * time, but never less often than every IDLE_PROBE_MAX_GAP_MS; while streaming, a probe the
 * estimate asks for (streamProbeQuanta) goes at most every STREAM_PROBE_EVERY_MS.
 */
export const IDLE_PROBE_AFTER_MS = 1000;
export const IDLE_PROBE_EVERY_MS = 1000;
export const IDLE_PROBE_DUTY = 0.2;
/**
 * The duty cap would space probes by five times the last one's link time. A probe held by an
 * outage takes seconds without using the link for anything else (idle probes go only on a quiet
 * link), and the next one is the only way to see the link come back while nothing is sent:
 * simulated on TMobile-UMTS-driving at 8× and 150 ms, a 6-s probe in an outage put the next 30 s
 * away, and auto stayed on the device (~680 ms a request, every one late) for 30 s after the link
 * was back.
 */
export const IDLE_PROBE_MAX_GAP_MS = 2000;
export const STREAM_PROBE_EVERY_MS = 3000;
/**
 * A stream whose exit answers most images on the device sends few messages, and a one-quantum
 * message only bounds the uplink from above: after this long without a message of two quanta or
 * more, such a stream gets a two-quantum probe (`refreshProbeQuanta`).
 */
export const STREAM_REFRESH_AFTER_MS = 3000;

/**
 * Quanta of a probe that refreshes the estimate of a stream the exit answers in part, or null:
 * two quanta once no message of two quanta or more has crossed for STREAM_REFRESH_AFTER_MS.
 * Simulated on TMobile-UMTS-driving at 8× and 150 ms: after a one-second drop to 336 kbit/s auto
 * went to an exit, whose requests sent nothing or one quantum; the estimate stayed at 347, then
 * 101 kbit/s for 9 s while the link was back at 500-1000 kbit/s, and auto stayed on the exit
 * (67% on time there) where offloading made 90%. A stream without an exit is left alone: its
 * requests keep the clock fit current, and at 64 kbit/s two quanta would hold its next request
 * 375 ms.
 */
export function refreshProbeQuanta(
  msSinceBoundingMessage: number,
  exitAnswersPart: boolean,
  estimate: BandwidthEstimate,
): number | null {
  if (!exitAnswersPart || msSinceBoundingMessage < STREAM_REFRESH_AFTER_MS) return null;
  return clockIsCurrent(estimate) ? null : 2;
}

/** Relative uncertainty under which a clock fit is the newest arrivals' own, not one held. */
const CURRENT_CLOCK_UNCERTAINTY = 0.02;

/**
 * A clock fitted to the newest arrivals is not stale: a faster link puts them off its ticks and a
 * slower one makes them late, and either ends the fit. A probe then only costs: at 64 kbit/s two
 * quanta hold the next request up to 187.5 ms (live, auto at 8× and 250 ms after the step to
 * 64 kbit/s: with the clock fitted to the quantum, a request every 3 s missed behind the probe).
 */
function clockIsCurrent(estimate: BandwidthEstimate): boolean {
  return (
    estimate.method === 'quantum-clock' &&
    estimate.uplinkRelativeUncertainty !== null &&
    estimate.uplinkRelativeUncertainty <= CURRENT_CLOCK_UNCERTAINTY
  );
}

/** Wait (ms) after an idle probe answers before the next, from its link time; `jitter` in [0, 1). */
export function idleProbeGapMs(linkMs: number, jitter: number): number {
  return (
    Math.min(IDLE_PROBE_MAX_GAP_MS, Math.max(IDLE_PROBE_EVERY_MS, linkMs / IDLE_PROBE_DUTY)) + 250 * jitter
  );
}

/** How long (ms) an idle probe should keep the link busy: enough quanta to bound Q both ways. */
const IDLE_PROBE_TARGET_MS = 100;
/** While streaming, probes are sent only to settle an ambiguous fit, and only on fast links. */
const STREAM_PROBE_TARGET_MS = 100;
const STREAM_PROBE_MAX_QUANTUM_MS = 25;
const AMBIGUOUS_RATIO = 1.1;
/** Samples an unbounded estimate must rest on before a probe is sent to bound it. */
const STREAM_PROBE_MIN_SAMPLES = 5;

/**
 * Quanta of the next probe on an idle link: a few quanta bound Q from both sides (one quantum
 * only bounds it from below), sized to take about 100 ms at the current estimate; 4 when nothing
 * is known.
 */
export function idleProbeQuanta(estimate: BandwidthEstimate): number {
  if (estimate.quantumMs === null) return 4;
  return Math.min(8, Math.max(2, Math.round(IDLE_PROBE_TARGET_MS / estimate.quantumMs)));
}

/**
 * Quanta of a probe worth sending while requests stream, or null for none.
 *
 * A stream the estimate cannot bound from below gets the smallest probe that can: two quanta (its
 * transfer lies between Q and 2Q). One-quantum messages only bound the bandwidth from above, and
 * with the device paced to a steady time at a slowdown the request cycle skips the same number of
 * ticks every time, so the arrival comb fits Q and its multiples alike: measured live at 8× on
 * TMobile-UMTS-driving 0-30 s, static c4-b3 left the estimate unknown in 59 of 68 half-second
 * polls, and auto, which sends such a request to measure an unknown uplink, stayed on it for the
 * whole 120 s. Two quanta hold the next request at most one quantum more (187.5 ms at 64 kbit/s),
 * at most once every few seconds, and only while the estimate has no lower bound.
 *
 * A fast link whose clock fit is ambiguous gets a bigger probe: a message of many quanta tells Q
 * and 2Q apart. A stream that a clock fits but whose bounds rest partly on messages from before a
 * change of conditions gets none: a probe sized for a fast link that has just slowed (tried:
 * 1000 → 64 kbit/s) holds the next request behind it for seconds. The estimator's hold of its last
 * fit covers the moments that arrival jitter blurs a fast comb.
 */
export function streamProbeQuanta(estimate: BandwidthEstimate): number | null {
  const { quantumMs, uplinkLowBps, uplinkHighBps } = estimate;
  // Nothing bounds it from below: one-quantum messages, on a link faster than the clock fit can
  // see (over 3 Mbit/s; simulated on Verizon-LTE-short at 8×: 40 s unknown at 6 Mbit/s after an
  // outage) or on one whose steady request cycle no comb resolves. Two quanta bound it from below.
  if (estimate.uplinkBps === null && uplinkLowBps === null && estimate.samples >= STREAM_PROBE_MIN_SAMPLES)
    return 2;
  if (quantumMs === null || quantumMs > STREAM_PROBE_MAX_QUANTUM_MS) return null;
  if (uplinkLowBps !== null && uplinkHighBps !== null && uplinkHighBps / uplinkLowBps < AMBIGUOUS_RATIO)
    return null;
  return Math.min(16, Math.max(4, Math.round(STREAM_PROBE_TARGET_MS / quantumMs)));
}
