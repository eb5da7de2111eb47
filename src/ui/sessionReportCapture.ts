/**
 * What the "Session report" button does: takes the feed's snapshot of this moment, draws it into
 * every chart and the summary (on screen or not), reads each chart's SVG back from the page, and
 * writes the report around them together with the records of that same moment.
 */
import type { Engine } from '../app/engine';
import { recordsToCsv, recordsToJson, type ExportEnvironment } from '../app/exportRecords';
import { buildSessionReport, type ReportChart } from '../app/sessionReport';
import { useAppStore, type AppState } from '../app/store';
import { chartScheduler } from './charts/useChartSnapshot';
import { MODE_LABELS, formatBps, formatMs } from './format';
import { SUMMARY_COLUMNS, rowConditionLabel, summaryCells, summaryRows } from './Summary';

export function exportEnvironment(state: AppState, exportedAt = new Date().toISOString()): ExportEnvironment {
  const capabilities = state.capabilities;
  return {
    backend: state.backend?.label ?? 'none',
    adapter: !capabilities
      ? 'unknown'
      : capabilities.webgpu.available
        ? `${capabilities.webgpu.adapter.vendor} ${capabilities.webgpu.adapter.architecture}`
        : `none (${capabilities.webgpu.reason})`,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    bundleId: state.manifest?.bundleId ?? '',
    bundleCommit: state.manifest?.training.commit ?? '',
    exportedAt,
  };
}

/** Each chart card on the page, as drawn now: title, note, legend and SVG. */
function captureCharts(root: ParentNode): ReportChart[] {
  const charts: ReportChart[] = [];
  for (const card of root.querySelectorAll<HTMLElement>('section.card.chart[data-testid^="charts."]')) {
    const svg = card.querySelector<SVGSVGElement>('svg.recharts-surface');
    if (!svg) continue;
    const box = svg.getBoundingClientRect();
    const clone = svg.cloneNode(true) as SVGSVGElement;
    clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    clone.setAttribute('width', String(Math.round(box.width)));
    clone.setAttribute('height', String(Math.round(box.height)));
    // The page's font, so the labels measure in the image as they did on the page.
    clone.setAttribute('font-family', getComputedStyle(card).fontFamily);
    charts.push({
      id: card.dataset.testid ?? '',
      title: card.querySelector('h3')?.textContent ?? '',
      note: card.querySelector('p.muted')?.textContent ?? undefined,
      legend: [...card.querySelectorAll<HTMLElement>('.chart-legend li')].map((item) => {
        const swatch = item.querySelector<HTMLElement>('.swatch');
        const dashed = swatch?.classList.contains('dashed') === true;
        const style = swatch ? getComputedStyle(swatch) : null;
        const ring = swatch?.classList.contains('ring') === true;
        return {
          label: item.textContent ?? '',
          color: (dashed || ring ? style?.borderTopColor : style?.backgroundColor) ?? '#000',
          dashed,
        };
      }),
      svg: new XMLSerializer().serializeToString(clone),
      width: box.width,
      height: box.height,
    });
  }
  return charts;
}

export function writeSessionReport(
  engine: Engine,
  root: ParentNode = document,
): { name: string; html: string } {
  const state = useAppStore.getState();
  // The feed's figures of this very moment, drawn into every chart and the table at once, and
  // the records of the same moment: what the report shows is what the page shows now.
  const snapshot = engine.feed.snapshot();
  chartScheduler.offer(snapshot);
  chartScheduler.flushAll();
  const records = engine.feed.records.toArray();
  const environment = exportEnvironment(state);
  const slowdowns = [...new Set(records.map((record) => record.slowdown ?? 1))].sort((a, b) => a - b);
  const rows = summaryRows(snapshot).map(({ mode, row, current }) => {
    const condition = row ? rowConditionLabel(row, snapshot.rows) : '';
    return {
      mode,
      current,
      cells: [`${MODE_LABELS[mode]}${condition ? ` ${condition}` : ''}`, ...summaryCells(row)],
    };
  });
  const { counters, estimate } = snapshot;
  const html = buildSessionReport({
    settings: { ...state.settings },
    environment: {
      backend: environment.backend,
      adapter: environment.adapter,
      slowdowns,
      userAgent: environment.userAgent,
      crossOriginIsolated: environment.crossOriginIsolated,
      bundleId: environment.bundleId,
      bundleCommit: environment.bundleCommit,
      createdAt: environment.exportedAt,
    },
    snapshotVersion: snapshot.version,
    summary: { columns: SUMMARY_COLUMNS, rows },
    summaryNotes: [
      `Sent ${counters.sent} · answered ${counters.answered} · failed ${counters.failed} · on-device ${counters.local}`,
      `Uplink ≈ ${formatBps(estimate.uplinkBps)}, network RTT ≈ ${formatMs(estimate.rttMs)} (${estimate.samples} samples)`,
    ],
    charts: captureCharts(root),
    recordsJson: recordsToJson(records, state.settings, environment),
    recordsCsv: recordsToCsv(records, state.settings, environment),
    recordCount: records.length,
  });
  return { name: `splitscope-report-${environment.exportedAt.replaceAll(':', '-')}.html`, html };
}
