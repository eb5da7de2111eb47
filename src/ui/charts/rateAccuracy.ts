/**
 * The points of the accuracy-against-bytes chart, and its y range: the manifest's configurations,
 * offload's reference sizes, and this session's measured modes. No React here, so the range can be
 * tested on the shipped manifest.
 */
import type { LiveSnapshot } from '../../app/liveSnapshot';
import type { AppState } from '../../app/store';
import { splitConfigId, type ModelManifest } from '../../core/manifest';
import { MODES, type Mode } from '../../core/record';
import { MODE_LABELS } from '../format';
import { fittedAxis, type LinearAxis } from './axes';

export interface RatePoint {
  bytes: number;
  /** Percent. */
  accuracy: number;
  name: string;
}

export interface RateAccuracySeries {
  split: RatePoint[];
  splitLive: RatePoint[];
  offload: RatePoint[];
  measured: (RatePoint & { mode: Mode })[];
  /** Full model accuracy, percent. */
  full: number;
  webp: { bytes: number; quality: number; images: number } | null;
  yAxis: LinearAxis;
}

/** Half a point of margin at least: enough that no dot sits on the plot's edge. */
const MIN_MARGIN_POINTS = 0.5;

export function rateAccuracySeries(
  manifest: ModelManifest,
  selected: { levelId: string; bits: number },
  offloadSizes: AppState['offloadSizes'],
  perMode: LiveSnapshot['perMode'],
): RateAccuracySeries {
  const liveConfig = splitConfigId(selected.levelId, selected.bits);
  const configs = manifest.levels.flatMap((level) =>
    level.bits.map((entry) => ({
      bytes: entry.payloadBytes,
      accuracy: entry.accuracy * 100,
      name: splitConfigId(level.id, entry.bits),
      live: splitConfigId(level.id, entry.bits) === liveConfig,
    })),
  );
  const full = manifest.full.accuracy.accuracy * 100;
  const offload = offloadSizes
    ? [
        { bytes: offloadSizes.png, accuracy: full, name: 'offload PNG (lossless)' },
        { bytes: offloadSizes.raw, accuracy: full, name: 'offload raw' },
      ]
    : [];
  const measured = MODES.filter((mode) => mode !== 'on-device' && perMode[mode].accuracy !== null).map(
    (mode) => ({
      mode,
      bytes: perMode[mode].wireBytesPerImage ?? 0,
      accuracy: (perMode[mode].accuracy ?? 0) * 100,
      name: `${MODE_LABELS[mode]} live (${perMode[mode].lastConfig})`,
    }),
  );
  const strip = ({ bytes, accuracy, name }: (typeof configs)[number]) => ({ bytes, accuracy, name });
  const yAxis = fittedAxis(
    [...configs.map((config) => config.accuracy), full, ...measured.map((point) => point.accuracy)],
    MIN_MARGIN_POINTS,
    100,
  );
  return {
    split: configs.filter((config) => !config.live).map(strip),
    splitLive: configs.filter((config) => config.live).map(strip),
    offload,
    measured,
    full,
    webp: offloadSizes?.webp ?? null,
    yAxis,
  };
}
