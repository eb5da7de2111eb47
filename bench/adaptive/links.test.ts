import { describe, expect, it } from 'vitest';
import { throttleModelFor, throttleSchedule } from '../../src/core/cdpThrottle';
import { mulberry32 } from '../../src/core/sampling';
import { markovOnOffTrace } from '../../src/core/traceGenerator';
import { scheduleLink } from './links';

describe('SegmentedThrottleLink', () => {
  it('answers as the throttle model of the schedule does, outages included', () => {
    const trace = markovOnOffTrace('m', {
      seed: 3,
      durationMs: 120_000,
      onKbps: 500,
      spread: 4,
      meanOnMs: 5000,
      meanOffMs: 2000,
      offKbps: 0,
    });
    const schedule = throttleSchedule(trace);
    const random = mulberry32(9);
    for (const shift of [0, 350.5]) {
      const reference = throttleModelFor(schedule.map((step) => ({ ...step, atMs: step.atMs - shift })));
      const link = scheduleLink(schedule, shift)();
      let t = 0;
      while (t < 120_000) {
        const bytes = 1 + Math.floor(random() * 9000);
        const expected = reference.send(t, bytes);
        expect(link.send(t, bytes)).toBe(expected);
        // Sometimes the next message goes while this one is still held.
        t = random() < 0.1 ? t + 1 : Math.max(t, expected) + random() * 300;
      }
    }
  });
});
