/**
 * The session report: one self-contained HTML file with what a paper's figure section shows for
 * this run. Settings, environment, the summary table, every chart as an image (SVG captured from
 * the page after every chart was redrawn with the same snapshot), and the records as JSON and CSV.
 * Nothing in it is fetched: the images are data URLs and the records sit in the file itself, so it
 * opens offline. No DOM here: the page captures, this only writes.
 */

export interface ReportEnvironment {
  backend: string;
  adapter: string;
  /** Emulated device slowdown factors of the records (1: the device's own speed). */
  slowdowns: number[];
  userAgent: string;
  crossOriginIsolated: boolean;
  bundleId: string;
  bundleCommit: string;
  createdAt: string;
}

export interface ReportTable {
  columns: readonly string[];
  rows: { cells: readonly string[]; current: boolean; mode: string }[];
}

export interface ReportChart {
  /** The chart's data-testid on the page. */
  id: string;
  title: string;
  note?: string;
  legend: { label: string; color: string; dashed?: boolean }[];
  /** The chart's SVG markup as drawn on the page. */
  svg: string;
  width: number;
  height: number;
}

export interface SessionReportInput {
  settings: Record<string, unknown>;
  environment: ReportEnvironment;
  /** The live snapshot every figure in the report was drawn from. */
  snapshotVersion: number;
  summary: ReportTable;
  /** Lines under the table: counters, the uplink estimate. */
  summaryNotes: string[];
  charts: ReportChart[];
  /** The JSON export of the session's records (what Export JSON writes). */
  recordsJson: string;
  /** The CSV export (what Export CSV writes). */
  recordsCsv: string;
  recordCount: number;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

/** JSON that is safe inside a <script> element: no "</script>", no "<!--". */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function svgDataUrl(svg: string): string {
  const withNamespace = svg.includes('xmlns="http://www.w3.org/2000/svg"')
    ? svg
    : svg.replace(/^<svg\b/, '<svg xmlns="http://www.w3.org/2000/svg"');
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(withNamespace)}`;
}

function settingValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function definitionList(entries: [string, string][], testId: string): string {
  return `<dl data-testid="${testId}">${entries
    .map(
      ([key, value]) =>
        `<dt>${escapeHtml(key)}</dt><dd data-key="${escapeHtml(key)}">${escapeHtml(value)}</dd>`,
    )
    .join('')}</dl>`;
}

function summaryTable(table: ReportTable): string {
  const head = table.columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr data-mode="${escapeHtml(row.mode)}"${row.current ? ' data-current="true"' : ''}>${row.cells
          .map((cell) => `<td>${escapeHtml(cell)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table data-testid="report.summary"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function chartFigure(chart: ReportChart, index: number): string {
  const legend = chart.legend
    .map(
      (item) =>
        `<li><span class="swatch${item.dashed ? ' dashed' : ''}" style="${
          item.dashed ? `border-color:${escapeHtml(item.color)}` : `background:${escapeHtml(item.color)}`
        }"></span>${escapeHtml(item.label)}</li>`,
    )
    .join('');
  return `<figure data-testid="report.chart" data-chart="${escapeHtml(chart.id)}">
<figcaption>Figure ${index + 1}. ${escapeHtml(chart.title)}</figcaption>
${legend ? `<ul class="legend">${legend}</ul>` : ''}
<img alt="${escapeHtml(chart.title)}" width="${Math.round(chart.width)}" height="${Math.round(chart.height)}" src="${svgDataUrl(chart.svg)}">
${chart.note ? `<p class="note">${escapeHtml(chart.note)}</p>` : ''}
</figure>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1100px;padding:0 1rem;color:#0f172a}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e2e8f0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;font-size:.85rem}dt{color:#64748b}dd{margin:0;word-break:break-word}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:1rem}
figure{margin:0;border:1px solid #e2e8f0;border-radius:8px;padding:.5rem}figcaption{font-weight:600;font-size:.9rem}
figure img{width:100%;height:auto}.note{color:#64748b;font-size:.75rem}
.legend{display:flex;flex-wrap:wrap;gap:.2rem .75rem;list-style:none;padding:0;margin:.3rem 0;font-size:.75rem}
.swatch{display:inline-block;width:.8rem;height:.6rem;margin-right:.3rem;vertical-align:middle}
.swatch.dashed{height:0;border-top:2px dashed}.muted{color:#64748b}`;

// Builds the download links from the data embedded above it: no network, no external script.
const DOWNLOAD_SCRIPT = `const data=JSON.parse(document.getElementById('session-data').textContent);
for(const [id,text,type] of [['download-json',data.exportJson,'application/json'],['download-csv',data.csv,'text/csv']]){
const link=document.getElementById(id);link.href=URL.createObjectURL(new Blob([text],{type}));}`;

export function buildSessionReport(input: SessionReportInput): string {
  const { environment } = input;
  const stamp = environment.createdAt;
  const environmentEntries: [string, string][] = [
    ['backend', environment.backend],
    ['adapter', environment.adapter],
    [
      'device slowdown',
      `${environment.slowdowns.length ? environment.slowdowns.map((factor) => `${factor}×`).join(', ') : '1×'}${
        environment.slowdowns.some((factor) => factor !== 1) ? ' (emulated)' : ' (the device’s own speed)'
      }`,
    ],
    ['user agent', environment.userAgent],
    ['cross-origin isolated', String(environment.crossOriginIsolated)],
    ['model bundle', `${environment.bundleId}@${environment.bundleCommit}`],
    ['report written', stamp],
    ['live snapshot', String(input.snapshotVersion)],
  ];
  const settingsEntries = Object.entries(input.settings).map(
    ([key, value]) => [key, settingValue(value)] as [string, string],
  );
  // The export's own texts, byte for byte: the report's records are the JSON and CSV exports.
  const data = { exportJson: input.recordsJson, csv: input.recordsCsv };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SplitScope session report ${escapeHtml(stamp)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>SplitScope session report</h1>
<p class="muted">Written ${escapeHtml(stamp)} from live snapshot ${input.snapshotVersion}; every figure below was drawn from that snapshot at the moment of the click. ${input.recordCount} records.</p>
<h2>Environment</h2>
${definitionList(environmentEntries, 'report.environment')}
<h2>Settings</h2>
${definitionList(settingsEntries, 'report.settings')}
<h2>Summary</h2>
${summaryTable(input.summary)}
${input.summaryNotes.map((note) => `<p data-testid="report.note">${escapeHtml(note)}</p>`).join('\n')}
<h2>Figures</h2>
<div class="figures">
${input.charts.map(chartFigure).join('\n')}
</div>
<h2>Records</h2>
<p>Every record of the session is embedded in this file: <a id="download-json" download="splitscope-records-${escapeHtml(
    stamp.replaceAll(':', '-'),
  )}.json" href="#">JSON</a> · <a id="download-csv" download="splitscope-records-${escapeHtml(
    stamp.replaceAll(':', '-'),
  )}.csv" href="#">CSV</a> (one row per image).</p>
<script type="application/json" id="session-data">${scriptSafeJson(data)}</script>
<script>${DOWNLOAD_SCRIPT}</script>
</body>
</html>
`;
}
