import { describe, expect, it } from 'vitest';
import { extentTicks, linearAxis, logAxis, niceStep } from './axisTicks';

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
});
