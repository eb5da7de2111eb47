import type { RowMode } from '../app/liveSnapshot';

// The colours live with the charts; re-exported for the components that draw swatches.
export { MODE_COLORS, PHASE_COLORS } from './charts/palette';

export const MODE_LABELS: Record<RowMode, string> = {
  'on-device': 'On-device',
  offload: 'Offload',
  split: 'Split',
  auto: 'Auto',
};

export const PHASE_LABELS = {
  deviceMs: 'device compute',
  encodeMs: 'encode',
  networkMs: 'network',
  serverQueueMs: 'server queue',
  serverComputeMs: 'server compute',
  overheadMs: 'device overhead',
} as const;

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  if (bytes < 1024) return `${Math.round(bytes * 10) / 10} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '–';
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatBps(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  return `${(bps / 1e3).toFixed(0)} kbit/s`;
}
