import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlowdownPacer } from './slowdownPacer';

describe('SlowdownPacer', () => {
  it('targets k times the median of the recent single runs at that batch size', () => {
    const pacer = new SlowdownPacer(5);
    for (const ms of [10, 11, 9, 10, 12]) pacer.note(16, ms);
    expect(pacer.targetMs(16, 8)).toBe(80);
    expect(pacer.targetMs(1, 8)).toBe(0);
  });

  it('does not multiply one stalled run by k', () => {
    const pacer = new SlowdownPacer(9);
    for (let i = 0; i < 8; i++) pacer.note(16, 10);
    pacer.note(16, 40);
    expect(pacer.targetMs(16, 8)).toBe(80);
  });

  it('follows a lasting change of speed within half its window', () => {
    const pacer = new SlowdownPacer(9);
    for (let i = 0; i < 9; i++) pacer.note(16, 10);
    for (let i = 0; i < 5; i++) pacer.note(16, 30);
    expect(pacer.targetMs(16, 2)).toBe(60);
  });

  it('keeps batch sizes apart and ignores values that are not times', () => {
    const pacer = new SlowdownPacer();
    pacer.note(1, 2);
    pacer.note(16, 20);
    pacer.note(16, Number.NaN);
    pacer.note(16, -1);
    expect(pacer.targetMs(1, 4)).toBe(8);
    expect(pacer.targetMs(16, 4)).toBe(80);
  });

  it('targets between k times the smallest and the largest recent run', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 32 }),
        (runs, k) => {
          const pacer = new SlowdownPacer(9);
          for (const ms of runs) pacer.note(16, ms);
          const kept = runs.slice(-9);
          const target = pacer.targetMs(16, k);
          expect(target).toBeGreaterThanOrEqual(k * Math.min(...kept) - 1e-9);
          expect(target).toBeLessThanOrEqual(k * Math.max(...kept) + 1e-9);
        },
      ),
    );
  });
});
