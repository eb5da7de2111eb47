import { describe, expect, it } from 'vitest';
import { ImageCursor, imageOrder, mulberry32 } from './sampling';

describe('image order', () => {
  it('is the file order for seed 0 and a repeatable permutation otherwise', () => {
    expect([...imageOrder(5, 0)]).toEqual([0, 1, 2, 3, 4]);
    const a = imageOrder(1000, 42);
    const b = imageOrder(1000, 42);
    expect([...a]).toEqual([...b]);
    expect([...a].sort((x, y) => x - y)).toEqual([...imageOrder(1000, 0)]);
    expect([...imageOrder(1000, 43)]).not.toEqual([...a]);
  });

  it('draws uniform-looking values in [0,1)', () => {
    const random = mulberry32(7);
    const values = Array.from({ length: 10_000 }, random);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const meanValue = values.reduce((s, v) => s + v, 0) / values.length;
    expect(meanValue).toBeGreaterThan(0.48);
    expect(meanValue).toBeLessThan(0.52);
  });
});

describe('ImageCursor', () => {
  it('starts at the start index and wraps around', () => {
    const cursor = new ImageCursor(5, 0, 3);
    expect(cursor.next(4)).toEqual([3, 4, 0, 1]);
    expect(cursor.offset).toBe(2);
    expect(new ImageCursor(5, 0, -1).next(1)).toEqual([4]);
    expect(() => new ImageCursor(0, 0, 0)).toThrow(RangeError);
  });
});
