import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyModeTotals } from '../../app/liveSnapshot';
import type { ModelManifest } from '../../core/manifest';
import { rateAccuracySeries } from './rateAccuracy';

const manifest = JSON.parse(readFileSync('public/models/fmnist/manifest.json', 'utf8')) as ModelManifest;
const perMode = { 'on-device': emptyModeTotals(), offload: emptyModeTotals(), split: emptyModeTotals() };

describe('accuracy against bytes', () => {
  it('fits its y range to the shipped configurations with a small margin', () => {
    const series = rateAccuracySeries(manifest, { levelId: 'c4', bits: 2 }, null, perMode);
    const values = [...series.split, ...series.splitLive].map((point) => point.accuracy);
    values.push(series.full);
    const [low, high] = series.yAxis.domain;
    const spread = Math.max(...values) - Math.min(...values);
    expect(low).toBeLessThan(Math.min(...values));
    expect(high).toBeGreaterThan(Math.max(...values));
    // Not a fixed 60-100 range: the margin is a small part of the range itself.
    expect(high - low).toBeLessThan(spread + 4);
    expect(series.splitLive.map((point) => point.name)).toEqual(['c4-b2']);
  });

  it('widens the range to take in this session’s measured point', () => {
    const split = { ...emptyModeTotals(), accuracy: 0.75, wireBytesPerImage: 60, lastConfig: 'c4-b2' };
    const series = rateAccuracySeries(manifest, { levelId: 'c4', bits: 2 }, null, { ...perMode, split });
    expect(series.measured).toEqual([expect.objectContaining({ mode: 'split', accuracy: 75, bytes: 60 })]);
    expect(series.yAxis.domain[0]).toBeLessThan(75);
  });
});
