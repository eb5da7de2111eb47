import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EMPTY_SNAPSHOT, emptyModeTotals, type LiveSnapshot, type ResultRow } from '../app/liveSnapshot';
import type { RunMode } from '../app/settings';
import { LiveFigures } from './LiveBar';
import { summaryRows } from './Summary';

const reason =
  'At ~64 kbit/s split c4 at 4 bits needs ~380 ms (p90), over the 250 ms target; on-device meets it at 93.5% (~120 ms p90).';

const autoRow: ResultRow = {
  ...emptyModeTotals(),
  requests: 5,
  images: 80,
  lastConfig: 'full',
  mode: 'auto',
  config: 'auto',
  imagesPerRequest: 16,
  backend: 'wasm: 1 thread',
  slowdown: 8,
  key: 'auto|auto|16|wasm: 1 thread|8',
  current: true,
};

const live: LiveSnapshot = {
  ...EMPTY_SNAPSHOT,
  version: 7,
  rows: [autoRow],
  auto: { ...emptyModeTotals(), requests: 5, images: 80, medianTotalMs: 120 },
  lastDecision: {
    seq: 5,
    policy: 'auto',
    candidate: 'full',
    reason,
    sloMs: 250,
    predictedP90Ms: 120,
    expectedAccuracy: 0.935,
  },
};

const renderLiveBar = (mode: RunMode): string =>
  renderToString(<LiveFigures live={live} runMode={mode} attach={() => {}} />);

describe('auto in the UI', () => {
  it('the live strip states the current choice and its reason in auto mode, with the auto row', () => {
    const html = renderLiveBar('auto');
    expect(html).toContain('data-testid="auto.reason"');
    expect(html).toContain('data-candidate="full"');
    expect(html).toContain('data-seq="5"');
    expect(html).toContain(reason);
    expect(html).toContain('data-testid="live.auto"');
    expect(html).toContain('class="live-bar has-reason"');
  });

  it('the live strip has no reason in a fixed mode', () => {
    const html = renderLiveBar('split');
    expect(html).not.toContain('auto.reason');
    expect(html).toContain('class="live-bar"');
  });

  it('the summary lists an auto row after the fixed modes only once auto ran', () => {
    expect(summaryRows(live).map((entry) => [entry.mode, entry.row?.config ?? null])).toEqual([
      ['on-device', null],
      ['offload', null],
      ['split', null],
      ['auto', 'auto'],
    ]);
    expect(summaryRows(EMPTY_SNAPSHOT).map((entry) => entry.mode)).toEqual(['on-device', 'offload', 'split']);
  });
});
