/**
 * The live figures in a strip that stays at the top of the screen while the page scrolls: on a
 * phone the controls, the table and the charts do not fit one screen, and a stream is watched, not
 * scrolled to. It draws in the same scheduler round as the summary and the charts.
 */
import { memo } from 'react';
import type { LiveSnapshot, ModeTotals, RowMode } from '../app/liveSnapshot';
import type { RunMode } from '../app/settings';
import { useAppStore } from '../app/store';
import { MODES } from '../core/record';
import { useChartSnapshot } from './charts/useChartSnapshot';
import { MODE_COLORS, MODE_LABELS, formatBytes, formatMs, formatPercent } from './format';
import { uplinkText } from './uplinkText';

export function LiveBar() {
  // Off screen too: on a desktop the strip is hidden until auto has a reason to show, and a hidden
  // strip that waited to be seen before taking snapshots never got one (the reason never showed).
  const { attach, snapshot } = useChartSnapshot('live-bar', { offScreenToo: true });
  const runMode = useAppStore((state) => state.settings.mode);
  return <LiveFigures live={snapshot} runMode={runMode} attach={attach} />;
}

function shownRows(live: LiveSnapshot, runMode: RunMode): { mode: RowMode; totals: ModeTotals }[] {
  const rows: { mode: RowMode; totals: ModeTotals }[] = MODES.filter(
    (mode) => runMode === 'compare' || mode === runMode || live.perMode[mode].requests > 0,
  ).map((mode) => ({ mode, totals: live.perMode[mode] }));
  if (runMode === 'auto' || live.auto.requests > 0) rows.push({ mode: 'auto', totals: live.auto });
  return rows;
}

/** The strip itself, from a snapshot and the run mode (exported for tests). */
export const LiveFigures = memo(function LiveFigures({
  live,
  runMode,
  attach,
}: {
  live: LiveSnapshot;
  runMode: RunMode;
  attach: (element: HTMLElement | null) => void;
}) {
  const { counters, estimate, lastDecision } = live;
  const reason = runMode === 'auto' ? lastDecision : null;
  return (
    <section
      ref={attach}
      className={reason ? 'live-bar has-reason' : 'live-bar'}
      aria-label="Live figures"
      data-testid="live"
      data-snapshot-version={live.version}
    >
      <ul className="live-grid">
        <li className="live-head" aria-hidden="true">
          <span />
          <span>median</span>
          <span>accuracy</span>
          <span>wire/img</span>
          <span>failed</span>
        </li>
        {shownRows(live, runMode).map(({ mode, totals }) => {
          return (
            <li key={mode} data-testid={`live.${mode}`}>
              <span className="live-mode">
                <span className="swatch" style={{ background: MODE_COLORS[mode] }} />
                {MODE_LABELS[mode]}
              </span>
              <b data-testid={`live.${mode}.median`}>{formatMs(totals.medianTotalMs)}</b>
              <b data-testid={`live.${mode}.accuracy`}>{formatPercent(totals.accuracy, 2)}</b>
              <b data-testid={`live.${mode}.bytes`}>{formatBytes(totals.wireBytesPerImage)}</b>
              <b data-testid={`live.${mode}.failed`}>{totals.failed}</b>
            </li>
          );
        })}
      </ul>
      <p data-testid="live.counters">
        Sent <b>{counters.sent}</b> · answered <b>{counters.answered}</b> · failed <b>{counters.failed}</b>
        {counters.local > 0 && <> · on-device {counters.local}</>}
      </p>
      <p data-testid="live.uplink">
        Uplink ≈ <b>{uplinkText(estimate)}</b> · RTT <b>{formatMs(estimate.rttMs)}</b>
      </p>
      {reason && (
        <p
          className="auto-reason"
          data-testid="auto.reason"
          data-candidate={reason.candidate}
          data-seq={reason.seq}
        >
          <b>Auto → {reason.candidate}:</b> {reason.reason}
        </p>
      )}
    </section>
  );
});
