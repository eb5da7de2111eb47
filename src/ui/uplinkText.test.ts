import { describe, expect, it } from 'vitest';
import { uplinkText } from './uplinkText';

describe('uplinkText', () => {
  it('writes the figure with its interval', () => {
    expect(uplinkText({ uplinkBps: 256_000, uplinkLowBps: 250_000, uplinkHighBps: 262_000 })).toBe(
      '256 kbit/s (250 kbit/s–262 kbit/s)',
    );
  });

  it('says unknown, with what is bounded, when there is no figure', () => {
    expect(uplinkText({ uplinkBps: null, uplinkLowBps: 9_200_000, uplinkHighBps: null })).toBe(
      'unknown (≥ 9.20 Mbit/s)',
    );
    expect(uplinkText({ uplinkBps: null, uplinkLowBps: null, uplinkHighBps: 67_000 })).toBe(
      'unknown (≤ 67 kbit/s)',
    );
    expect(uplinkText({ uplinkBps: null, uplinkLowBps: null, uplinkHighBps: null })).toBe('unknown');
  });
});
