import { memo } from 'react';
import { ROW_MODES, type LiveSnapshot, type ResultRow, type RowMode } from '../app/liveSnapshot';
import { useChartSnapshot } from './charts/useChartSnapshot';
import { MODE_COLORS, MODE_LABELS, formatBytes, formatMs, formatPercent } from './format';
import { uplinkText } from './uplinkText';

/**
 * The summary takes its snapshot from the chart scheduler, in the same round as the charts on
 * screen: its counters and the charts always show the same moment.
 */
export function Summary() {
  const { attach, snapshot } = useChartSnapshot('summary', { offScreenToo: true });
  return <SummaryTable live={snapshot} attach={attach} />;
}

/** What tells rows of one mode apart, shown only when the session has more than one of it. */
export function rowConditionLabel(row: ResultRow, rows: readonly ResultRow[]): string {
  const parts: string[] = [];
  if (new Set(rows.map((candidate) => candidate.backend)).size > 1) parts.push(row.backend);
  if (new Set(rows.map((candidate) => candidate.slowdown)).size > 1)
    parts.push(`${row.slowdown}× slower (emulated)`);
  return parts.join(', ');
}

/**
 * Each mode's current row first (empty while the mode has not run), then its earlier rows; auto's
 * rows only once auto has run.
 */
export function summaryRows(
  live: LiveSnapshot,
): { mode: RowMode; row: ResultRow | null; current: boolean }[] {
  return ROW_MODES.flatMap((mode) => {
    const ofMode = live.rows.filter((row) => row.mode === mode);
    if (mode === 'auto' && ofMode.length === 0) return [];
    const current = ofMode.find((row) => row.current) ?? null;
    return [
      { mode, row: current, current: true },
      ...ofMode.filter((row) => !row.current).map((row) => ({ mode, row, current: false })),
    ];
  });
}

export const SUMMARY_COLUMNS = [
  'Mode',
  'Config',
  'Images',
  'Accuracy',
  'Median total',
  'p95 total',
  'Per image',
  'Wire B / image',
  'Failed',
] as const;

/** A row's cells as the table shows them (the session report shows the same strings). */
export function summaryCells(row: ResultRow | null): string[] {
  return [
    row ? `${row.config} ×${row.imagesPerRequest}` : '–',
    String(row?.images ?? 0),
    formatPercent(row?.accuracy, 2),
    formatMs(row?.medianTotalMs),
    formatMs(row?.p95TotalMs),
    formatMs(row?.medianPerImageMs),
    formatBytes(row?.wireBytesPerImage),
    String(row?.failed ?? 0),
  ];
}

const CELL_TEST_IDS: Partial<Record<number, string>> = {
  1: 'images',
  2: 'accuracy',
  3: 'median',
  6: 'bytes',
  7: 'failed',
};

const CELL_SEPARATOR = '\u0000';

/**
 * One row, redrawn only when one of its strings changes: in a stream of one mode, the other
 * modes' rows and the earlier rows stay as they are.
 */
const SummaryRow = memo(function SummaryRow(props: {
  mode: RowMode;
  current: boolean;
  condition: string;
  backend: string;
  slowdown: number | null;
  config: string;
  imagesPerRequest: number | null;
  /** The cells' texts, joined by CELL_SEPARATOR (a string, so that memo can compare it). */
  cells: string;
}) {
  const { mode, current, condition } = props;
  return (
    <tr
      data-testid={current ? `summary.${mode}` : 'summary.previous'}
      className={current ? undefined : 'previous'}
      data-mode={mode}
      data-backend={props.backend}
      data-slowdown={props.slowdown ?? ''}
      data-config={props.config}
      data-images-per-request={props.imagesPerRequest ?? ''}
    >
      <th scope="row" data-label={SUMMARY_COLUMNS[0]}>
        <span className="swatch" style={{ background: MODE_COLORS[mode] }} />
        {MODE_LABELS[mode]}
        {condition && (
          <span className="condition" data-testid={current ? `summary.${mode}.condition` : undefined}>
            {' '}
            {condition}
          </span>
        )}
      </th>
      {props.cells.split(CELL_SEPARATOR).map((cell, index) => (
        <td
          key={SUMMARY_COLUMNS[index + 1]}
          data-label={SUMMARY_COLUMNS[index + 1]}
          data-testid={
            current && CELL_TEST_IDS[index] ? `summary.${mode}.${CELL_TEST_IDS[index]}` : undefined
          }
        >
          {cell}
        </td>
      ))}
    </tr>
  );
});

const SummaryTable = memo(function SummaryTable({
  live,
  attach,
}: {
  live: LiveSnapshot;
  attach: (element: HTMLElement | null) => void;
}) {
  const { counters, estimate, lastError } = live;
  return (
    <section
      ref={attach}
      className="card summary"
      aria-label="Summary"
      data-testid="summary"
      data-snapshot-version={live.version}
    >
      <div className="table-scroll">
        <table className="results">
          <thead>
            <tr>
              {SUMMARY_COLUMNS.map((column) => (
                <th key={column}>{column}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {summaryRows(live).map(({ mode, row, current }) => (
              <SummaryRow
                key={row?.key ?? mode}
                mode={mode}
                current={current}
                condition={row ? rowConditionLabel(row, live.rows) : ''}
                backend={row?.backend ?? ''}
                slowdown={row?.slowdown ?? null}
                config={row?.config ?? ''}
                imagesPerRequest={row?.imagesPerRequest ?? null}
                cells={summaryCells(row).join(CELL_SEPARATOR)}
              />
            ))}
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
        data-uplink-low-bps={estimate.uplinkLowBps ?? ''}
        data-uplink-high-bps={estimate.uplinkHighBps ?? ''}
        data-uplink-method={estimate.method}
      >
        Uplink ≈ <strong>{uplinkText(estimate)}</strong>, network RTT ≈{' '}
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
