import { readFileSync } from 'node:fs';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { CandidateLatency } from '../app/engine';
import type { ModelManifest } from '../core/manifest';
import { manifestAccuracies, PredictionsTable } from './Predictions';

const shipped = JSON.parse(
  readFileSync(new URL('../../public/models/fmnist/manifest.json', import.meta.url), 'utf8'),
) as ModelManifest;

const row = (candidate: string): CandidateLatency => ({
  candidate,
  prediction: { ok: false, candidate, missing: ['uplink estimate'] },
  measured: null,
});

describe('Predictions table', () => {
  it("shows each candidate's measured accuracy, split with exit and WebP included", () => {
    const accuracies = manifestAccuracies(shipped);
    const html = renderToString(
      <PredictionsTable
        rows={['full', 'webp-q50', 'c4-b2', 'c4-b2-x0.9', 'webp-q80'].map(row)}
        current={new Set(['c4-b2-x0.9'])}
        accuracies={accuracies}
      />,
    );
    expect(html).toContain('expected accuracy');
    const cell = (id: string) =>
      new RegExp(`data-testid="predictions\\.accuracy\\.${id.replace(/\./g, '\\.')}"[^>]*>([^<]*)<`).exec(
        html,
      )?.[1];
    const exit = shipped.splitWithExit!.find((e) => e.level === 'c4' && e.bits === 2 && e.threshold === 0.9)!;
    expect(cell('c4-b2-x0.9')).toBe(`${(exit.accuracy * 100).toFixed(2)}%`);
    expect(cell('webp-q50')).toBe(`${(shipped.webpOffload![0]!.accuracy * 100).toFixed(2)}%`);
    expect(cell('full')).toBe(`${(shipped.full.accuracy.accuracy * 100).toFixed(2)}%`);
    // A quality the manifest did not measure has none.
    expect(cell('webp-q80')).toBe('–');
  });

  it('has no figures without a manifest, or with malformed tables', () => {
    expect(manifestAccuracies(null).size).toBe(0);
    const broken = { ...shipped, webpOffload: [{ ...shipped.webpOffload![0]!, accuracy: 2 }] };
    expect(manifestAccuracies(broken).size).toBe(0);
  });
});
