import { describe, expect, it } from 'vitest';
import { truthAccuracies, truthFromEval, truthFromJson, truthKey, truthToJson } from './truth';

const manifest = {
  quantization: { minBits: 1, maxBits: 2 },
  levels: [{ id: 'c2' }],
  earlyExits: [{ level: 'c2' }],
} as never;
const answers = {
  labels: Uint8Array.from([1, 2, 3, 4]),
  predictions: {
    full: Uint8Array.from([1, 2, 3, 0]),
    'c2-b1': Uint8Array.from([1, 0, 0, 0]),
    'c2-b2': Uint8Array.from([1, 2, 0, 0]),
    'exit-c2': Uint8Array.from([1, 2, 3, 4]),
  },
  exitConfidences: { 'exit-c2': Float32Array.from([0.9, 0.5, 0.99, 0.1]) },
};

describe('truth', () => {
  it('takes every bit-width, the full model for on-device and PNG, WebP when given, exits by level', () => {
    const truth = truthFromEval(manifest, answers, {
      id: 'webp-q50',
      predicted: Uint8Array.from([1, 2, 0, 0]),
    });
    expect([...truth.predicted.keys()].sort()).toEqual(['c2-b1', 'c2-b2', 'full', 'png', 'webp-q50']);
    expect(truth.exits.get('c2')!.confidence[2]).toBeCloseTo(0.99, 6);
    const accuracies = truthAccuracies(truth);
    expect(accuracies.get('full')).toBe(0.75);
    expect(accuracies.get('c2-b1')).toBe(0.25);
  });

  it('refuses an evaluation that lacks a configuration', () => {
    const { 'c2-b2': _omit, ...rest } = answers.predictions;
    expect(() => truthFromEval(manifest, { ...answers, predictions: rest })).toThrow(/c2-b2/);
  });

  it('round-trips through JSON', () => {
    const truth = truthFromEval(manifest, answers);
    const back = truthFromJson(JSON.parse(JSON.stringify(truthToJson(truth, 'k', {}))));
    expect(Array.from(back.predicted.get('c2-b2')!)).toEqual([1, 2, 0, 0]);
    expect(back.exits.get('c2')!.confidence[1]).toBeCloseTo(0.5, 6);
    expect(back.labels.length).toBe(4);
  });

  it('keys the cache by manifest and recipe', () => {
    expect(truthKey('{"a":1}', 50)).not.toBe(truthKey('{"a":2}', 50));
    expect(truthKey('{"a":1}', 50)).not.toBe(truthKey('{"a":1}', 75));
  });
});
