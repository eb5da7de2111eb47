import { describe, expect, it } from 'vitest';
import type { DecisionPoint } from '../../app/liveSnapshot';
import { candidateOrder } from './decisionOrder';

const point = (candidate: string): DecisionPoint => ({
  seq: 1,
  t: 0,
  candidate,
  kind: 'split',
  exploring: false,
  meetsSlo: true,
  uplinkKbps: 64,
  slowdown: 1,
  sloMs: 250,
  totalMs: 100,
  ok: true,
});

describe('candidateOrder', () => {
  it('lists each chosen candidate once: on-device, PNG, WebP, then splits by level and bits', () => {
    const ids = ['c4-b4', 'png', 'c2-b4', 'full', 'c4-b4', 'c8-b2', 'c2-b4-x0.9', 'webp-q50', 'c2-b10'];
    expect(candidateOrder(ids.map(point))).toEqual([
      'full',
      'png',
      'webp-q50',
      'c2-b4',
      'c2-b4-x0.9',
      'c2-b10',
      'c4-b4',
      'c8-b2',
    ]);
  });

  it('is empty without decisions', () => {
    expect(candidateOrder([])).toEqual([]);
  });
});
