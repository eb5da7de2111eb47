import { describe, expect, it } from 'vitest';
import {
  ManifestError,
  measuredConfigProblems,
  validateMeasuredConfigs,
  type ModelManifest,
  type SplitWithExitEntry,
  type WebpOffloadEntry,
} from './manifest';

const base = {
  levels: [{ id: 'c4' }, { id: 'c2' }],
  earlyExits: [{ level: 'c4', thresholds: [{ threshold: 0.9 }, { threshold: 0.99 }] }],
  quantization: { minBits: 1, maxBits: 8 },
} as unknown as ModelManifest;

const exitEntry: SplitWithExitEntry = {
  level: 'c4',
  bits: 2,
  threshold: 0.9,
  correct: 9320,
  total: 10000,
  accuracy: 0.932,
  exited: 6849,
  coverage: 0.6849,
};
const webpEntry: WebpOffloadEntry = {
  quality: 50,
  correct: 9330,
  total: 10000,
  accuracy: 0.933,
  bytesPerImage: 235.9,
  encoder: 'libwebp at Chromium settings',
};

const problemsOf = (extra: Record<string, unknown>) =>
  measuredConfigProblems({ ...base, ...extra } as ModelManifest);

describe('measured configuration tables', () => {
  it('accepts sound tables, and a manifest without them', () => {
    expect(problemsOf({})).toEqual([]);
    expect(problemsOf({ splitWithExit: [exitEntry], webpOffload: [webpEntry] })).toEqual([]);
    expect(() => validateMeasuredConfigs({ ...base, splitWithExit: [exitEntry] })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['not an array', { splitWithExit: { c4: 1 } }, /splitWithExit: must be an array/],
    ['an entry that is not an object', { splitWithExit: [null] }, /splitWithExit\[0\]: must be an object/],
    [
      'a level without an exit',
      { splitWithExit: [{ ...exitEntry, level: 'c2' }] },
      /level c2 has no early exit/,
    ],
    ['an unknown level', { splitWithExit: [{ ...exitEntry, level: 'c9' }] }, /level c9 has no early exit/],
    [
      'bits out of range',
      { splitWithExit: [{ ...exitEntry, bits: 9 }] },
      /bits must be an integer in 1\.\.8/,
    ],
    ['fractional bits', { splitWithExit: [{ ...exitEntry, bits: 2.5 }] }, /bits must be an integer/],
    [
      'a threshold not in the exit table',
      { splitWithExit: [{ ...exitEntry, threshold: 0.8 }] },
      /threshold 0\.8 is not in exit-c4/,
    ],
    [
      'correct above total',
      { splitWithExit: [{ ...exitEntry, correct: 10001, accuracy: 1 }] },
      /correct must be an integer in 0\.\.total/,
    ],
    ['a zero total', { splitWithExit: [{ ...exitEntry, total: 0 }] }, /total must be a positive integer/],
    [
      'accuracy that is not correct / total',
      { splitWithExit: [{ ...exitEntry, accuracy: 0.95 }] },
      /accuracy must equal correct \/ total/,
    ],
    [
      'accuracy as a percentage',
      { splitWithExit: [{ ...exitEntry, accuracy: 93.2 }] },
      /accuracy must equal/,
    ],
    [
      'exited above total',
      { splitWithExit: [{ ...exitEntry, exited: 10001, coverage: 1 }] },
      /exited must be an integer/,
    ],
    [
      'coverage that is not exited / total',
      { splitWithExit: [{ ...exitEntry, coverage: 0.7 }] },
      /coverage must equal exited \/ total/,
    ],
    ['a missing coverage', { splitWithExit: [{ ...exitEntry, coverage: undefined }] }, /coverage must equal/],
    [
      'a repeated configuration',
      { splitWithExit: [exitEntry, { ...exitEntry }] },
      /splitWithExit\[1\]: c4-b2-x0\.9 appears twice/,
    ],
    ['webp not an array', { webpOffload: 'q50' }, /webpOffload: must be an array/],
    [
      'a webp quality out of range',
      { webpOffload: [{ ...webpEntry, quality: 0 }] },
      /quality must be an integer in 1\.\.100/,
    ],
    [
      'a webp accuracy that is not correct / total',
      { webpOffload: [{ ...webpEntry, correct: 9000 }] },
      /webpOffload\[0\]: accuracy must equal/,
    ],
    [
      'webp without bytes per image',
      { webpOffload: [{ ...webpEntry, bytesPerImage: 0 }] },
      /bytesPerImage must be a positive number/,
    ],
    ['webp without its encoder', { webpOffload: [{ ...webpEntry, encoder: ' ' }] }, /encoder must say/],
    ['a repeated webp quality', { webpOffload: [webpEntry, webpEntry] }, /quality 50 appears twice/],
  ])('rejects %s', (_what, extra, message) => {
    const problems = problemsOf(extra);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(() => validateMeasuredConfigs({ ...base, ...extra } as ModelManifest, 'm.json')).toThrow(
      ManifestError,
    );
    expect(() => validateMeasuredConfigs({ ...base, ...extra } as ModelManifest, 'm.json')).toThrow(
      /^m\.json: /,
    );
  });

  it('names every defect, one per entry', () => {
    const problems = problemsOf({
      splitWithExit: [{ ...exitEntry, bits: 0 }, exitEntry, { ...exitEntry, threshold: 0.5 }],
      webpOffload: [{ ...webpEntry, quality: 101 }],
    });
    expect(problems).toEqual([
      'splitWithExit[0]: bits must be an integer in 1..8',
      "splitWithExit[2]: threshold 0.5 is not in exit-c4's table",
      'webpOffload[0]: quality must be an integer in 1..100',
    ]);
  });
});
