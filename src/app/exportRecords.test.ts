import { describe, expect, it } from 'vitest';
import { computePhases, type InferenceRecord } from '../core/record';
import { recordsToCsv, recordsToJson, type ExportEnvironment } from './exportRecords';

const environment: ExportEnvironment = {
  backend: 'webgpu: google swiftshader',
  adapter: 'google swiftshader',
  userAgent: 'Test, "quoted"',
  crossOriginIsolated: true,
  bundleId: 'fmnist',
  bundleCommit: 'abc',
  exportedAt: '2026-11-26T00:00:00Z',
};

const record: InferenceRecord = {
  seq: 1,
  requestId: 7,
  mode: 'split',
  config: 'c4-b2',
  backend: 'webgpu',
  startedAt: 0,
  epochMs: 1_700_000_000_000,
  images: [
    { index: 0, label: 9, predicted: 9, confidence: 0.99 },
    { index: 1, label: 2, predicted: 4, confidence: 0.6 },
  ],
  payloadBytes: 98,
  wireBytes: 107,
  phases: computePhases(
    { start: 0, computeEnd: 5, encodeEnd: 5.1, sent: 5.2, end: 20 },
    { queuedMs: 1, decodeMs: 0.1, computeMs: 2, totalMs: 3.5 },
  ),
  serverBatch: 2,
  ok: true,
};

describe('exports', () => {
  it('writes one CSV row per image with the request figures and the environment', () => {
    const csv = recordsToCsv([record], { mode: 'split', seed: 3 }, environment).trim().split('\n');
    expect(csv[0]).toContain('"seed":3');
    expect(csv[1]).toContain('webgpu: google swiftshader');
    expect(csv).toHaveLength(4 + 2);
    const header = csv[3]!.split(',');
    const row = csv[5]!.split(',');
    expect(row[header.indexOf('image_index')]).toBe('1');
    expect(row[header.indexOf('correct')]).toBe('false');
    expect(row[header.indexOf('wire_bytes')]).toBe('107');
    expect(row[header.indexOf('total_ms')]).toBe('20.000');
  });

  it('labels the emulated slowdown, marks early exits and carries the prediction', () => {
    const slowed: InferenceRecord = {
      ...record,
      config: 'c4-b2-x0.9',
      slowdown: 8,
      images: [{ ...record.images[0]!, earlyExit: true }, record.images[1]!],
      prediction: { candidate: 'c4-b2-x0.9', medianMs: 12.5, p90Ms: 20 },
    };
    const csv = recordsToCsv([slowed, record], {}, environment).trim().split('\n');
    const header = csv[3]!.split(',');
    const cell = (line: number, column: string) => csv[line]!.split(',')[header.indexOf(column)];
    expect(cell(4, 'device_slowdown_emulated')).toBe('8');
    expect(cell(4, 'early_exit')).toBe('true');
    expect(cell(5, 'early_exit')).toBe('false');
    expect(cell(4, 'predicted_median_ms')).toBe('12.500');
    // A record from before the slowdown existed ran at the device's real speed.
    expect(cell(6, 'device_slowdown_emulated')).toBe('1');
    expect(cell(6, 'predicted_median_ms')).toBe('');
  });

  it('keeps settings, environment and records in JSON', () => {
    const parsed = JSON.parse(recordsToJson([record], { mode: 'split' }, environment));
    expect(parsed.environment.userAgent).toBe('Test, "quoted"');
    expect(parsed.settings.mode).toBe('split');
    expect(parsed.records[0].images).toHaveLength(2);
  });

  it('carries the decision: policy, candidate, reason (quoted) and the target', () => {
    const decided: InferenceRecord = {
      ...record,
      config: 'c2-b2',
      decision: {
        policy: 'auto',
        candidate: 'c2-b2',
        reason:
          'At ~64 kbit/s PNG offload needs ~1100 ms (p90), over the 250 ms target; split c2 at 2 bits meets it.',
        sloMs: 250,
        predicted: { medianMs: 190, p90Ms: 220 },
        expectedAccuracy: 0.9337,
        meetsSlo: true,
        exploring: false,
        uplinkBps: 64_000,
        candidates: [{ id: 'png', medianMs: 900, p90Ms: 1100, expectedAccuracy: 0.935 }],
      },
    };
    const csv = recordsToCsv([decided, record], {}, environment).trim().split('\n');
    const header = csv[3]!.split(',');
    expect(header.slice(-4)).toEqual(['decision_policy', 'decision_candidate', 'decision_reason', 'slo_ms']);
    // The reason has commas: quoted, so the row still splits into the header's columns at the end.
    const row = csv[4]!;
    expect(row).toContain(
      '"At ~64 kbit/s PNG offload needs ~1100 ms (p90), over the 250 ms target; split c2 at 2 bits meets it."',
    );
    expect(
      row.endsWith(
        ',auto,c2-b2,"At ~64 kbit/s PNG offload needs ~1100 ms (p90), over the 250 ms target; split c2 at 2 bits meets it.",250',
      ),
    ).toBe(true);
    expect(csv[6]!.endsWith(',,,,')).toBe(true);
    const parsed = JSON.parse(recordsToJson([decided], {}, environment));
    expect(parsed.records[0].decision.candidates[0]).toEqual({
      id: 'png',
      medianMs: 900,
      p90Ms: 1100,
      expectedAccuracy: 0.935,
    });
  });
});
