import { describe, expect, it } from 'vitest';
import { allCandidates, candidateId, type CostManifest } from '../../src/core/costModel';
import { computePhases, type InferenceRecord } from '../../src/core/record';
import { imageOrder } from '../../src/core/sampling';
import {
  checkAgainstBestStatic,
  checkAgainstOracle,
  checkFidelity,
  FULL_LIVE_GRID,
  estimateLiveSeconds,
  liveRuns,
  metricsBySlo,
  prefixAccuracy,
  resolveStatics,
  withinSegment,
} from './aggregate';

const manifest = {
  quantization: { minBits: 1, maxBits: 4 },
  levels: [
    { id: 'c2', elements: 98 },
    { id: 'c4', elements: 196 },
  ],
  earlyExits: [{ level: 'c2', thresholds: [{ threshold: 0.9, coverage: 0.5, accuracy: 0.95 }] }],
} as unknown as CostManifest;
const candidates = allCandidates(manifest);
const payload = (levelId: string, bits: number) => Math.ceil(((levelId === 'c2' ? 98 : 196) * bits) / 8);
const accuracy = new Map([
  ['full', 0.935],
  ['png', 0.935],
  ['c2-b1', 0.91],
  ['c2-b2', 0.933],
  ['c2-b3', 0.934],
  ['c2-b4', 0.936],
  ['c4-b1', 0.92],
  ['c4-b2', 0.932],
  ['c4-b3', 0.937],
  ['c4-b4', 0.938],
]);

describe('resolveStatics', () => {
  it('resolves aliases: the best split at ≤ 64 B per image and it with the exit', () => {
    const statics = resolveStatics(
      ['on-device', 'offload-png', 'best-split', 'split-exit', 'c4-b4'],
      candidates,
      accuracy,
      payload,
    );
    // c2-b4 is 49 B at 93.6%; c4-b3 (74 B) and c4-b4 (98 B) are over 64 B
    expect(statics.map(candidateId)).toEqual(['full', 'png', 'c2-b4', 'c2-b4-x0.9', 'c4-b4']);
  });

  it('refuses a name it does not know', () => {
    expect(() => resolveStatics(['c9-b2'], candidates, accuracy, payload)).toThrow(/c9-b2/);
  });
});

function rec(startedAt: number, totalMs: number, right: boolean[], wireBytes = 100): InferenceRecord {
  return {
    seq: 0,
    requestId: 1,
    mode: 'offload',
    config: 'png',
    backend: 't',
    startedAt,
    epochMs: startedAt,
    images: right.map((r, i) => ({ index: i, label: 1, predicted: r ? 1 : 0, confidence: 1 })),
    payloadBytes: wireBytes,
    wireBytes,
    phases: computePhases({
      start: startedAt,
      computeEnd: startedAt,
      encodeEnd: startedAt,
      end: startedAt + totalMs,
    }),
    ok: true,
  };
}

describe('metrics and checks', () => {
  it('scores one run at every SLO', () => {
    const records = [rec(0, 100, [true, true]), rec(100, 300, [true, false])];
    const by = metricsBySlo(records, [150, 400]);
    expect(by['150']!.onTimeAccuracy).toBe(0.5);
    expect(by['400']!.onTimeAccuracy).toBe(0.75);
    expect(by['150']!.sloAttainment).toBe(0.5);
  });

  it('keeps the records started within the segment', () => {
    const records = [rec(90, 1, [true]), rec(100, 1, [true]), rec(199, 1, [true]), rec(200, 1, [true])];
    expect(withinSegment(records, 100, 100).map((r) => r.startedAt)).toEqual([100, 199]);
  });

  it('passes or fails the done-when bounds', () => {
    const where = { trace: 't', slowdown: 1, sloMs: 150 };
    expect(checkAgainstOracle(where, 0.9, 0.94, 'auto').pass).toBe(true);
    expect(checkAgainstOracle(where, 0.89, 0.94, 'auto').pass).toBe(false);
    const best = checkAgainstBestStatic(where, 0.9, { png: 0.904, full: 0.5 }, 'auto');
    expect(best.pass).toBe(true);
    expect(best.detail).toMatch(/png/);
    expect(best.bestStatic).toBe('png');
    expect(checkAgainstBestStatic(where, 0.9, { png: 0.906 }, 'auto').pass).toBe(false);
    expect(checkFidelity(where, 'png', 0.92, 0.895).pass).toBe(true);
    expect(checkFidelity(where, 'png', 0.92, 0.889).pass).toBe(false);
  });

  it("scores how hard a run's images were on the prefix of the stream it sent, wrapping", () => {
    // Six images; the full model is right on the even ones.
    const labels = [0, 1, 2, 3, 4, 5];
    const truth = {
      labels,
      predicted: new Map([['full', labels.map((label, i) => (i % 2 === 0 ? label : -1))]]),
      exits: new Map(),
    };
    const order = imageOrder(6, 3);
    const rightInOrder = [...order].map((index) => (index % 2 === 0 ? 1 : 0));
    expect(prefixAccuracy(truth, 'full', { seed: 3, startIndex: 0 }, 2)).toBe(
      (rightInOrder[0]! + rightInOrder[1]!) / 2,
    );
    // From the fifth image, eight images: the last two, then the whole order again.
    const wrapped = [4, 5, 0, 1, 2, 3, 4, 5].map((i) => rightInOrder[i]!);
    expect(prefixAccuracy(truth, 'full', { seed: 3, startIndex: 4 }, 8)).toBe(
      wrapped.reduce((a: number, b) => a + b, 0) / 8,
    );
    expect(prefixAccuracy(truth, 'full', { seed: 3, startIndex: 0 }, 6)).toBe(0.5);
    expect(prefixAccuracy(truth, 'png', { seed: 3, startIndex: 0 }, 6)).toBeNaN();
  });

  it('counts and times the live grid', () => {
    const grid = FULL_LIVE_GRID;
    expect(liveRuns(grid)).toBe(3 * 2 * 2 * 6);
    expect(estimateLiveSeconds(grid, 10, 100)).toBe(100 + 72 * 130);
    expect(liveRuns({ ...grid, auto: false })).toBe(48);
  });
});
