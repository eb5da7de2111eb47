import { describe, expect, it } from 'vitest';
import { measured, splitWithExitAnswers, type EvalResult } from './evaluate';

const result: EvalResult = {
  total: 4,
  full: measured(0, 0),
  levels: [],
  earlyExits: [],
  splitWithExit: [],
  webpOffload: [],
  problems: [],
  predictions: {
    'c4-b2': Uint8Array.from([1, 2, 3, 4]),
    'exit-c4': Uint8Array.from([5, 6, 7, 8]),
  },
  margins: {
    'c4-b2': Float32Array.from([0.1, 0.2, 0.3, 0.4]),
    'exit-c4': Float32Array.from([1, 2, 3, 4]),
  },
  exitConfidences: { 'exit-c4': Float32Array.from([0.95, 0.9000001, 0.9, 0.2]) },
};

describe('splitWithExitAnswers', () => {
  it('takes the exit where its confidence reaches the threshold, else the tail', () => {
    // Confidences are float32, compared as stored, as the device compares them: fround(0.9) < 0.9.
    const answers = splitWithExitAnswers(result, 'c4', 2, 0.9);
    expect([...answers.exited]).toEqual([1, 1, 0, 0]);
    expect([...answers.predicted]).toEqual([5, 6, 3, 4]);
    expect([...answers.margins]).toEqual([1, 2, Math.fround(0.3), Math.fround(0.4)]);
    expect(answers.thresholdMargins[2]).toBeLessThan(0);
    expect(answers.thresholdMargins[1]).toBeGreaterThan(0);
  });

  it('refuses a configuration that was not evaluated', () => {
    expect(() => splitWithExitAnswers(result, 'c8', 2, 0.9)).toThrow(/c8 at 2 bits/);
  });
});
