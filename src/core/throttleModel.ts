/**
 * A model of Chromium's DevTools uplink throttle (CDP Network.emulateNetworkConditions) as it
 * treats WebSocket messages, and of a client streaming requests through it: synthetic arrival
 * sequences for the uplink estimator's tests and for the estimator bench. What it models, as
 * measured in this Chromium:
 * - each message is charged whole 1500-byte quanta, floor(n/1500)+1 of them;
 * - quanta are released on the throttle's own clock (period one quantum's time, a phase that
 *   starts when the conditions are set), so a message that finds the link idle waits only for the
 *   rest of the current quantum, then its other quanta;
 * - messages sent while one is throttled go out unthrottled when it is released;
 * - a change of conditions releases the message in flight at once and restarts the clock.
 */
import { THROTTLE_QUANTUM_BYTES, throttleChargedBytes } from './stats';
import type { UplinkSample } from './uplinkEstimator';

export interface ThrottleSegment {
  /** Time (ms) the conditions were set: the clock's phase starts here. */
  fromMs: number;
  bps: number;
}

/** Deterministic uniform [0, 1) numbers (Park-Miller), so a failing case can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = Math.max(1, Math.floor(Math.abs(seed)) % 2147483647);
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

export class ThrottleModel {
  /** Release time of the message being throttled (quanta still to go), or -Infinity when idle. */
  private releaseAt = Number.NEGATIVE_INFINITY;

  /** @param segments conditions over time, in order; the first from time 0 or earlier. */
  constructor(private readonly segments: ThrottleSegment[]) {
    if (segments.length === 0) throw new RangeError('at least one set of conditions');
  }

  private segmentAt(at: number): { segment: ThrottleSegment; next: ThrottleSegment | undefined } {
    let index = 0;
    while (index + 1 < this.segments.length && this.segments[index + 1]!.fromMs <= at) index++;
    return { segment: this.segments[index]!, next: this.segments[index + 1] };
  }

  quantumMsAt(at: number): number {
    return (THROTTLE_QUANTUM_BYTES * 8 * 1000) / this.segmentAt(at).segment.bps;
  }

  /** When a message of `bytes` handed to the socket at `sentAt` leaves the throttle. Call in send order. */
  send(sentAt: number, bytes: number): number {
    // Queued behind the throttled message: goes out with it, unthrottled.
    if (sentAt < this.releaseAt) return this.releaseAt;
    const { segment, next } = this.segmentAt(sentAt);
    const quantumMs = (THROTTLE_QUANTUM_BYTES * 8 * 1000) / segment.bps;
    const quanta = throttleChargedBytes(bytes) / THROTTLE_QUANTUM_BYTES;
    const ticksBefore = Math.floor((sentAt - segment.fromMs) / quantumMs);
    let release = segment.fromMs + (ticksBefore + quanta) * quantumMs;
    // A change of conditions releases the message in flight at once.
    if (next && release > next.fromMs) release = next.fromMs;
    this.releaseAt = release;
    return release;
  }
}

export interface StreamOptions {
  segments: ThrottleSegment[];
  /** Payload bytes of each request's WebSocket message. */
  bytes: number;
  /** Requests in flight at most. */
  inFlight: number;
  durationMs: number;
  /** Device time between a reply and the next request (compute, encode), ms: uniform in [min, max]. */
  cycleMs: [number, number];
  /** Server receive jitter after release (socket, event loop), ms: uniform in [0, this]. */
  arrivalJitterMs: number;
  /** Server time plus downlink, ms. */
  replyMs: number;
  /** Error of the clock offset the arrival times are converted with, ms. */
  clockErrorMs?: number;
  /**
   * Probes of `bytes`, sent the moment a reply leaves nothing in flight, at most one per `everyMs`
   * (as the engine's disambiguation probes are); their samples carry `probe: true`.
   */
  probe?: { bytes: number; everyMs: number };
  random: () => number;
}

/**
 * A client streaming requests through the throttle with up to `inFlight` in flight and device work
 * serialised, as the engine does; returns the samples the server's receive times give, in send
 * order.
 */
export function simulateStream(options: StreamOptions): (UplinkSample & { probe?: true })[] {
  const throttle = new ThrottleModel(options.segments);
  const { random } = options;
  const uniform = ([min, max]: [number, number]) => min + (max - min) * random();
  const samples: (UplinkSample & { probe?: true })[] = [];
  // Times at which each slot's next request is ready to be sent, and replies still to come.
  const ready: number[] = [];
  const repliesDue: number[] = [];
  let lastProbeAt = Number.NEGATIVE_INFINITY;
  let deviceFreeAt = 0;
  let lastArrival = Number.NEGATIVE_INFINITY;
  for (let slot = 0; slot < options.inFlight; slot++) {
    deviceFreeAt += uniform(options.cycleMs);
    ready.push(deviceFreeAt);
  }
  for (;;) {
    let slot = 0;
    for (let i = 1; i < ready.length; i++) if (ready[i]! < ready[slot]!) slot = i;
    const sentAt = ready[slot]!;
    if (sentAt > options.durationMs) break;
    const probe = options.probe;
    if (probe) {
      // Replies before this send that leave nothing in flight are where a probe may go.
      repliesDue.sort((x, y) => x - y);
      while (repliesDue.length > 0 && repliesDue[0]! <= sentAt) {
        const replyAt = repliesDue.shift()!;
        if (repliesDue.length === 0 && replyAt - lastProbeAt >= probe.everyMs) {
          lastProbeAt = replyAt;
          const probeArrival = Math.max(
            lastArrival,
            throttle.send(replyAt, probe.bytes) + options.arrivalJitterMs * random(),
          );
          lastArrival = probeArrival;
          samples.push({
            sentAt: replyAt,
            arrivedAt: probeArrival + (options.clockErrorMs ?? 0),
            wireBytes: probe.bytes,
            networkMs: probeArrival - replyAt + options.replyMs,
            probe: true,
          });
        }
      }
    }
    const releasedAt = throttle.send(sentAt, options.bytes);
    // One TCP stream: messages reach the server in the order they were sent.
    const arrivedAt = Math.max(lastArrival, releasedAt + options.arrivalJitterMs * random());
    lastArrival = arrivedAt;
    samples.push({
      sentAt,
      arrivedAt: arrivedAt + (options.clockErrorMs ?? 0),
      wireBytes: options.bytes,
      networkMs: arrivedAt - sentAt + options.replyMs,
    });
    const repliedAt = arrivedAt + options.replyMs;
    repliesDue.push(repliedAt);
    // The device computes one request at a time.
    deviceFreeAt = Math.max(deviceFreeAt, repliedAt) + uniform(options.cycleMs);
    ready[slot] = deviceFreeAt;
  }
  return samples;
}

/** Probes of `bytes` at random times on an otherwise idle link, `everyMs` apart on average. */
export function simulateProbes(options: {
  segments: ThrottleSegment[];
  bytes: number;
  everyMs: number;
  durationMs: number;
  arrivalJitterMs: number;
  random: () => number;
}): UplinkSample[] {
  const throttle = new ThrottleModel(options.segments);
  const samples: UplinkSample[] = [];
  let at = options.everyMs * options.random();
  while (at < options.durationMs) {
    const arrivedAt = throttle.send(at, options.bytes) + options.arrivalJitterMs * options.random();
    samples.push({ sentAt: at, arrivedAt, wireBytes: options.bytes, networkMs: arrivedAt - at + 1 });
    at = Math.max(at, arrivedAt) + options.everyMs * (0.5 + options.random());
  }
  return samples;
}
