import { describe, expect, it } from 'vitest';
import { computePhases, type InferenceRecord, type Mode, type RecordDecision } from '../core/record';
import { DECISION_POINTS, LiveFeed, MAX_ROWS, throughputSeries } from './liveFeed';
import type { LivePoint, LiveSnapshot } from './liveSnapshot';

let seq = 0;
function record(
  mode: Mode,
  ok: boolean,
  labels: number[],
  predicted: number[],
  startedAt = seq * 100,
): InferenceRecord {
  seq++;
  const network = mode !== 'on-device';
  return {
    seq,
    requestId: network ? seq : 0,
    mode,
    config: mode === 'split' ? 'c4-b2' : mode === 'offload' ? 'png' : 'full',
    backend: 'wasm',
    startedAt,
    epochMs: startedAt,
    images: labels.map((label, i) => ({
      index: i,
      label,
      predicted: ok ? predicted[i]! : -1,
      confidence: 0.5,
    })),
    payloadBytes: network ? 49 * labels.length : 0,
    wireBytes: network ? 49 * labels.length + 9 : 0,
    phases: computePhases(
      network
        ? {
            start: startedAt,
            computeEnd: startedAt + 5,
            encodeEnd: startedAt + 6,
            sent: startedAt + 6,
            end: startedAt + 40,
          }
        : { start: startedAt, computeEnd: startedAt + 8, encodeEnd: startedAt + 8, end: startedAt + 8 },
      network && ok ? { queuedMs: 1, decodeMs: 1, computeMs: 3, totalMs: 5 } : undefined,
    ),
    ok,
    ...(ok ? {} : { failure: { reason: 'disconnected' as const, message: 'connection lost' } }),
  };
}

describe('LiveFeed', () => {
  it('balances sent = answered + failed and counts accuracy only over answered images', async () => {
    const published: LiveSnapshot[] = [];
    const feed = new LiveFeed((snapshot) => published.push(snapshot));
    for (let i = 0; i < 3; i++) feed.noteSent();
    expect(feed.snapshot().counters.sent).toBe(3);
    expect(feed.snapshot().counters.answered).toBe(0);
    feed.add(record('split', true, [1, 2], [1, 3]));
    feed.add(record('split', false, [4, 5], []));
    feed.add(record('offload', true, [6], [6]));
    feed.add(record('on-device', true, [7, 8], [7, 8]));
    const snapshot = feed.snapshot();
    expect(snapshot.counters.sent).toBe(3);
    expect(snapshot.counters.answered + snapshot.counters.failed).toBe(snapshot.counters.sent);
    expect(snapshot.counters.failedByReason).toEqual({ disconnected: 1 });
    expect(snapshot.counters.local).toBe(1);
    expect(snapshot.perMode.split.accuracy).toBe(0.5);
    expect(snapshot.perMode.split.images).toBe(4);
    expect(snapshot.perMode.split.wireBytesPerImage).toBe((107 + 107) / 4);
    expect(snapshot.perMode['on-device'].accuracy).toBe(1);
    expect(snapshot.lastError).toContain('disconnected');
    // Publication is coalesced onto the next frame: many records, one snapshot.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(published.length).toBe(1);
    expect(published[0]!.counters.sent).toBe(3);
  });

  it('starts a mode afresh when its configuration changes', () => {
    const feed = new LiveFeed(() => {});
    feed.add(record('split', true, [1, 2], [1, 2]));
    const changed = { ...record('split', true, [3, 4], [0, 0]), config: 'c4-b8' };
    feed.add(changed);
    const split = feed.snapshot().perMode.split;
    expect(split.lastConfig).toBe('c4-b8');
    expect(split.images).toBe(2);
    expect(split.accuracy).toBe(0);
  });

  it('forgets everything on reset', () => {
    const feed = new LiveFeed(() => {});
    feed.noteSent();
    feed.add(record('split', true, [1], [1]));
    feed.reset();
    expect(feed.snapshot().counters.sent).toBe(0);
    expect(feed.records.size).toBe(0);
  });
});

describe('throughputSeries', () => {
  const stream = (count: number, every: number, totalMs: number) =>
    Array.from(
      { length: count },
      (_, i) => ({ t: i * every, mode: 'split', ok: true, images: 16, totalMs }) as LivePoint,
    );

  it('averages answered images per second over a trailing window, one sample a second', () => {
    // A 16-image request every 0.5 s, each answered 0.5 s after it began: 32 images/s throughout.
    const series = throughputSeries(stream(20, 0.5, 500), 2);
    expect(series.map((row) => row.t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const row of series) expect(row.split).toBeCloseTo(32, 9);
  });

  it('draws a stream of under two seconds, with samples a fraction of a second apart', () => {
    // 320 images as 20 requests of 16 back to back, 85 ms each: a 1.7 s stream (~188 images/s).
    const series = throughputSeries(stream(20, 0.085, 85));
    expect(series.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < series.length; i++) expect(series[i]!.t).toBeGreaterThan(series[i - 1]!.t);
    expect(series[series.length - 1]!.t).toBeLessThanOrEqual(1.7 + 1e-9);
    for (const row of series) {
      // A sample counts whole requests, so an early one may miss the request still in flight.
      expect(row.split).toBeGreaterThan(100);
      expect(row.split).toBeLessThan(16 / 0.085 + 1);
    }
  });

  it('samples each stream on its own, so a short one after a long pause is drawn too', () => {
    const first = stream(20, 0.5, 500);
    // 32 images in 0.26 s, ten seconds later.
    const second = stream(2, 0.13, 130).map((point) => ({ ...point, t: point.t + 20 }));
    const series = throughputSeries([...first, ...second]);
    const late = series.filter((row) => row.t > 20);
    expect(late.length).toBeGreaterThanOrEqual(3);
    // Measured from the second stream's own start: not diluted by the pause before it.
    expect(late[late.length - 1]!.split).toBeCloseTo(32 / 0.26, 6);
    expect(series.some((row) => row.t > 10.5 && row.t < 20)).toBe(false);
  });

  it('has nothing to draw before the first answer', () => {
    expect(throughputSeries([])).toEqual([]);
    expect(throughputSeries([{ ...stream(1, 0, 0)[0]!, ok: false }])).toEqual([]);
  });
});

describe('result rows', () => {
  it('keeps a WebGPU run and a WASM run of the same configuration in two rows', () => {
    const feed = new LiveFeed(() => {});
    feed.add({ ...record('split', true, [1, 2], [1, 2]), backend: 'webgpu: google swiftshader' });
    feed.add({ ...record('split', true, [1, 2], [1, 2]), backend: 'webgpu: google swiftshader' });
    feed.add({ ...record('split', true, [3, 4], [0, 0]), backend: 'wasm: 1 thread' });
    const { rows, perMode } = feed.snapshot();
    expect(rows.map((row) => [row.backend, row.images, row.accuracy, row.current])).toEqual([
      ['webgpu: google swiftshader', 4, 1, false],
      ['wasm: 1 thread', 2, 0, true],
    ]);
    // The mode's current figures are the WASM row's alone.
    expect(perMode.split.images).toBe(2);
    expect(perMode.split.accuracy).toBe(0);
  });

  it('keeps device slowdowns apart, an absent slowdown counting as 1', () => {
    const feed = new LiveFeed(() => {});
    feed.add(record('on-device', true, [1], [1]));
    feed.add({ ...record('on-device', true, [1], [1]), slowdown: 1 });
    feed.add({ ...record('on-device', true, [1], [0]), slowdown: 8 });
    const rows = feed.snapshot().rows;
    expect(rows.map((row) => [row.slowdown, row.requests])).toEqual([
      [1, 2],
      [8, 1],
    ]);
  });

  it('keeps each configuration and request size in its own row, and a return to one continues it', () => {
    const feed = new LiveFeed(() => {});
    feed.add(record('split', true, [1, 2], [1, 2]));
    feed.add({ ...record('split', true, [3, 4], [0, 0]), config: 'c4-b8' });
    feed.add(record('split', true, [1, 2, 3], [1, 2, 3]));
    feed.add(record('split', true, [1, 2], [1, 0]));
    const rows = feed.snapshot().rows;
    expect(rows.map((row) => [row.config, row.imagesPerRequest, row.images, row.current])).toEqual([
      ['c4-b2', 2, 4, true],
      ['c4-b8', 2, 2, false],
      ['c4-b2', 3, 3, false],
    ]);
  });

  it(`keeps at most ${MAX_ROWS} rows, dropping the oldest that no mode is on`, () => {
    const feed = new LiveFeed(() => {});
    feed.add(record('on-device', true, [1], [1]));
    for (let bits = 0; bits < MAX_ROWS + 5; bits++)
      feed.add({ ...record('split', true, [1], [1]), config: `c4-b${bits}` });
    const rows = feed.snapshot().rows;
    expect(rows).toHaveLength(MAX_ROWS);
    expect(rows[0]!.mode).toBe('on-device');
    expect(rows[rows.length - 1]!.config).toBe(`c4-b${MAX_ROWS + 4}`);
  });

  describe('auto decisions', () => {
    const decision = (candidate: string, extra: Partial<RecordDecision> = {}): RecordDecision => ({
      policy: 'auto',
      candidate,
      reason: `At ~2.0 Mbit/s ${candidate} is the most accurate candidate within the 250 ms target.`,
      sloMs: 250,
      predicted: { medianMs: 30, p90Ms: 35 },
      expectedAccuracy: 0.93,
      meetsSlo: true,
      exploring: false,
      uplinkBps: 2_000_000,
      candidates: [],
      ...extra,
    });
    const decided = (mode: Mode, config: string, extra: Partial<RecordDecision> = {}, slowdown = 8) => ({
      ...record(mode, true, [1, 2], [1, 2]),
      config,
      slowdown,
      decision: decision(config, extra),
    });

    it('gives each decision a point on the session time axis with the uplink and the slowdown', () => {
      const feed = new LiveFeed(() => {});
      feed.add(record('split', true, [1], [1], 0));
      feed.add({ ...decided('offload', 'png'), startedAt: 1000 });
      feed.add({ ...decided('split', 'c2-b2', { uplinkBps: 64_000, meetsSlo: false }), startedAt: 2500 });
      const { decisions, lastDecision } = feed.snapshot();
      // The static split record carries no auto decision: two points, not three.
      expect(decisions).toEqual([
        expect.objectContaining({ t: 1, candidate: 'png', kind: 'offload', uplinkKbps: 2000, slowdown: 8 }),
        expect.objectContaining({
          t: 2.5,
          candidate: 'c2-b2',
          kind: 'split',
          uplinkKbps: 64,
          meetsSlo: false,
        }),
      ]);
      expect(decisions[1]).toMatchObject({ sloMs: 250, ok: true, totalMs: 40, exploring: false });
      expect(lastDecision).toMatchObject({
        candidate: 'c2-b2',
        policy: 'auto',
        sloMs: 250,
        predictedP90Ms: 35,
      });
      expect(lastDecision!.reason).toMatch(/c2-b2 is the most accurate/);
    });

    it('puts auto requests of any kind in one auto row, apart from the fixed modes', () => {
      const feed = new LiveFeed(() => {});
      feed.add(record('split', true, [1, 2], [1, 2]));
      feed.add(decided('offload', 'png'));
      feed.add(decided('split', 'c2-b2'));
      feed.add(decided('on-device', 'full'));
      const snapshot = feed.snapshot();
      const auto = snapshot.rows.filter((row) => row.mode === 'auto');
      expect(auto).toHaveLength(1);
      expect(auto[0]).toMatchObject({
        config: 'auto',
        requests: 3,
        images: 6,
        lastConfig: 'full',
        current: true,
      });
      expect(snapshot.auto.requests).toBe(3);
      expect(snapshot.perMode.split.requests).toBe(1);
      expect(snapshot.perMode.offload.requests).toBe(0);
      // A static decision (fixed mode) stays in its mode's row.
      feed.add({
        ...record('split', true, [1, 2], [1, 2]),
        decision: decision('c4-b2', { policy: 'static c4-b2' }),
      });
      expect(feed.snapshot().perMode.split.requests).toBe(2);
      expect(feed.snapshot().decisions).toHaveLength(3);
    });

    it(`keeps the newest ${DECISION_POINTS} decisions and forgets them on reset`, () => {
      const feed = new LiveFeed(() => {});
      for (let i = 0; i < DECISION_POINTS + 10; i++) feed.add(decided('split', i % 2 ? 'c2-b2' : 'c4-b4'));
      const { decisions } = feed.snapshot();
      expect(decisions).toHaveLength(DECISION_POINTS);
      expect(decisions[decisions.length - 1]!.seq).toBe(feed.records.toArray().at(-1)!.seq);
      feed.reset();
      expect(feed.snapshot().decisions).toEqual([]);
      expect(feed.snapshot().lastDecision).toBeNull();
      expect(feed.snapshot().auto.requests).toBe(0);
    });
  });
});
