import { describe, expect, it } from 'vitest';
import { decimalsFor, extentTicks, fittedAxis, linearAxis, logAxis, niceStep, timeAxis } from './axes';

describe('axis ticks', () => {
  it('picks round steps', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(7, 4)).toBe(2);
    expect(niceStep(0.9, 4)).toBe(0.25);
    expect(niceStep(180, 4)).toBe(50);
    expect(niceStep(0, 4)).toBe(1);
  });

  it('rounds a linear domain out to whole steps and ticks every step', () => {
    expect(linearAxis(3, 97, 4, true)).toEqual({ domain: [0, 100], ticks: [0, 25, 50, 75, 100] });
    expect(linearAxis(12.5, 13.1, 4)).toEqual({
      domain: [12.4, 13.2],
      ticks: [12.4, 12.6, 12.8, 13, 13.2],
    });
    expect(linearAxis(5, 5, 4, true).domain).toEqual([0, 6]);
    expect(linearAxis(NaN, 1)).toEqual({ domain: [0, 1], ticks: [0, 1] });
  });

  it('ticks a data extent with round values inside it', () => {
    expect(extentTicks(0.4, 9.7, 5)).toEqual([2, 4, 6, 8]);
    expect(extentTicks(101, 220, 5)).toEqual([125, 150, 175, 200]);
    expect(extentTicks(3, 3)).toEqual([3]);
    // Whole seconds only: a 1.5 s window does not get ticks at 8, 8.25, 8.5…
    expect(extentTicks(7.6, 9.1)).toEqual([8, 9]);
    expect(extentTicks(0.1, 0.9, 4, 0.1)).toEqual([0.2, 0.4, 0.6, 0.8]);
  });

  it('covers a log range with powers of ten', () => {
    expect(logAxis(9, 1500)).toEqual({ domain: [1, 10000], ticks: [1, 10, 100, 1000, 10000] });
    expect(logAxis(49, 49)).toEqual({ domain: [10, 100], ticks: [10, 100] });
  });

  it('labels time ticks distinctly at every zoom, never "0 0 0 0"', () => {
    expect(decimalsFor(0.25)).toBe(2);
    expect(decimalsFor(5)).toBe(0);
    expect(decimalsFor(0.1)).toBe(1);
    const spans = [0.02, 0.05, 0.1, 0.3, 0.9, 1.7, 4, 12, 75, 600, 3600];
    for (const start of [0, 0.137, 3.3, 118.6])
      for (const span of spans) {
        const axis = timeAxis(start, start + span);
        const labels = axis.ticks.map(axis.format);
        const where = `${start}+${span}: ${labels.join(' ')}`;
        expect(axis.ticks.length, where).toBeGreaterThanOrEqual(2);
        expect(axis.ticks.length, where).toBeLessThanOrEqual(7);
        expect(new Set(labels).size, where).toBe(labels.length);
        for (const tick of axis.ticks) {
          expect(tick, where).toBeGreaterThanOrEqual(axis.domain[0]);
          expect(tick, where).toBeLessThanOrEqual(axis.domain[1]);
        }
      }
    const short = timeAxis(0.1, 0.9);
    expect(short.ticks.map(short.format)).toEqual(['0.2', '0.4', '0.6', '0.8']);
    // A single point still gets an axis with ticks.
    expect(timeAxis(0.4, 0.4).ticks.length).toBeGreaterThanOrEqual(2);
  });

  it('fits a value axis to the data with a margin, never past the ceiling', () => {
    const accuracies = [91.7, 92.4, 93.1, 94.5];
    const axis = fittedAxis(accuracies, 0.5, 100);
    expect(axis.domain[0]).toBeLessThan(91.7);
    expect(axis.domain[0]).toBeGreaterThanOrEqual(90);
    expect(axis.domain[1]).toBeGreaterThan(94.5);
    expect(axis.domain[1]).toBeLessThanOrEqual(96);
    expect(fittedAxis([99.4, 99.9], 0.5, 100).domain[1]).toBe(100);
    expect(fittedAxis([99.4, 99.9], 0.5, 100).ticks.at(-1)).toBe(100);
  });
});
