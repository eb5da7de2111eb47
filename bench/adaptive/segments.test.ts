import { describe, expect, it } from 'vitest';
import { stepTrace } from '../../src/core/traceGenerator';
import { capacityPerStep, meanCapacityBps } from '../../src/core/uplinkTrace';
import { capacitySummary, chooseSegments, segmentsOverlap } from './segments';

describe('chooseSegments', () => {
  it('spreads segments over a long trace without overlap, in whole seconds', () => {
    const segments = chooseSegments(931_000, 2, 120);
    expect(segments).toEqual([
      { offsetMs: 0, durationMs: 120_000 },
      { offsetMs: 811_000, durationMs: 120_000 },
    ]);
    expect(segmentsOverlap(segments)).toBe(false);
    const three = chooseSegments(300_000, 3, 60);
    expect(three.map((s) => s.offsetMs)).toEqual([0, 120_000, 240_000]);
  });

  it('overlaps on a trace shorter than the segments together, and loops one shorter than a segment', () => {
    const short = chooseSegments(140_000, 2, 120);
    expect(short.map((s) => s.offsetMs)).toEqual([0, 20_000]);
    expect(segmentsOverlap(short)).toBe(true);
    expect(chooseSegments(60_000, 2, 120)).toEqual([{ offsetMs: 0, durationMs: 120_000 }]);
  });

  it('refuses nonsense', () => {
    expect(() => chooseSegments(100_000, 0, 10)).toThrow(RangeError);
    expect(() => chooseSegments(100_000, 1, 0)).toThrow(RangeError);
  });
});

describe('capacitySummary', () => {
  it('summarises 1-s rates and counts outages', () => {
    const trace = stepTrace('t', [
      { kbps: 1200, durationMs: 5000 },
      { kbps: 0, durationMs: 2000 },
      { kbps: 120, durationMs: 3000 },
    ]);
    const summary = capacitySummary(trace);
    expect(summary.seconds).toBe(10);
    // The outage's first second still carries the opportunity due at its very start.
    expect(summary.outageSeconds).toBe(Array.from(capacityPerStep(trace)).filter((bps) => bps === 0).length);
    expect(summary.outageSeconds).toBe(1);
    expect(summary.p90Kbps).toBeCloseTo(1200, 0);
    // The mean of the 1-s rates: the trace's own mean, within its last forced opportunity.
    expect(Math.abs(summary.meanKbps - meanCapacityBps(trace) / 1000)).toBeLessThan(2);
    const window = capacitySummary(trace, 6000, 2000);
    expect(window.outageSeconds).toBe(1);
    expect(window.seconds).toBe(2);
  });
});
