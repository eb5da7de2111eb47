import { describe, expect, it } from 'vitest';
import {
  buildSessionReport,
  escapeHtml,
  scriptSafeJson,
  svgDataUrl,
  type SessionReportInput,
} from './sessionReport';

const input = (overrides: Partial<SessionReportInput> = {}): SessionReportInput => ({
  settings: { mode: 'split', levelId: 'c4', bits: 2 },
  environment: {
    backend: 'wasm: 1 thread',
    adapter: 'google swiftshader',
    slowdowns: [1],
    userAgent: 'Mozilla/5.0 <test>',
    crossOriginIsolated: true,
    bundleId: 'fmnist',
    bundleCommit: 'abc',
    createdAt: '2026-12-02T10:00:00.000Z',
  },
  snapshotVersion: 42,
  summary: {
    columns: ['Mode', 'Images'],
    rows: [
      { mode: 'split', current: true, cells: ['Split wasm: 1 thread', '320'] },
      { mode: 'split', current: false, cells: ['Split webgpu: google swiftshader', '32'] },
    ],
  },
  summaryNotes: ['Sent 22 · answered 22 · failed 0'],
  charts: [
    {
      id: 'charts.bytes',
      title: 'Wire bytes per image',
      legend: [{ label: 'Split', color: '#4f46e5' }],
      svg: '<svg class="recharts-surface" width="300" height="200"><text>49 B</text></svg>',
      width: 300,
      height: 200,
    },
  ],
  recordsJson: JSON.stringify({ records: [{ seq: 1, config: '</script><b>x</b>' }] }),
  recordsCsv: 'seq,config\n1,"</script>"\n',
  recordCount: 1,
  ...overrides,
});

describe('session report', () => {
  it('is one self-contained file: no address it would have to fetch', () => {
    const html = buildSessionReport(input());
    const fetched = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]!);
    expect(fetched.length).toBeGreaterThan(0);
    for (const address of fetched) expect(address, address).toMatch(/^(data:|#)/);
    expect(html).not.toMatch(/<link\b|@import|url\(http/);
  });

  it('embeds the export texts exactly, safely inside a script element', () => {
    const data = input();
    const html = buildSessionReport(data);
    // Only the two script elements of the report itself close.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const embedded = /<script type="application\/json" id="session-data">(.*?)<\/script>/s.exec(html)![1]!;
    const parsed = JSON.parse(embedded) as { exportJson: string; csv: string };
    expect(parsed.exportJson).toBe(data.recordsJson);
    expect(parsed.csv).toBe(data.recordsCsv);
  });

  it('writes the summary rows, environment and figures it was given, escaped', () => {
    const html = buildSessionReport(input({ environment: { ...input().environment, slowdowns: [1, 8] } }));
    expect(html).toContain('<td>Split webgpu: google swiftshader</td><td>32</td>');
    expect(html).toContain('Mozilla/5.0 &lt;test&gt;');
    expect(html).toContain('1×, 8× (emulated)');
    expect(html).toContain('data-chart="charts.bytes"');
    expect(html).toContain(svgDataUrl(input().charts[0]!.svg));
    expect(decodeURIComponent(svgDataUrl('<svg width="1"></svg>'))).toContain(
      'xmlns="http://www.w3.org/2000/svg"',
    );
  });

  it('escapes HTML and script-breaking JSON', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(scriptSafeJson({ text: '</script>' })).not.toContain('</');
    expect(JSON.parse(scriptSafeJson({ text: '</script>\u2028' }))).toEqual({ text: '</script>\u2028' });
  });
});
