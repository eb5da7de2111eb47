/**
 * The one-click session report: saved from the page after a compare run, opened from disk in
 * Chromium with every network request refused. Its table equals the page's, its records equal
 * the JSON and CSV exports, its figures load, and every chart, also those off screen, was redrawn
 * from the snapshot the report names. The report's screenshot is kept as an artifact.
 */
import { copyFile, readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { InferenceRecord } from '../src/core/record';
import { RunDriver, SplitScopePage, expect, keepScreenshot, test } from './fixtures';

test.use({ viewport: { width: 1280, height: 800 } });

interface ExportFile {
  environment: Record<string, unknown>;
  settings: Record<string, unknown>;
  records: InferenceRecord[];
}

test('session report: offline, current charts, the page’s and the export’s figures', async ({
  page,
  context,
}, testInfo) => {
  test.setTimeout(300_000);
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  await app.open('?backend=wasm');
  await app.waitUntilReady(240_000);
  await driver.configure({ mode: 'compare', imagesPerRequest: 16, stopAfterImages: 48 });
  await driver.start();
  await driver.waitForRunEnd(240_000);
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(app.testId('summary.split.images')).toHaveText('48');

  // The charts below the fold were not redrawn while off screen.
  const before = await app.snapshotVersions();
  const newest = Math.max(...Object.values(before));
  const stale = Object.entries(before).filter(([, version]) => version < newest);
  testInfo.annotations.push({ type: 'stale before the click', description: JSON.stringify(stale) });

  const pageTable = await app.summaryCells();
  const exported = JSON.parse((await app.download('controls.export-json')).text) as ExportFile;
  const exportedCsv = (await app.download('controls.export-csv')).text;
  // The click, and what every drawn element shows right after it, in the same task (idle probes
  // keep publishing snapshots, so a later look could see a newer one).
  const [download, after] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate(() => {
      document.querySelector<HTMLButtonElement>('[data-testid="controls.export-report"]')!.click();
      const out: Record<string, number> = {};
      for (const element of document.querySelectorAll<HTMLElement>('[data-snapshot-version]'))
        out[element.dataset.testid ?? '?'] = Number(element.dataset.snapshotVersion);
      return out;
    }),
  ]);
  const report = { path: await download.path(), name: download.suggestedFilename() };
  const reportText = await readFile(report.path, 'utf8');
  expect(report.name).toMatch(/^splitscope-report-.*\.html$/);

  // The click redrew every chart, on screen or not, from one snapshot: the one the report names.
  const reportVersion = Number(/from live snapshot (\d+);/.exec(reportText)?.[1]);
  expect(reportVersion).toBeGreaterThanOrEqual(newest);
  for (const [id, version] of Object.entries(after)) expect(version, id).toBe(reportVersion);
  const pageCharts = Object.keys(after).filter((id) => id.startsWith('charts.'));

  // Opened from disk with the network refused.
  const requests: string[] = [];
  await context.route(/^https?:/, (route) => route.abort());
  const reader = await context.newPage();
  reader.on('request', (request) => requests.push(request.url()));
  // Kept as an artifact, under a name that says HTML (Playwright's own download file has none).
  const saved = testInfo.outputPath(report.name);
  await copyFile(report.path, saved);
  await reader.goto(pathToFileURL(saved).href);
  expect(requests.filter((url) => !/^(file|data|blob):/.test(url))).toEqual([]);

  // Its table is the page's table, cell for cell.
  const reportTable = await reader.evaluate(() =>
    [...document.querySelectorAll<HTMLTableRowElement>('[data-testid="report.summary"] tbody tr')].map(
      (row) => ({
        mode: row.dataset.mode ?? '',
        current: row.dataset.current === 'true',
        cells: [...row.cells].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
      }),
    ),
  );
  expect(reportTable).toEqual(pageTable.map(({ mode, current, cells }) => ({ mode, current, cells })));

  // Its records are the export's, and its figures are what the records say.
  const embedded = await reader.evaluate(
    () =>
      JSON.parse(document.getElementById('session-data')!.textContent!) as {
        exportJson: string;
        csv: string;
      },
  );
  const reportExport = JSON.parse(embedded.exportJson) as ExportFile;
  expect(reportExport.records).toEqual(exported.records);
  expect(reportExport.settings).toEqual(exported.settings);
  const body = (csv: string) => csv.split('\n').filter((line) => !line.startsWith('#'));
  expect(body(embedded.csv)).toEqual(body(exportedCsv));
  for (const row of reportTable.filter((candidate) => candidate.current)) {
    const images = exported.records
      .filter((record) => record.mode === row.mode)
      .flatMap((record) => record.images);
    const correct = images.filter((image) => image.predicted === image.label).length;
    expect(row.cells[2], `${row.mode} images`).toBe(String(images.length));
    expect(row.cells[3], `${row.mode} accuracy`).toBe(`${((correct / images.length) * 100).toFixed(2)}%`);
  }
  const environment = await reader.getByTestId('report.environment').textContent();
  for (const field of ['backend', 'adapter', 'device slowdown', 'user agent'])
    expect(environment, field).toContain(field);
  expect(environment).toContain(String(exported.environment.backend));

  // Every chart of the page is a figure, and every figure's image decodes.
  const figures = await reader.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="report.chart"]')].map((figure) => {
      const image = figure.querySelector('img')!;
      return { id: figure.dataset.chart, loaded: image.complete && image.naturalWidth > 0 };
    }),
  );
  expect(figures.map((figure) => figure.id).sort()).toEqual([...pageCharts].sort());
  for (const figure of figures) expect(figure.loaded, figure.id).toBe(true);
  // The accuracy-against-bytes figure holds this session's measured points.
  const rateFigure = await reader.locator('[data-chart="charts.rate-accuracy"] .legend').textContent();
  expect(rateFigure).toContain('Split live (c4-b2)');
  expect(rateFigure).toContain('Offload live (png)');

  await keepScreenshot(reader, testInfo, 'session-report', { fullPage: true });
  await keepScreenshot(page, testInfo, 'desktop-after-report');
  app.expectNoConsoleErrors();
});
