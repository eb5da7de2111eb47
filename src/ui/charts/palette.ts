/** Every colour the charts (and the summary's swatches) draw with, in one place. */
import type { RowMode } from '../../app/liveSnapshot';

export const MODE_COLORS: Record<RowMode, string> = {
  'on-device': '#0e9f6e',
  offload: '#d97706',
  split: '#4f46e5',
  auto: '#db2777',
};

/** The decision timeline's chosen-candidate step line and the device slowdown next to it. */
export const DECISION_COLOR = '#db2777';
export const SLOWDOWN_COLOR = '#7c3aed';

export const PHASE_COLORS = {
  deviceMs: '#4f46e5',
  encodeMs: '#a855f7',
  networkMs: '#f59e0b',
  uplinkMs: '#f59e0b',
  downlinkMs: '#fcd34d',
  unsplitNetworkMs: '#fb923c',
  serverQueueMs: '#64748b',
  serverComputeMs: '#0ea5e9',
  overheadMs: '#cbd5e1',
} as const;

export const UPLINK_COLOR = '#0f766e';
export const RTT_COLOR = '#be123c';
/** Dashed reference levels (the manifest's accuracies). */
export const REFERENCE_COLOR = '#475569';
export const FULL_MODEL_COLOR = '#0e9f6e';
export const WEBP_REFERENCE_COLOR = '#d97706';
export const SPLIT_CONFIG_COLOR = '#94a3b8';
export const SELECTED_CONFIG_COLOR = '#4f46e5';
export const OFFLOAD_FILL = '#fde68a';
export const TICK_COLOR = '#64748b';
