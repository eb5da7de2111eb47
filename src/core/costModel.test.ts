import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allCandidates,
  answeredWithin,
  candidateId,
  CostModel,
  quantaOf,
  quantumMs,
  selectedQuantile,
  uplinkInputOf,
  type Candidate,
  type CostManifest,
  type Prediction,
  type PredictionResult,
} from './costModel';
import { computePhases, type InferenceRecord } from './record';
import { quantile } from './stats';

const manifest = {
  quantization: { minBits: 1, maxBits: 8 },
  levels: [
    { id: 'c2', elements: 98 },
    { id: 'c4', elements: 196 },
  ],
  earlyExits: [
    {
      level: 'c4',
      thresholds: [
        { threshold: 0.9, coverage: 0.6, accuracy: 0.98 },
        { threshold: 0.5, coverage: 1, accuracy: 0.9 },
      ],
    },
  ],
} as unknown as CostManifest;

const split = (levelId: string, bits: number, exitThreshold: number | null = null): Candidate => ({
  kind: 'split',
  levelId,
  bits,
  exitThreshold,
});

function ok(result: PredictionResult): Prediction {
  if (!result.ok) throw new Error(`missing: ${result.missing.join(', ')}`);
  return result;
}

/** A finished network request with exact phases: uplink, server, downlink and overhead as given. */
function networkRecord(options: {
  mode: 'split' | 'offload';
  config: string;
  images: number;
  exited?: number;
  wireBytes: number;
  payloadBytes: number;
  deviceMs?: number;
  encodeMs?: number;
  uplinkMs: number;
  serverMs: number;
  downlinkMs?: number;
  startedAt?: number;
}): InferenceRecord {
  const start = options.startedAt ?? 0;
  const computeEnd = start + (options.deviceMs ?? 0);
  const encodeEnd = computeEnd + (options.encodeMs ?? 0);
  const sent = encodeEnd;
  const received = sent + options.uplinkMs + options.serverMs + (options.downlinkMs ?? 0);
  const phases = computePhases(
    { start, computeEnd, encodeEnd, sent, received, end: received },
    { queuedMs: 0, decodeMs: 0, computeMs: options.serverMs, totalMs: options.serverMs },
    {
      offsetMs: 0,
      serverReceivedAt: sent + options.uplinkMs,
      serverSentAt: sent + options.uplinkMs + options.serverMs,
    },
  );
  const exited = options.exited ?? 0;
  return {
    seq: 1,
    requestId: 1,
    mode: options.mode,
    config: options.config,
    backend: 'wasm: test',
    slowdown: 1,
    startedAt: start,
    epochMs: start,
    images: Array.from({ length: options.images }, (_, i) => ({
      index: i,
      label: 0,
      predicted: 0,
      confidence: 1,
      ...(i < exited ? { earlyExit: true } : {}),
    })),
    payloadBytes: options.payloadBytes,
    wireBytes: options.wireBytes,
    phases,
    ok: true,
  };
}

describe('candidates', () => {
  it('lists on-device, PNG, WebP and every level × bit-width with and without each exit threshold', () => {
    const candidates = allCandidates(manifest);
    // c2: 8 bit-widths, no exit; c4: 8 × (none, 0.9, 0.5).
    expect(candidates).toHaveLength(3 + 8 + 8 * 3);
    const ids = candidates.map(candidateId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 3)).toEqual(['full', 'png', 'webp-q50']);
    expect(ids).toContain('c4-b2-x0.9');
    expect(ids).toContain('c2-b8');
  });

  it('counts quanta as the throttle does: floor(n/1500)+1', () => {
    expect([1, 1499, 1500, 2999, 3000].map(quantaOf)).toEqual([1, 1, 2, 2, 3]);
    expect(quantumMs(256_000)).toBeCloseTo(46.875, 6);
  });
});

describe('CostModel', () => {
  it('says what it is missing instead of guessing', () => {
    const model = new CostModel(manifest);
    const result = model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: null } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.missing).toEqual(
      expect.arrayContaining(['device time of head-c4', 'uplink estimate', 'server time of tail-c4']),
    );
    const png = model.predict(
      { kind: 'offload', format: 'png' },
      { images: 16, slowdown: 1, uplink: { bps: 1e6 } },
    );
    expect(!png.ok && png.missing).toEqual(
      expect.arrayContaining(['encoded size of png', 'encode time of png']),
    );
  });

  it('predicts on-device from the device runs at this size, scaled by the slowdown where not measured', () => {
    const model = new CostModel(manifest);
    for (const ms of [10, 11, 12, 13, 14]) model.addDeviceRun('full', 16, 1, ms, 0);
    const at1 = ok(model.predict({ kind: 'on-device' }, { images: 16, slowdown: 1, uplink: { bps: null } }));
    expect(at1.medianMs).toBeCloseTo(12, 0);
    expect(at1.p90Ms).toBeGreaterThanOrEqual(13);
    expect(at1.p90Ms).toBeLessThanOrEqual(14);
    const at8 = ok(model.predict({ kind: 'on-device' }, { images: 16, slowdown: 8, uplink: { bps: null } }));
    expect(at8.medianMs).toBeCloseTo(8 * at1.medianMs, 6);
    expect(at8.assumptions).toContain('full at 8× scaled from 1×');
    // A measurement at 8× itself replaces the scaled one.
    model.addDeviceRun('full', 16, 8, 50, 1);
    expect(
      ok(model.predict({ kind: 'on-device' }, { images: 16, slowdown: 8, uplink: { bps: null } })).medianMs,
    ).toBe(50);
  });

  it('prices the uplink in whole quanta with a first quantum that waits 0 to 1 quantum', () => {
    const model = new CostModel(manifest, { draws: 4000 });
    model.addDeviceRun('head-c4', 16, 1, 5, 0);
    // One reply teaches framing, server, downlink and overhead; too few for the candidate's own phase.
    model.observeRecord(
      networkRecord({
        mode: 'split',
        config: 'c4-b2',
        images: 16,
        wireBytes: 16 * 49 + 20,
        payloadBytes: 16 * 49,
        uplinkMs: 40,
        serverMs: 3,
        downlinkMs: 1,
      }),
      256_000,
    );
    const q = quantumMs(256_000);
    // 804 B: one quantum, uniform phase: uplink median q/2, p90 0.9 q.
    const prediction = ok(
      model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: 256_000 } }),
    );
    expect(prediction.wireBytes).toBe(16 * 49 + 20);
    // With the uplink unknown the latency is not priced, but the bytes a request would send are.
    const unknown = model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: null } });
    expect(unknown).toEqual({
      ok: false,
      candidate: 'c4-b2',
      missing: ['uplink estimate'],
      wireBytes: 16 * 49 + 20,
    });
    expect(prediction.phases.uplinkMs).toBeGreaterThan(0.45 * q);
    expect(prediction.phases.uplinkMs).toBeLessThan(0.55 * q);
    const fixed = 5 + 3 + 1;
    expect(prediction.medianMs).toBeCloseTo(fixed + 0.5 * q, -0.5);
    expect(prediction.p90Ms).toBeCloseTo(fixed + 0.9 * q, -0.5);
    // c2 at 8 bits on 16 images: 1568 B of codes plus framing, two quanta: at least one whole quantum more.
    model.addDeviceRun('head-c2', 16, 1, 5, 0);
    const twoQuanta = ok(
      model.predict(split('c2', 8), { images: 16, slowdown: 1, uplink: { bps: 256_000 } }),
    );
    expect(twoQuanta.medianMs - prediction.medianMs).toBeCloseTo(q, -0.5);
    expect(twoQuanta.assumptions).toContain('server time of tail-c2 taken from tail-c4');
  });

  it('back to back after a released message, a candidate new at this bandwidth leaves on the next tick', () => {
    // Another candidate's reply: server 5 ms, downlink 3 ms (the tick offset), no overhead.
    const anotherReply = networkRecord({
      mode: 'split',
      config: 'c4-b2',
      images: 16,
      wireBytes: 804,
      payloadBytes: 784,
      uplinkMs: 50,
      serverMs: 5,
      downlinkMs: 3,
    });
    // At 64 kbit/s a quantum is 187.5 ms: a request that starts 8 ms after a tick and hands its one
    // quantum over after 80 ms of device work waits the 99.5 ms to the next tick, so the request
    // takes one quantum in all, not 80 ms plus a uniform share of one.
    const bps = 64_000;
    const q = quantumMs(bps);
    const model = new CostModel(manifest, { draws: 2000 });
    model.addDeviceRun('head-c2', 16, 1, 80, 0);
    model.observeRecord(anotherReply, bps);
    const context = { images: 16, slowdown: 1, uplink: { bps } };
    const locked = ok(model.predict(split('c2', 2), { ...context, tickAligned: true }));
    expect(locked.phases.uplinkMs).toBeCloseTo(q - (8 + 80), 6);
    expect(locked.medianMs).toBeCloseTo(q, 6);
    expect(
      locked.assumptions.some((text) => text.startsWith("quantum phase from the request cycle's lock")),
    ).toBe(true);
    // Measured by the engine (start after the releasing tick, hand-over to the socket), it replaces
    // the estimate from server and downlink times.
    const measured = new CostModel(manifest, { draws: 2000 });
    measured.addDeviceRun('head-c2', 16, 1, 80, 0);
    measured.observeRecord(anotherReply, bps);
    measured.observeTickLock(20, 2, 0);
    const fromMeasured = ok(measured.predict(split('c2', 2), { ...context, tickAligned: true }));
    expect(fromMeasured.phases.uplinkMs).toBeCloseTo(q - (20 + 80 + 2), 6);
    // Not in step with the clock (the previous request sent nothing, or several are in flight): uniform.
    const free = ok(model.predict(split('c2', 2), context));
    expect(free.p90Ms).toBeCloseTo(80 + 8 + 0.9 * q, -0.5);
    // Device work longer than a quantum: the first tick after it, two quanta in all.
    const slow = new CostModel(manifest, { draws: 2000 });
    slow.addDeviceRun('head-c2', 16, 1, 200, 0);
    slow.observeRecord(anotherReply, bps);
    const long = ok(slow.predict(split('c2', 2), { ...context, tickAligned: true }));
    expect(long.medianMs).toBeCloseTo(2 * q, 6);
  });

  it("adds the device's work around its models, measured at this slowdown or scaled to it", () => {
    const model = new CostModel(manifest, { draws: 1000 });
    model.addDeviceRun('full', 16, 1, 40, 0);
    const bare = ok(model.predict({ kind: 'on-device' }, { images: 16, slowdown: 1, uplink: { bps: null } }));
    expect(bare.medianMs).toBeCloseTo(40, 6);
    expect(bare.assumptions).toContain('device work outside the models not measured: taken as 0');
    model.addDeviceWork({ kind: 'on-device' }, 16, 1, 3, 0);
    const withWork = ok(
      model.predict({ kind: 'on-device' }, { images: 16, slowdown: 1, uplink: { bps: null } }),
    );
    expect(withWork.medianMs).toBeCloseTo(43, 6);
    // At 8× both scale from 1× until measured there.
    const slow = ok(model.predict({ kind: 'on-device' }, { images: 16, slowdown: 8, uplink: { bps: null } }));
    expect(slow.medianMs).toBeCloseTo(8 * 43, 6);
  });

  /** A model that has seen 8 one-quantum c4-b2 replies, each `phase` of a quantum late at `bps`. */
  function phaseLockedModel(bps: number, phase: number): CostModel {
    const model = new CostModel(manifest, { phaseSamples: 8 });
    model.addDeviceRun('head-c4', 16, 1, 5, 0);
    for (let i = 0; i < 8; i++)
      model.observeRecord(
        networkRecord({
          mode: 'split',
          config: 'c4-b2',
          images: 16,
          wireBytes: 804,
          payloadBytes: 784,
          uplinkMs: phase * quantumMs(bps),
          serverMs: 3,
        }),
        bps,
      );
    return model;
  }

  it("uses the candidate's own quantum phase once it has enough replies", () => {
    const q = quantumMs(256_000);
    // Phase-locked: every message waits 0.4 of a quantum.
    const model = phaseLockedModel(256_000, 0.4);
    const prediction = ok(
      model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: 256_000 } }),
    );
    expect(prediction.phases.uplinkMs).toBeCloseTo(0.4 * q, 6);
    expect(prediction.p90Ms).toBeCloseTo(prediction.medianMs, 6);
    expect(prediction.assumptions.some((text) => text.startsWith('quantum phase uniform'))).toBe(false);
  });

  it('ignores phases measured against a quantum the estimate has since left', () => {
    const fast = quantumMs(2_000_000);
    // Read against a 2 Mbit/s estimate, each message's phase was 0.9 of a quantum.
    const model = phaseLockedModel(2_000_000, 0.9);
    const atFast = ok(model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: 2_000_000 } }));
    expect(atFast.phases.uplinkMs).toBeCloseTo(0.9 * fast, 6);
    // Near that estimate (5% off) the same phases still apply.
    const near = ok(model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: 1_900_000 } }));
    expect(near.phases.uplinkMs).toBeCloseTo(0.9 * quantumMs(1_900_000), 6);
    // At 64 kbit/s they say nothing: the phase is taken as uniform again, median half a quantum.
    const slow = quantumMs(64_000);
    const atSlow = ok(model.predict(split('c4', 2), { images: 16, slowdown: 1, uplink: { bps: 64_000 } }));
    expect(atSlow.phases.uplinkMs).toBeGreaterThan(0.45 * slow);
    expect(atSlow.phases.uplinkMs).toBeLessThan(0.55 * slow);
    expect(atSlow.assumptions.some((text) => text.startsWith('quantum phase uniform'))).toBe(true);
  });

  /** The c4 head and its exit measured once, and one c4-b2 request's reply at `bps`. */
  const headAndExitModel = (at: { headMs: number; exitMs: number; uplinkMs: number; bps: number }) => {
    const model = new CostModel(manifest);
    model.addDeviceRun('head-c4', 16, 1, at.headMs, 0);
    model.addDeviceRun('exit-c4', 16, 1, at.exitMs, 0);
    model.observeRecord(
      networkRecord({
        mode: 'split',
        config: 'c4-b2',
        images: 16,
        wireBytes: 804,
        payloadBytes: 784,
        uplinkMs: at.uplinkMs,
        serverMs: 3,
      }),
      at.bps,
    );
    return model;
  };

  it('with an exit, sends only the images that stay, and nothing when all exit', () => {
    const model = headAndExitModel({ headMs: 5, exitMs: 1, uplinkMs: 20, bps: 256_000 });
    const context = { images: 16, slowdown: 1, uplink: { bps: 256_000 } };
    const all = ok(model.predict(split('c4', 2, 0.5), context));
    expect(all.exitShare).toBe(1);
    expect(all.wireBytes).toBe(0);
    expect(all.medianMs).toBeCloseTo(6, 6);
    const some = ok(model.predict(split('c4', 2, 0.9), context));
    expect(some.exitShare).toBe(0.6);
    // About 40% of 16 images' codes: 6-7 images × 49 B plus framing.
    expect(some.wireBytes).toBeGreaterThan(5 * 49);
    expect(some.wireBytes).toBeLessThan(9 * 49 + 40);
    const none = ok(model.predict(split('c4', 2), context));
    expect(some.phases.deviceMs).toBeCloseTo(none.phases.deviceMs + 1, 6);
  });

  it('prices a candidate locked to the clock after its own requests that sent a message, not the last one', () => {
    // At 64 kbit/s back to back, one in flight: a request after one that sent leaves on the next
    // tick; after one that the exit answered whole it starts anywhere in the quantum.
    const bps = 64_000;
    const q = quantumMs(bps);
    const model = headAndExitModel({ headMs: 80, exitMs: 5, uplinkMs: 50, bps });
    model.observeTickLock(8, 0, 0);
    const at = (images: number) => ({ images, slowdown: 1, uplink: { bps }, tickAligned: true });
    // 16 images at 60% coverage: all exit once in ~3500 requests, so the lock nearly always holds,
    // as it does without an exit.
    const plain16 = ok(model.predict(split('c4', 2), at(16)));
    const exit16 = ok(model.predict(split('c4', 2, 0.9), at(16)));
    expect(plain16.p90Ms).toBeLessThan(q + 10);
    expect(Math.abs(exit16.p90Ms - plain16.p90Ms)).toBeLessThan(10);
    // 2 images: 36% of the requests follow one the exit answered whole, and a message then waits
    // a uniform share of a quantum, not the rest of the quantum its short device work leaves: the
    // locked requests all end on the tick (~183 ms), the others anywhere up to it.
    const plain2 = ok(model.predict(split('c4', 2), at(2)));
    const exit2 = ok(model.predict(split('c4', 2, 0.9), at(2)));
    expect(plain2.p90Ms - plain2.medianMs).toBeLessThan(1);
    expect(exit2.p90Ms).toBeCloseTo(plain2.p90Ms, 0);
    expect(exit2.medianMs).toBeLessThan(plain2.medianMs - 0.2 * q);
  });

  it('tells when its images are answered: an exited one at the end of the device work, the rest at the end', () => {
    const model = headAndExitModel({ headMs: 100, exitMs: 10, uplinkMs: 200, bps: 32_000 });
    // A 375-ms quantum: a message leaves 0 to 375 ms after its hand-over.
    const context = { images: 16, slowdown: 1, uplink: { bps: 32_000 } };
    const exit = ok(model.predict(split('c4', 2, 0.9), context));
    // Nearly every request sends some of its images, so the request's median is far past 150 ms …
    expect(exit.medianMs).toBeGreaterThan(200);
    // … while the 60% the exit answers are answered at ~110 ms, and a few sent ones in time too
    // (a message that leaves within ~37 ms of its hand-over: about a tenth).
    expect(answeredWithin(exit, 150)).toBeGreaterThan(0.6);
    expect(answeredWithin(exit, 150)).toBeLessThan(0.7);
    expect(answeredWithin(exit, 50)).toBe(0);
    expect(answeredWithin(exit, exit.p90Ms * 3)).toBe(1);
    const plain = ok(model.predict(split('c4', 2), context));
    expect(answeredWithin(plain, 150)).toBeLessThan(0.15);
    // Between the quantiles the share only grows.
    const shares = [50, 100, 120, 200, 300, 400, 1000].map((ms) => answeredWithin(exit, ms));
    expect([...shares].sort((a, b) => a - b)).toEqual(shares);
  });

  it('reads a prediction without answer quantiles on the line through its median and p90', () => {
    const bare: Prediction = {
      ok: true,
      candidate: 'c4-b2',
      medianMs: 100,
      p90Ms: 200,
      phases: { deviceMs: 0, encodeMs: 0, uplinkMs: 0, serverMs: 0, downlinkMs: 0, overheadMs: 0 },
      wireBytes: 0,
      exitShare: 0,
      assumptions: [],
    };
    expect(answeredWithin(bare, 100)).toBeCloseTo(0.5, 9);
    expect(answeredWithin(bare, 150)).toBeCloseTo(0.7, 9);
    expect(answeredWithin(bare, 200)).toBeCloseTo(0.9, 9);
    expect(answeredWithin(bare, 50)).toBeCloseTo(0.3, 9);
    expect(answeredWithin(bare, 0)).toBeCloseTo(0.1, 9);
    expect(answeredWithin(bare, -100)).toBe(0);
    expect(answeredWithin(bare, 1000)).toBe(1);
    expect(answeredWithin({ ...bare, p90Ms: 100 }, 99)).toBe(0);
    expect(answeredWithin({ ...bare, p90Ms: 100 }, 100)).toBe(1);
  });

  it('reports the measured latency of recent requests per candidate, size and slowdown', () => {
    const model = new CostModel(manifest);
    for (const total of [10, 20, 30])
      model.observeRecord(
        networkRecord({
          mode: 'split',
          config: 'c4-b2',
          images: 16,
          wireBytes: 804,
          payloadBytes: 784,
          uplinkMs: total - 3,
          serverMs: 3,
        }),
        256_000,
      );
    expect(model.measured('c4-b2', 16, 1)).toEqual({ medianMs: 20, p90Ms: 28, requests: 3 });
    expect(model.measured('c4-b2', 8, 1)).toBeNull();
    expect(model.measured('png', 16, 1)).toBeNull();
  });

  it('names the device models that have gone stale, the stalest first', () => {
    const model = new CostModel(manifest);
    model.addDeviceRun('full', 16, 1, 10, 1000);
    model.addDeviceRun('head-c4', 16, 1, 10, 5000);
    model.addDeviceRun('head-c2', 16, 1, 10, 9000);
    const stale = model.staleDeviceModels(allCandidates(manifest), 16, 1, 10_000, 4000);
    expect(stale).toEqual(['exit-c4', 'full', 'head-c4']);
    expect(model.staleDeviceModels(allCandidates(manifest), 16, 8, 10_000, 4000)).toHaveLength(4);
  });

  it('properties: repeatable, p90 >= median, slower uplinks never predict faster', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.5, max: 200, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.integer({ min: 10_000, max: 10_000_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom(1, 2, 8, 32),
        (deviceMs, serverMs, bps, images, slowdown) => {
          const model = new CostModel(manifest, { draws: 200 });
          for (const ms of deviceMs) {
            model.addDeviceRun('head-c4', images, 1, ms, 0);
            model.addDeviceRun('exit-c4', images, 1, ms / 4, 0);
          }
          model.setOffloadImageBytes('png', 510);
          model.observeRecord(
            networkRecord({
              mode: 'split',
              config: 'c4-b2',
              images: 4,
              wireBytes: 216,
              payloadBytes: 196,
              uplinkMs: 10,
              serverMs,
            }),
            bps,
          );
          for (const candidate of [split('c4', 2), split('c4', 2, 0.9), split('c4', 8)]) {
            const context = { images, slowdown, uplink: { bps } };
            const first = ok(model.predict(candidate, context));
            const again = ok(model.predict(candidate, context));
            expect(again).toEqual(first);
            expect(first.p90Ms).toBeGreaterThanOrEqual(first.medianMs - 1e-9);
            expect(first.medianMs).toBeGreaterThan(0);
            const slower = ok(model.predict(candidate, { ...context, uplink: { bps: bps / 2 } }));
            expect(slower.medianMs).toBeGreaterThanOrEqual(first.medianMs - 1e-9);
            expect(slower.p90Ms).toBeGreaterThanOrEqual(first.p90Ms - 1e-9);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('widens the spread by the uplink uncertainty the estimator states', () => {
    const model = new CostModel(manifest, { draws: 2000 });
    model.addDeviceRun('head-c4', 16, 1, 5, 0);
    model.observeRecord(
      networkRecord({
        mode: 'split',
        config: 'c4-b2',
        images: 16,
        wireBytes: 2000,
        payloadBytes: 784,
        uplinkMs: 60,
        serverMs: 3,
      }),
      256_000,
    );
    const context = { images: 16, slowdown: 1 };
    const sure = ok(model.predict(split('c4', 2), { ...context, uplink: { bps: 256_000 } }));
    const unsure = ok(
      model.predict(split('c4', 2), { ...context, uplink: { bps: 256_000, relativeUncertainty: 0.3 } }),
    );
    expect(unsure.p90Ms - unsure.medianMs).toBeGreaterThan(sure.p90Ms - sure.medianMs);
  });
});

describe('selectedQuantile', () => {
  it('equals the quantile of the sorted values, with any ties and order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          expect(selectedQuantile(Float64Array.from(values), q)).toBe(quantile(values, q));
        },
      ),
    );
  });
});

describe('uplinkInputOf', () => {
  const estimate = (uplinkBps: number | null, uplinkLowBps: number | null, uplinkHighBps: number | null) => ({
    uplinkBps,
    uplinkLowBps,
    uplinkRelativeUncertainty:
      uplinkBps !== null && uplinkLowBps !== null && uplinkHighBps !== null
        ? (uplinkHighBps - uplinkLowBps) / 2 / uplinkBps
        : null,
  });

  it('passes the half-width of a symmetric interval, and the slow side of one that reaches to an alias', () => {
    expect(uplinkInputOf(estimate(64_000, 60_000, 68_000)).relativeUncertainty).toBeCloseTo(0.0625, 6);
    // A clock whose half period fits as well: possibly twice as fast, not slower than 63.7.
    const alias = uplinkInputOf(estimate(64_000, 63_700, 128_300));
    expect(alias.bps).toBe(64_000);
    expect(alias.relativeUncertainty).toBeCloseTo(64_000 / 63_700 - 1, 6);
    // Transfer bounds whose figure is their middle keep the half-width.
    expect(uplinkInputOf(estimate(48_300, 32_000, 64_700)).relativeUncertainty).toBeCloseTo(
      (64_700 - 32_000) / 2 / 48_300,
      6,
    );
  });

  it('prices at the lower bound when only that is known, and says nothing without one', () => {
    expect(uplinkInputOf(estimate(null, 20_000_000, null))).toEqual({ bps: 20_000_000 });
    expect(uplinkInputOf(estimate(null, null, 500_000))).toEqual({ bps: null });
  });
});
