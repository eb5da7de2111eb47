import type { ImageFormat, Mode } from '../core/record';

/** 'auto': a policy picks the candidate of every request to meet `sloMs` (src/core/policy.ts). */
export type RunMode = Mode | 'compare' | 'auto';

export interface RunSettings {
  mode: RunMode;
  levelId: string;
  bits: number;
  format: ImageFormat;
  /** WebP quality, 1..100. */
  webpQuality: number;
  /** Images per request, 1..64. */
  imagesPerRequest: number;
  /** 'fixed': a steady image rate; 'max': as fast as acks allow with a bounded number in flight. */
  rateKind: 'fixed' | 'max';
  imagesPerSecond: number;
  maxInFlight: number;
  seed: number;
  startIndex: number;
  /** Stop by itself after this many images (0 = run until stopped). */
  stopAfterImages: number;
  /** Emulated device slowdown: the device's model work runs this many times (1 = real speed). */
  slowdown: number;
  /** Split mode's early-exit confidence threshold τ (one of the manifest's), or null for off. */
  exitThreshold: number | null;
  /** Auto mode's latency target for one request, ms. */
  sloMs: number;
}

/** The device-speed control's emulated slowdown factors. */
export const SLOWDOWN_FACTORS = [1, 2, 4, 8, 16, 32] as const;

/**
 * 16 images per request by default: Chromium's throttle charges each WebSocket message whole
 * 1500-byte quanta, so one 28×28 image (PNG ~510 B) and its 49-byte bottleneck cost the same
 * quantum; at 16 per request, PNG takes ~6 quanta and split one, and the throttle shows it.
 */
export const DEFAULT_SETTINGS: RunSettings = {
  mode: 'split',
  levelId: 'c4',
  bits: 2,
  format: 'png',
  webpQuality: 50,
  imagesPerRequest: 16,
  rateKind: 'max',
  imagesPerSecond: 50,
  // One at a time: with more, the next request's device compute overlaps this one's transfer,
  // which is realistic pipelining but makes the device and the socket compete for the page.
  maxInFlight: 1,
  seed: 0,
  startIndex: 0,
  stopAfterImages: 0,
  slowdown: 1,
  exitThreshold: null,
  sloMs: 250,
};

export const LIMITS = {
  imagesPerRequest: [1, 64],
  imagesPerSecond: [1, 500],
  maxInFlight: [1, 16],
  webpQuality: [1, 100],
  bits: [1, 8],
  sloMs: [10, 60_000],
} as const;

export function clampSetting(key: keyof typeof LIMITS, value: number): number {
  const [low, high] = LIMITS[key];
  if (!Number.isFinite(value)) return low;
  return Math.min(high, Math.max(low, Math.round(value)));
}

export function offloadConfigName(format: ImageFormat, webpQuality: number): string {
  return format === 'webp' ? `webp-q${webpQuality}` : format;
}
