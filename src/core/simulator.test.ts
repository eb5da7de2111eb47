import { describe, expect, it } from 'vitest';
import { throttleModelFor, type ThrottleStep } from './cdpThrottle';
import { allCandidates, candidateId, type Candidate, type CostManifest } from './costModel';
import { autoPolicy, staticPolicy } from './policy';
import {
  runMetrics,
  simulate,
  simulateOracle,
  type ImageTruth,
  type MeasuredWorld,
  type SimulationConfig,
} from './simulator';
import { stepTrace } from './traceGenerator';
import { TraceLink } from './uplinkTrace';

const manifest = {
  quantization: { minBits: 2, maxBits: 2 },
  levels: [{ id: 'c2', elements: 98 }],
  earlyExits: [{ level: 'c2', thresholds: [{ threshold: 0.9, coverage: 0.5, accuracy: 0.95 }] }],
} as unknown as CostManifest;

const IMAGES = 1000;
/** Every model right on a fixed share of images: full and PNG 95%, split 93%. */
function truth(): ImageTruth {
  const labels = Uint8Array.from({ length: IMAGES }, (_, i) => i % 10);
  const rightOn = (share: number) =>
    Uint8Array.from(labels, (label, i) => ((i * 7919) % 100 < share * 100 ? label : (label + 1) % 10));
  return {
    labels,
    predicted: new Map<string, Uint8Array>([
      ['full', rightOn(0.95)],
      ['png', rightOn(0.95)],
      ['webp-q50', rightOn(0.95)],
      ['c2-b2', rightOn(0.93)],
    ]),
    exits: new Map([
      [
        'c2',
        { predicted: labels, confidence: Float32Array.from(labels, (_, i) => (i % 2 === 0 ? 0.95 : 0.5)) },
      ],
    ]),
  };
}

const K = 16;
function world(): MeasuredWorld {
  const around = (ms: number) => [ms * 0.9, ms, ms * 1.1];
  return {
    deviceMs: new Map([
      [`full@${K}`, around(40)],
      [`head-c2@${K}`, around(4)],
      [`exit-c2@${K}`, around(1)],
    ]),
    encodeMsPerImage: new Map([
      ['codes', [0.01]],
      ['png', [0.05]],
      ['webp-q50', [2]],
    ]),
    serverMs: new Map([
      [`tail-c2@${K}`, around(3)],
      [`offload-png@${K}`, around(30)],
      [`offload-webp-q50@${K}`, around(32)],
      ...Array.from({ length: K - 1 }, (_, i) => [`tail-c2@${i + 1}`, around(2)] as [string, number[]]),
    ]),
    wireBytes: (config, sent) => (config === 'png' ? 510 : config === 'webp-q50' ? 250 : 25) * sent + 40,
    downlinkMs: [1],
    overheadMs: [0.5],
  };
}

const candidates: Candidate[] = allCandidates(manifest);
const accuracy = new Map([
  ['full', 0.95],
  ['png', 0.95],
  ['webp-q50', 0.95],
  ['c2-b2', 0.93],
  // Below PNG's 95% by more than the 2% network risk on the half it sends: PNG stays the best at 2 Mbit/s.
  ['c2-b2-x0.9', 0.935],
]);

/** 2 Mbit/s, then 64 kbit/s from 20 s: the throttle step of the e2e spec, set once each. */
const step: ThrottleStep[] = [
  { atMs: 0, traceBps: 2_000_000, uplinkBps: 2_000_000 },
  { atMs: 20_000, traceBps: 64_000, uplinkBps: 64_000 },
];

function config(overrides: Partial<SimulationConfig>): SimulationConfig {
  return {
    policy: autoPolicy(),
    candidates,
    accuracy,
    manifest,
    world: world(),
    truth: truth(),
    makeLink: () => throttleModelFor(step),
    durationMs: 40_000,
    imagesPerRequest: K,
    slowdown: 1,
    sloMs: 250,
    ...overrides,
  };
}

describe('simulate', () => {
  it('runs a static on-device policy at the measured device time times the slowdown', () => {
    const run = simulate(config({ policy: staticPolicy({ kind: 'on-device' }), slowdown: 8 }));
    const totals = run.requests.map((request) => request.record.phases.totalMs);
    for (const total of totals) expect([288, 320, 352].some((ms) => Math.abs(total - ms) < 1e-9)).toBe(true);
    const metrics = runMetrics(
      run.requests.map((request) => request.record),
      250,
    );
    // At 8× the full model takes 288-352 ms: nothing is on time for a 250 ms target.
    expect(metrics.onTimeAccuracy).toBe(0);
    expect(metrics.accuracy).toBeGreaterThan(0.9);
    expect(metrics.bytesPerImage).toBe(0);
  });

  it('records phases that add up and bytes that equal what the link carried', () => {
    const run = simulate(
      config({ policy: staticPolicy({ kind: 'offload', format: 'png' }), durationMs: 5000 }),
    );
    for (const { record } of run.requests) {
      const p = record.phases;
      expect(
        p.deviceMs + p.encodeMs + p.networkMs + p.serverQueueMs + p.serverComputeMs + p.overheadMs,
      ).toBeCloseTo(p.totalMs, 9);
      expect(record.wireBytes).toBe(510 * K + 40);
    }
  });

  it('auto leaves offload when the uplink falls and keeps to the target at 8x', () => {
    const run = simulate(config({ slowdown: 8 }));
    const beforeStep = run.requests.filter((request) => request.record.startedAt < 19_000);
    const afterStep = run.requests.filter((request) => request.record.startedAt > 22_000);
    // At 2 Mbit/s PNG (6 quanta, 36 ms) is the most accurate within 250 ms; at 8x on-device is not.
    expect(beforeStep.slice(-10).every((request) => request.decision!.id === 'png')).toBe(true);
    // At 64 kbit/s PNG takes 6 x 187.5 ms and on-device at 8x 320 ms: only a one-quantum split meets it.
    const lastChoices = afterStep.slice(-10).map((request) => request.decision!);
    for (const decision of lastChoices) {
      expect(decision.candidate.kind).toBe('split');
      expect(decision.meetsSlo).toBe(true);
    }
    expect(lastChoices[0]!.reason).toMatch(/^At ~6\d kbit\/s .* the 250 ms target/);
    const leftOffload = afterStep.findIndex((request) => request.decision!.id !== 'png');
    expect(afterStep[leftOffload]!.record.startedAt).toBeLessThan(22_000 + 2000);
  });

  it('auto on the device through an outage sees the link come back within seconds', () => {
    // 2 Mbit/s, 64 kbit/s from 10 s, 2 kbit/s (a quantum takes 6 s) from 12 to 30 s, then 2 Mbit/s
    // again. At 8× the device alone misses 250 ms, but it is the fastest while the link crawls; auto
    // goes back to the network as soon as an idle probe sees the link again.
    const crawl: ThrottleStep[] = [
      { atMs: 0, traceBps: 2_000_000, uplinkBps: 2_000_000 },
      { atMs: 10_000, traceBps: 64_000, uplinkBps: 64_000 },
      { atMs: 12_000, traceBps: 2000, uplinkBps: 2000 },
      { atMs: 30_000, traceBps: 2_000_000, uplinkBps: 2_000_000 },
    ];
    const noExit = candidates.filter(
      (candidate) => candidate.kind !== 'split' || candidate.exitThreshold === null,
    );
    const run = simulate(
      config({
        slowdown: 8,
        candidates: noExit,
        makeLink: () => throttleModelFor(crawl),
        durationMs: 40_000,
      }),
    );
    const during = run.requests.filter(
      (request) => request.record.startedAt > 20_000 && request.record.startedAt < 30_000,
    );
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((request) => request.decision!.id === 'full')).toBe(true);
    const back = run.requests.find(
      (request) => request.record.startedAt >= 30_000 && request.decision!.candidate.kind !== 'on-device',
    );
    // The idle probe held by the crawl is released at 30 s, and the next goes within the cap.
    expect(back!.record.startedAt).toBeLessThan(30_000 + 4000);
  });

  it('starts a request that sends only once the stream probe before it has crossed, as the engine does', () => {
    // A split with an exit sends single quanta that bound the uplink from one side only, so the
    // estimate asks for stream probes now and then.
    const sends: { at: number; bytes: number; arrivedAt: number }[] = [];
    const run = simulate(
      config({
        policy: staticPolicy({ kind: 'split', levelId: 'c2', bits: 2, exitThreshold: 0.9 }),
        slowdown: 8,
        makeLink: () => {
          const link = throttleModelFor([{ atMs: 0, traceBps: 2_000_000, uplinkBps: 2_000_000 }]);
          return {
            send(at: number, bytes: number) {
              const arrivedAt = link.send(at, bytes);
              sends.push({ at, bytes, arrivedAt });
              return arrivedAt;
            },
          };
        },
      }),
    );
    expect(run.requests.length).toBeGreaterThan(100);
    // Probes are 700 B plus whole quanta; this world's requests are at most 16 × 25 + 40 B.
    const isProbe = (bytes: number) => bytes >= 700 && (bytes - 700) % 1500 === 0;
    const followed = sends.flatMap((send, i) =>
      isProbe(send.bytes) && sends[i + 1] && !isProbe(sends[i + 1]!.bytes) ? [[send, sends[i + 1]!]] : [],
    );
    expect(followed.length).toBeGreaterThan(2);
    for (const [probe, request] of followed) expect(request!.at).toBeGreaterThanOrEqual(probe!.arrivedAt);
  });

  it('the oracle does at least as well as every static candidate, and auto reaches 95% of it', () => {
    const base = config({ slowdown: 8 });
    const score = (records: ReturnType<typeof simulate>['requests']) =>
      runMetrics(
        records.map((request) => request.record),
        base.sloMs,
      ).onTimeAccuracy;
    const oracle = score(simulateOracle(base).requests);
    const statics = candidates.map((candidate) => ({
      id: candidateId(candidate),
      score: score(simulate({ ...base, policy: staticPolicy(candidate) }).requests),
    }));
    const auto = score(simulate(base).requests);
    for (const entry of statics) expect(oracle).toBeGreaterThanOrEqual(entry.score - 0.01);
    expect(auto).toBeGreaterThanOrEqual(0.95 * oracle);
  });

  it('the oracle scores a candidate over the spread of its costs, not at their median', () => {
    // A knife edge: the full model is late at its median (262 ms against 250) but on time in 2 of 5
    // runs; a head whose every image exits is always late (about 254 ms) yet faster at the median.
    // At 16 kbit/s nothing that sends a quantum (750 ms) is on time.
    const base = world();
    const edge: MeasuredWorld = {
      ...base,
      deviceMs: new Map([
        ...base.deviceMs,
        [`full@${K}`, [230, 240, 262, 265, 270]],
        [`head-c2@${K}`, [252, 253, 254]],
        [`exit-c2@${K}`, [0.5]],
      ]),
    };
    const plain = truth();
    const allExit: ImageTruth = {
      ...plain,
      exits: new Map([['c2', { predicted: plain.labels, confidence: new Float32Array(IMAGES).fill(0.95) }]]),
    };
    const knife = config({
      world: edge,
      truth: allExit,
      slowdown: 1,
      sloMs: 250,
      durationMs: 20_000,
      makeLink: () => throttleModelFor([{ atMs: 0, traceBps: 16_000, uplinkBps: 16_000 }]),
    });
    const onTime = (run: ReturnType<typeof simulate>) =>
      runMetrics(
        run.requests.map((request) => request.record),
        250,
      ).onTimeAccuracy;
    // Each static over its own candidate, as the benchmark runs them: no other model to re-measure,
    // so the full static draws the same device times as the oracle running the full model.
    const staticRun = (candidate: Candidate) =>
      onTime(simulate({ ...knife, candidates: [candidate], policy: staticPolicy(candidate) }));
    const full = staticRun({ kind: 'on-device' });
    const exit = staticRun({ kind: 'split', levelId: 'c2', bits: 2, exitThreshold: 0.9 });
    expect(full).toBeGreaterThan(0.2);
    expect(exit).toBe(0);
    const oracle = simulateOracle(knife);
    // On time in 2 of 5 draws beats never: the device, as the full static, but for a request whose
    // eight tries all drew late ((3/5)^8: under 2%), where it takes the faster.
    const onDevice = oracle.requests.filter((request) => request.record.mode === 'on-device').length;
    expect(onDevice / oracle.requests.length).toBeGreaterThan(0.95);
    expect(onTime(oracle)).toBeGreaterThanOrEqual(full - 0.02);
  });

  it('replays a trace as mm-link serves it, outages included', () => {
    const trace = stepTrace('outage', [
      { kbps: 1000, durationMs: 5000 },
      { kbps: 0, durationMs: 2000 },
      { kbps: 1000, durationMs: 5000 },
    ]);
    const run = simulate(
      config({
        policy: staticPolicy({ kind: 'split', levelId: 'c2', bits: 2, exitThreshold: null }),
        makeLink: () => new TraceLink(trace),
        durationMs: 12_000,
      }),
    );
    const stalled = run.requests.filter((request) => request.record.phases.networkMs > 1000);
    expect(stalled.length).toBe(1);
    expect(stalled[0]!.record.startedAt).toBeGreaterThan(4900);
  });

  it('is deterministic for a seed', () => {
    const a = simulate(config({ seed: 5, durationMs: 5000 }));
    const b = simulate(config({ seed: 5, durationMs: 5000 }));
    expect(a.requests.map((request) => request.record.phases.totalMs)).toEqual(
      b.requests.map((request) => request.record.phases.totalMs),
    );
  });
});
