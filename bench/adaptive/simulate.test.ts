import { describe, expect, it } from 'vitest';
import { allCandidates, type CostManifest } from '../../src/core/costModel';
import { stepTrace } from '../../src/core/traceGenerator';
import { throttleSchedule } from '../../src/core/cdpThrottle';
import { scheduleLink } from './links';
import { runSimTask, shardTasks, type SimWorld } from './simulate';
import { measuredWorld, type WorldJson } from './world';

const manifest = {
  quantization: { minBits: 2, maxBits: 2 },
  levels: [{ id: 'c2', elements: 98 }],
  earlyExits: [{ level: 'c2', thresholds: [{ threshold: 0.9, coverage: 0.5, accuracy: 0.95 }] }],
} as unknown as CostManifest;
const K = 16;
const IMAGES = 1000;
const labels = Uint8Array.from({ length: IMAGES }, (_, i) => i % 10);
const rightOn = (share: number) =>
  Uint8Array.from(labels, (label, i) => ((i * 7919) % 100 < share * 100 ? label : (label + 1) % 10));
const around = (ms: number) => [ms * 0.9, ms, ms * 1.1];
const worldJson: WorldJson = {
  imagesPerRequest: K,
  deviceMs: { [`full@${K}`]: around(40), [`head-c2@${K}`]: around(4), [`exit-c2@${K}`]: around(1) },
  encodeMsPerImage: { codes: [0.01], png: [0.05], 'webp-q50': [2] },
  serverMs: {
    [`offload-png@${K}`]: around(30),
    [`offload-webp-q50@${K}`]: around(32),
    ...Object.fromEntries(Array.from({ length: K }, (_, i) => [`tail-c2@${i + 1}`, around(2 + i * 0.1)])),
  },
  payloadPerImage: { png: 510, 'webp-q50': 250, 'c2-b2': 25 },
  framingBytes: { split: 12, offload: 40 },
  downlinkMs: [1],
  overheadMs: [0.5],
  derived: {},
  recordsPerConfig: {},
};
const world: SimWorld = {
  candidates: allCandidates(manifest),
  accuracy: new Map([
    ['full', 0.95],
    ['png', 0.95],
    ['webp-q50', 0.95],
    ['c2-b2', 0.93],
    ['c2-b2-x0.9', 0.94],
  ]),
  manifest,
  world: measuredWorld(worldJson),
  truth: {
    labels,
    predicted: new Map([
      ['full', rightOn(0.95)],
      ['png', rightOn(0.95)],
      ['webp-q50', rightOn(0.95)],
      ['c2-b2', rightOn(0.93)],
    ]),
    exits: new Map([
      ['c2', { predicted: labels, confidence: Float32Array.from(labels, (_, i) => (i % 2 ? 0.5 : 0.95)) }],
    ]),
  },
  imagesPerRequest: K,
  seed: 1,
};
const trace = stepTrace('step', [
  { kbps: 2000, durationMs: 10_000 },
  { kbps: 64, durationMs: 10_000 },
]);
const run = {
  makeLink: scheduleLink(throttleSchedule(trace)),
  durationMs: trace.periodMs,
  slowdown: 8,
  firstImage: 0,
};

describe('runSimTask', () => {
  it('scores a static at every SLO from one run; the oracle runs one run per SLO', () => {
    const png = runSimTask(world, { trace: 'step', slowdown: 8, policy: 'png' }, run, [150, 400]);
    expect(png.metrics['150']!.requests).toBe(png.metrics['400']!.requests);
    expect(png.metrics['400']!.onTimeAccuracy).toBeGreaterThanOrEqual(png.metrics['150']!.onTimeAccuracy);
    const oracle = runSimTask(world, { trace: 'step', slowdown: 8, policy: 'oracle' }, run, [150, 400]);
    // Per image sent the oracle can score below PNG (PNG sends few images while the link is slow),
    // but it answers more images correctly within the target over the same time.
    const onTime = (m: { onTimeAccuracy: number; images: number }) => m.onTimeAccuracy * m.images;
    for (const slo of ['150', '400'])
      expect(onTime(oracle.metrics[slo]!)).toBeGreaterThan(onTime(png.metrics[slo]!));
  });

  it("keeps auto's decision timeline per SLO", () => {
    const auto = runSimTask(world, { trace: 'step', slowdown: 8, policy: 'auto' }, run, [250]);
    const points = auto.timelines![0]!.points;
    expect(points.length).toBe(auto.metrics['250']!.requests);
    // At 64 kbit/s and 8x, auto is off PNG by the end.
    expect(points[points.length - 1]![1]).not.toBe('png');
  });

  it('refuses a policy it does not know', () => {
    expect(() => runSimTask(world, { trace: 'step', slowdown: 1, policy: 'c9-b2' }, run, [150])).toThrow(
      /c9-b2/,
    );
  });
});

describe('shardTasks', () => {
  it('spreads tasks by cost, the largest first, and drops empty shards', () => {
    const tasks = ['auto', 'oracle', 'a', 'b', 'c'].map((policy) => ({ trace: 't', slowdown: 1, policy }));
    const cost = (task: { policy: string }) =>
      task.policy === 'auto' ? 10 : task.policy === 'oracle' ? 4 : 1;
    const shards = shardTasks(tasks, 2, cost);
    expect(shards[0]!.map((task) => task.policy)).toEqual(['auto']);
    expect(shards[1]!.map((task) => task.policy)).toEqual(['oracle', 'a', 'b', 'c']);
    expect(shardTasks(tasks.slice(0, 1), 4, cost)).toHaveLength(1);
  });
});
