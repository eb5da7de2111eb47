/**
 * The uplink estimate as the page writes it: the figure with its interval, or "unknown" with what
 * the probes do bound ("unknown, ≥ 9.2 Mbit/s" on an unthrottled link).
 */
import type { BandwidthEstimate } from '../core/uplinkEstimator';
import { formatBps } from './format';

type UplinkFigures = Pick<BandwidthEstimate, 'uplinkBps' | 'uplinkLowBps' | 'uplinkHighBps'>;

/** "256 kbit/s (250–262 kbit/s)", "unknown (≥ 9.20 Mbit/s)", "unknown (≤ 67 kbit/s)" or "unknown". */
export function uplinkText(estimate: UplinkFigures): string {
  const { uplinkBps, uplinkLowBps, uplinkHighBps } = estimate;
  if (uplinkBps === null) {
    if (uplinkLowBps !== null) return `unknown (≥ ${formatBps(uplinkLowBps)})`;
    if (uplinkHighBps !== null) return `unknown (≤ ${formatBps(uplinkHighBps)})`;
    return 'unknown';
  }
  if (uplinkLowBps === null || uplinkHighBps === null) return formatBps(uplinkBps);
  return `${formatBps(uplinkBps)} (${formatBps(uplinkLowBps)}–${formatBps(uplinkHighBps)})`;
}
