import { describe, expect, it } from 'vitest';
import { computePhases, type InferenceRecord, type Mode } from '../core/record';
import { LiveFeed, throughputSeries } from './liveFeed';
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
  it('averages answered images per second over a trailing window and drops the filling second', () => {
    const points = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4.2].map(
      (t) => ({ t, mode: 'split', ok: true, images: 16, totalMs: 0 }) as LivePoint,
    );
    const series = throughputSeries(points, 2);
    // Seconds 0..3 hold 32 images each; second 4 is still filling.
    expect(series.map((row) => row.t)).toEqual([1, 2, 3]);
    for (const row of series) expect(row.split).toBe(32);
  });
});
