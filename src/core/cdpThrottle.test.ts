import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  throttleModelFor,
  OUTAGE_BPS,
  cdpConditions,
  throttleSchedule,
  type ThrottleStep,
} from './cdpThrottle';
import { stepTrace } from './traceGenerator';

const steps = (...rates: number[]): ThrottleStep[] =>
  rates.map((bps, i) => ({ atMs: i * 1000, traceBps: bps, uplinkBps: bps }));

describe('throttleSchedule', () => {
  const trace = stepTrace('t', [
    { kbps: 2000, durationMs: 2000 },
    { kbps: 0, durationMs: 1000 },
    { kbps: 64, durationMs: 2000 },
  ]);

  it('sets one rate per second and stands a slow rate in for an outage (CDP reads 0 as no throttle)', () => {
    const schedule = throttleSchedule(trace);
    expect(schedule.map((step) => step.atMs)).toEqual([0, 1000, 2000, 3000, 4000]);
    // One opportunity a second is 12 kbit/s: the resolution of a 1-s rate.
    expect(Math.abs(schedule[0]!.traceBps - 2_000_000)).toBeLessThanOrEqual(12_000);
    expect(schedule[2]!.traceBps).toBe(0);
    expect(schedule[2]!.uplinkBps).toBe(OUTAGE_BPS);
    expect(cdpConditions(schedule[2]!).uploadThroughput).toBe(OUTAGE_BPS / 8);
    expect(cdpConditions(schedule[0]!).downloadThroughput).toBe(-1);
  });

  it('replays a segment from an offset and loops the trace', () => {
    const schedule = throttleSchedule(trace, 4000, 3000);
    const expected = [64_000, 2_000_000, 2_000_000];
    expect(schedule).toHaveLength(3);
    schedule.forEach((step, i) => expect(Math.abs(step.traceBps - expected[i]!)).toBeLessThanOrEqual(12_000));
  });
});

describe('throttleModelFor', () => {
  // 64 kbit/s: one 1500-byte quantum every 187.5 ms.
  const quantumMs = 187.5;

  it('ends a message on a tick of the clock that started with its conditions', () => {
    const model = throttleModelFor(steps(64_000, 64_000, 64_000));
    expect(model.send(0, 49)).toBe(quantumMs);
    // Sent mid-quantum: waits only for the rest of it.
    expect(model.send(300, 49)).toBe(2 * quantumMs);
    // 2000 B are two quanta.
    expect(model.send(400, 2000)).toBe(4 * quantumMs);
  });

  it('releases the message in flight at a change of conditions, not at a repeat of the same ones', () => {
    const model = throttleModelFor(steps(64_000, 64_000, 256_000));
    // 20,000 B: 14 quanta = 2625 ms at 64 kbit/s; the repeat at 1000 ms changes nothing.
    expect(model.send(100, 20_000)).toBe(2000);
    const again = throttleModelFor(steps(64_000, 64_000, 64_000));
    expect(again.send(100, 20_000)).toBe(14 * quantumMs);
  });

  it('lets a message queued behind a throttled one go out with it', () => {
    const model = throttleModelFor(steps(64_000));
    expect(model.send(0, 3000)).toBe(3 * quantumMs);
    expect(model.send(10, 3000)).toBe(3 * quantumMs);
    expect(model.send(3 * quantumMs + 1, 100)).toBe(4 * quantumMs);
  });

  it('holds a message sent in an outage until the outage ends', () => {
    const model = throttleModelFor(steps(64_000, OUTAGE_BPS, 64_000));
    expect(model.send(1100, 49)).toBe(2000);
  });

  it('one message at a time takes between (quanta - 1) and quanta quantum times', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 32_000, max: 4_000_000 }),
        fc.array(
          fc.tuple(fc.integer({ min: 1, max: 30_000 }), fc.double({ min: 0, max: 500, noNaN: true })),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        (bps, messages) => {
          const model = throttleModelFor([{ atMs: 0, traceBps: bps, uplinkBps: bps }]);
          const q = (1500 * 8 * 1000) / bps;
          let free = 0;
          for (const [bytes, gap] of messages) {
            const sentAt = free + gap;
            const arrival = model.send(sentAt, bytes);
            const quanta = Math.floor(bytes / 1500) + 1;
            const took = arrival - sentAt;
            expect(took).toBeGreaterThan((quanta - 1) * q - 1e-6);
            expect(took).toBeLessThanOrEqual(quanta * q + 1e-6);
            free = arrival;
          }
        },
      ),
    );
  });
});
