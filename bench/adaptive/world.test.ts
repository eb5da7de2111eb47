import { describe, expect, it } from 'vitest';
import { computePhases, type InferenceRecord } from '../../src/core/record';
import {
  deviceAtSlowdown,
  measuredWorld,
  missingFromWorld,
  parseSplitConfig,
  withOwnCosts,
  worldFromRecords,
} from './world';

const K = 4;
let seq = 0;
function record(
  config: string,
  mode: InferenceRecord['mode'],
  times: {
    device: number;
    encode?: number;
    server?: number;
    exited?: number;
    payload?: number;
    wire?: number;
  },
): InferenceRecord {
  const exited = times.exited ?? 0;
  const start = 1000 * seq;
  const computeEnd = start + times.device;
  const encodeEnd = computeEnd + (times.encode ?? 0);
  const networked = mode !== 'on-device' && exited < K;
  const sent = encodeEnd + 0.5;
  const received = sent + 5 + (times.server ?? 0);
  const end = networked ? received + 0.5 : encodeEnd;
  return {
    seq: seq++,
    requestId: networked ? seq : 0,
    mode,
    config,
    backend: 'test',
    startedAt: start,
    epochMs: start,
    images: Array.from({ length: K }, (_, i) => ({
      index: i,
      label: 0,
      predicted: 0,
      confidence: 1,
      earlyExit: i < exited,
    })),
    payloadBytes: networked ? (times.payload ?? 0) : 0,
    wireBytes: networked ? (times.wire ?? 0) : 0,
    phases: networked
      ? computePhases(
          { start, computeEnd, encodeEnd, sent, received, end },
          { queuedMs: 0, decodeMs: 0, computeMs: times.server ?? 0, totalMs: times.server ?? 0 },
          { offsetMs: 0, serverReceivedAt: sent + 3, serverSentAt: sent + 3 + (times.server ?? 0) },
        )
      : computePhases({ start, computeEnd, encodeEnd: computeEnd, end }),
    ok: true,
  };
}

describe('worldFromRecords', () => {
  const records = [
    ...[40, 40, 41, 39, 40].map((device) => record('full', 'on-device', { device })),
    ...[9, 9, 10, 10, 11].map((device) =>
      record('c2-b2', 'split', { device, encode: 0.4, server: 2, payload: 100, wire: 112 }),
    ),
    ...[
      [11, 1],
      [11, 3],
      [12, 4],
      [12, 1],
      [12, 3],
    ].map(([device, exited]) =>
      record('c2-b2-x0.9', 'split', {
        device: device!,
        encode: 0.1,
        server: 1.5,
        exited,
        payload: 25 * (K - exited!),
        wire: 25 * (K - exited!) + 12,
      }),
    ),
    ...[1, 1, 1, 1, 1].map(() =>
      record('png', 'offload', { device: 0, encode: 0.8, server: 20, payload: 2000, wire: 2040 }),
    ),
  ];
  const world = worldFromRecords(records, {
    imagesPerRequest: K,
    splitPayloadPerImage: { 'c2-b2': 25 },
    skipFirst: 2,
  });

  it('takes device runs per model, the exit as split-with-exit minus the median head', () => {
    expect(world.deviceMs[`full@${K}`]).toEqual([41, 39, 40]);
    expect(world.deviceMs[`head-c2@${K}`]).toEqual([10, 10, 11]);
    // median head 10: the exit took 2, 2, 2 ms
    expect(world.deviceMs[`exit-c2@${K}`]).toEqual([2, 2, 2]);
    expect(world.derived[`exit-c2@${K}`]).toMatch(/minus the median head/);
  });

  it('takes encode per image sent, server time per count sent, and fills counts nothing measured', () => {
    expect(world.encodeMsPerImage.codes!.length).toBe(5);
    expect(world.encodeMsPerImage.png![0]).toBeCloseTo(0.2, 9);
    expect(world.serverMs[`tail-c2@${K}`]).toEqual([2, 2, 2]);
    expect(world.serverMs['tail-c2@1']).toEqual([1.5]);
    expect(world.serverMs['tail-c2@3']).toEqual([1.5]);
    // @2 lies between @1 (1.5) and @3 (1.5): interpolated
    expect(world.serverMs['tail-c2@2']).toEqual([1.5]);
    expect(world.derived['tail-c2@2']).toMatch(/interpolated/);
    expect(world.serverMs['offload-png@4']).toEqual([20, 20, 20]);
  });

  it('prices wire bytes from payload per image and the framing measured', () => {
    const measured = measuredWorld(world);
    expect(measured.wireBytes('c2-b2', K)).toBe(25 * K + 12);
    expect(measured.wireBytes('png', K)).toBe(2040);
    expect(measured.wireBytes('png', 2)).toBe(1040);
    expect(() => measured.wireBytes('c8-b2', 2)).toThrow(/no payload/);
    expect(measured.downlinkMs.length).toBeGreaterThan(0);
  });

  it('says what a world lacks', () => {
    expect(
      missingFromWorld(world, {
        device: [`full@${K}`, `head-c4@${K}`],
        server: [],
        encode: ['webp-q50'],
        payload: [],
      }),
    ).toEqual([`device head-c4@${K}`, 'encode webp-q50']);
  });

  it('parses split configs', () => {
    expect(parseSplitConfig('c4-b2-x0.9')).toEqual({ level: 'c4', base: 'c4-b2', exit: true });
    expect(parseSplitConfig('c4-b8')).toEqual({ level: 'c4', base: 'c4-b8', exit: false });
    expect(parseSplitConfig('png')).toBeNull();
    expect(parseSplitConfig('webp-q50')).toBeNull();
  });
});

describe('deviceAtSlowdown', () => {
  it('takes device runs measured at k, divided by k, which the world then gives at k only', () => {
    const at8 = [320, 320, 330, 310, 320].map((device) => ({
      ...record('full', 'on-device', { device }),
      slowdown: 8,
    }));
    const { deviceMs, derived } = deviceAtSlowdown(at8, { imagesPerRequest: K, slowdown: 8 });
    expect(deviceMs[`full@${K}`]).toEqual([330 / 8, 310 / 8, 320 / 8]);
    expect(derived[`full@${K}`]).toMatch(/measured at 8×/);
    const base = worldFromRecords(
      [40, 40, 50, 50, 50].map((device) => record('full', 'on-device', { device })),
      { imagesPerRequest: K, splitPayloadPerImage: {} },
    );
    const json = { ...base, deviceMsBySlowdown: { '8': deviceMs } };
    expect(measuredWorld(json, 1).deviceMs.get(`full@${K}`)).toEqual([50, 50, 50]);
    // sorted: a draw is a uniform index, so order does not matter; medians become a linear pass
    expect(measuredWorld(json, 8).deviceMs.get(`full@${K}`)).toEqual([310 / 8, 320 / 8, 330 / 8]);
    expect(measuredWorld(json, 2).deviceMs.get(`full@${K}`)).toEqual([50, 50, 50]);
  });
});

describe('withOwnCosts', () => {
  it("gives a static run's candidate the run's own device phases, at its slowdown only", () => {
    const base = worldFromRecords(
      [
        ...[40, 40, 50, 50, 50].map((device) => record('full', 'on-device', { device })),
        ...[8, 8, 9, 9, 9].map((device) => record('c2-b2', 'split', { device, server: 3 })),
      ],
      { imagesPerRequest: K, splitPayloadPerImage: { 'c2-b2': 25 } },
    );
    const json = { ...base, deviceMsBySlowdown: { '8': { [`head-c2@${K}`]: [9] } } };
    const run = [160, 240, 320].map((device) => ({
      ...record('c2-b2-x0.9', 'split', { device, exited: 1, server: 7 }),
      slowdown: 8,
    }));
    const own = withOwnCosts(json, run, 'c2-b2-x0.9', 8);
    expect(measuredWorld(own, 8).deviceMs.get(`head-c2@${K}`)).toEqual([20, 30, 40]);
    expect(measuredWorld(own, 8).deviceMs.get(`exit-c2@${K}`)).toEqual([0]);
    // Its server time at the count it sent (3 of 4), the rest of the world as it was.
    expect(measuredWorld(own, 8).serverMs.get(`tail-c2@${K - 1}`)).toEqual([7, 7, 7]);
    expect(measuredWorld(own, 8).serverMs.get(`tail-c2@${K}`)).toEqual(
      measuredWorld(json, 8).serverMs.get(`tail-c2@${K}`),
    );
    // Other slowdowns and models keep the sitting's.
    expect(measuredWorld(own, 1).deviceMs.get(`head-c2@${K}`)).toEqual([9, 9, 9]);
    expect(measuredWorld(own, 8).deviceMs.get(`full@${K}`)).toEqual([50, 50, 50]);
    expect(own.derived[`head-c2@${K} at 8×`]).toMatch(/own \(3 requests\)/);
    // At 1× the base table; a run with no records of the config leaves the world as it is.
    const full = withOwnCosts(json, [record('full', 'on-device', { device: 70 })], 'full', 1);
    expect(measuredWorld(full, 1).deviceMs.get(`full@${K}`)).toEqual([70]);
    expect(withOwnCosts(json, run, 'png', 8)).toBe(json);
  });
});
