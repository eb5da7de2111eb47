import { describe, expect, it } from 'vitest';
import { wasmThreadCount } from './capabilities';

describe('wasmThreadCount', () => {
  it('uses one thread without cross-origin isolation, whatever the cores', () => {
    expect(wasmThreadCount(false, 8)).toBe(1);
  });

  it('leaves half the cores to the page and the browser, at most 4 threads', () => {
    expect([1, 2, 3, 4, 8, 16].map((cores) => wasmThreadCount(true, cores))).toEqual([1, 1, 2, 2, 4, 4]);
  });

  it('treats an unknown core count as one core', () => {
    expect(wasmThreadCount(true, 0)).toBe(1);
  });
});
