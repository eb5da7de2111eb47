import { describe, expect, it } from 'vitest';
import {
  ClockOffsetEstimator,
  RingBuffer,
  mean,
  median,
  quantile,
  throttleChargedBytes,
  throttledMessageMs,
} from './stats';

describe('RingBuffer', () => {
  it('keeps the newest items in order and counts every push', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
    expect(ring.totalPushed).toBe(5);
    expect(ring.at(0)).toBe(3);
    expect(ring.last()).toBe(5);
    expect(ring.at(3)).toBeUndefined();
    expect(ring.tail(2)).toEqual([4, 5]);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});

describe('quantiles', () => {
  it('interpolates linearly like numpy', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(values, 1)).toBe(5);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.99)).toBeCloseTo(9.9);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(mean([1, 2, 3])).toBe(2);
  });
});

describe('DevTools throttle model', () => {
  it('charges whole 1500-byte quanta as measured in Chromium', () => {
    expect(throttleChargedBytes(1)).toBe(1500);
    expect(throttleChargedBytes(1490)).toBe(1500);
    expect(throttleChargedBytes(1500)).toBe(3000);
    expect(throttleChargedBytes(2990)).toBe(3000);
    expect(throttleChargedBytes(20_000)).toBe(21_000);
    // The measured figures at 256 kbit/s: ~47 ms for one quantum, ~656 ms for 20 KB.
    expect(throttledMessageMs(1000, 256_000)).toBeCloseTo(46.9, 1);
    expect(throttledMessageMs(20_000, 256_000)).toBeCloseTo(656.25, 1);
  });
});

describe('ClockOffsetEstimator', () => {
  it('keeps the offset of the fastest round trip', () => {
    const clock = new ClockOffsetEstimator();
    expect(clock.get()).toBeNull();
    // True offset 1000 ms; asymmetric slow sample first, symmetric fast one second.
    clock.add(0, 1000 + 40, 50);
    clock.add(100, 1000 + 101, 102);
    expect(clock.get()!.offsetMs).toBeCloseTo(1000, 6);
    expect(clock.get()!.uncertaintyMs).toBe(1);
  });

  it('forgets samples older than its window, so drift cannot build up', () => {
    const clock = new ClockOffsetEstimator(1000);
    clock.add(0, 500 + 1, 2); // fast sample, offset 500
    clock.add(5000, 700 + 5010, 5020); // slower, later: offset 700 (the clock drifted)
    expect(clock.get()!.offsetMs).toBeCloseTo(700, 6);
    clock.reset();
    expect(clock.get()).toBeNull();
  });
});
