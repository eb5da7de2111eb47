import { memo } from 'react';
import type { LiveSnapshot } from '../app/liveSnapshot';
import { useAppStore } from '../app/store';
import { MODES } from '../core/record';
import { MODE_COLORS, MODE_LABELS, formatBps, formatBytes, formatMs, formatPercent } from './format';
import { useThrottled } from './useThrottled';

/**
 * The table's numbers change with every live snapshot (up to 14 a second), faster than anyone
 * reads them; each change re-renders and repaints the table on the main thread, which competes with
 * the charts. Four times a second is plenty to read.
 */
const SUMMARY_INTERVAL_MS = 250;

export function Summary() {
  const live = useThrottled(
    useAppStore((state) => state.live),
    SUMMARY_INTERVAL_MS,
  );
  return <SummaryTable live={live} />;
}

const SummaryTable = memo(function SummaryTable({ live }: { live: LiveSnapshot }) {
  const { perMode, counters, estimate, lastError } = live;
  return (
    <section className="card summary" aria-label="Summary">
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th>Mode</th>
              <th>Config</th>
              <th>Images</th>
              <th>Accuracy</th>
              <th>Median total</th>
              <th>p95 total</th>
              <th>Per image</th>
              <th>Wire B / image</th>
              <th>Failed</th>
            </tr>
          </thead>
          <tbody>
            {MODES.map((mode) => {
              const totals = perMode[mode];
              return (
                <tr key={mode} data-testid={`summary.${mode}`}>
                  <td>
                    <span className="swatch" style={{ background: MODE_COLORS[mode] }} />
                    {MODE_LABELS[mode]}
                  </td>
                  <td>{totals.lastConfig ?? '–'}</td>
                  <td data-testid={`summary.${mode}.images`}>{totals.images}</td>
                  <td data-testid={`summary.${mode}.accuracy`}>{formatPercent(totals.accuracy, 2)}</td>
                  <td>{formatMs(totals.medianTotalMs)}</td>
                  <td>{formatMs(totals.p95TotalMs)}</td>
                  <td>{formatMs(totals.medianPerImageMs)}</td>
                  <td data-testid={`summary.${mode}.bytes`}>{formatBytes(totals.wireBytesPerImage)}</td>
                  <td>{totals.failed}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted" data-testid="summary.counters">
        Sent {counters.sent} · answered {counters.answered} · failed {counters.failed}
        {Object.entries(counters.failedByReason).length > 0 &&
          ` (${Object.entries(counters.failedByReason)
            .map(([reason, count]) => `${reason} ${count}`)
            .join(', ')})`}{' '}
        · on-device {counters.local}
      </p>
      <p
        data-testid="summary.estimate"
        data-uplink-bps={estimate.uplinkBps ?? ''}
        data-rtt-ms={estimate.rttMs ?? ''}
      >
        Uplink ≈ <strong>{formatBps(estimate.uplinkBps)}</strong>, network RTT ≈{' '}
        <strong>{formatMs(estimate.rttMs)}</strong>
        <span className="muted">
          {' '}
          ({estimate.samples} samples
          {estimate.clockUncertaintyMs !== null ? `, clock ±${formatMs(estimate.clockUncertaintyMs)}` : ''})
        </span>
      </p>
      {lastError && (
        <p className="warning" data-testid="summary.last-error">
          Last error: {lastError}
        </p>
      )}
    </section>
  );
});
