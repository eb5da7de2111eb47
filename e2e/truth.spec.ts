/**
 * What the page shows after short real streams, read as a user reads it at 1280×800: results of
 * two backends in two rows, the Start index field saying where Start continues, the throughput
 * chart drawn for a stream of a second or two, time ticks that read as distinct numbers, the
 * accuracy-against-bytes chart fitted to its points with no label on a point, and the table and
 * the charts drawn from the same snapshot.
 */
import type { Page } from '@playwright/test';
import { throughputSeries } from '../src/app/liveFeed';
import type { LivePoint } from '../src/app/liveSnapshot';
import { RunDriver, SplitScopePage, expect, keepScreenshot, test } from './fixtures';

test.use({ viewport: { width: 1280, height: 800 } });

const PER_REQUEST = 16;
const IMAGES = 32;
// WASM is fast: 160 images make a stream of a second or two, long enough to watch it stream.
const WASM_IMAGES = 160;

/** Tick labels of a chart's x axis, left to right. */
function xTickLabels(page: Page, chartId: string): Promise<string[]> {
  return page
    .getByTestId(chartId)
    .locator('.recharts-xAxis text')
    .evaluateAll((texts) =>
      texts
        .map((text) => ({ x: Number(text.getAttribute('x')), label: text.textContent ?? '' }))
        .sort((a, b) => a.x - b.x)
        .map((tick) => tick.label),
    );
}

test('a WebGPU run then a WASM run: two rows, Start continues where the field says, charts true at a glance', async ({
  page,
}, testInfo) => {
  test.setTimeout(480_000);
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  // WebGPU asked for by name: on a software adapter the page would start on WASM by itself.
  await app.open('?backend=webgpu');
  await app.waitUntilReady(240_000);
  await expect(app.testId('status.backend')).toHaveAttribute('data-backend', 'webgpu');
  await driver.configure({
    mode: 'split',
    levelId: 'c4',
    bits: 2,
    imagesPerRequest: PER_REQUEST,
    stopAfterImages: IMAGES,
  });
  await driver.start();
  await driver.waitForRunEnd(240_000);

  // The field now says where the next Start continues.
  await expect(app.testId('controls.start-index')).toHaveValue(String(IMAGES));

  await app.testId('controls.backend.wasm').click();
  await expect(app.testId('status.backend')).toHaveAttribute('data-backend', 'wasm');
  await app.waitUntilReady(240_000);
  // No Clear: the same session goes on, on the other backend.
  await app.testId('controls.stop-after').fill(String(WASM_IMAGES));
  await page.evaluate(() => window.scrollTo(0, 0));
  await driver.start();
  const versionSamples: Record<string, number>[] = [];
  let screenshot = false;
  for (;;) {
    const { running, counters } = await app.snapshot();
    if (!running) break;
    versionSamples.push(await app.snapshotVersions(true));
    if (!screenshot && counters.answered >= 2) {
      screenshot = true;
      await keepScreenshot(page, testInfo, 'desktop-streaming');
    }
  }
  await driver.waitForRunEnd(60_000);
  await expect(app.testId('controls.start-index')).toHaveValue(String(IMAGES + WASM_IMAGES));

  const records = await driver.records();
  const byBackend = new Map<string, typeof records>();
  for (const record of records)
    byBackend.set(record.backend, [...(byBackend.get(record.backend) ?? []), record]);
  const backends = [...byBackend.keys()];
  expect(backends).toHaveLength(2);
  const [webgpu, wasm] = backends.map((backend) => byBackend.get(backend)!);
  // Start and the field agreed: the WASM run began at image 32, where the field said.
  expect(webgpu!.flatMap((record) => record.images.map((image) => image.index))).toEqual(
    Array.from({ length: IMAGES }, (_, i) => i),
  );
  expect(wasm!.flatMap((record) => record.images.map((image) => image.index))).toEqual(
    Array.from({ length: WASM_IMAGES }, (_, i) => IMAGES + i),
  );

  // Two rows, each with its own run's figures, labelled with its backend.
  const current = app.testId('summary.split');
  const previous = page.locator('[data-testid="summary.previous"][data-mode="split"]');
  await expect(previous).toHaveCount(1);
  await expect(current).toHaveAttribute('data-backend', /^wasm/);
  await expect(previous).toHaveAttribute('data-backend', /^webgpu/);
  await expect(app.testId('summary.split.images')).toHaveText(String(WASM_IMAGES));
  await expect(previous.locator('td[data-label="Images"]')).toHaveText(String(IMAGES));
  await expect(app.testId('summary.split.condition')).toContainText('wasm');
  await expect(previous.locator('th')).toContainText('webgpu');
  const correct = (ofRun: typeof records) =>
    ofRun.flatMap((record) => record.images).filter((image) => image.predicted === image.label).length;
  await expect(app.testId('summary.split.accuracy')).toHaveText(
    `${((correct(wasm!) / WASM_IMAGES) * 100).toFixed(2)}%`,
  );
  await expect(previous.locator('td[data-label="Accuracy"]')).toHaveText(
    `${((correct(webgpu!) / IMAGES) * 100).toFixed(2)}%`,
  );

  // Throughput: a stream of a second or two is drawn.
  const wasmSeconds =
    (Math.max(...wasm!.map((record) => record.startedAt + record.phases.totalMs)) -
      Math.min(...wasm!.map((record) => record.startedAt))) /
    1000;
  testInfo.annotations.push({ type: 'wasm stream', description: `${wasmSeconds.toFixed(2)} s` });
  const throughput = app.testId('charts.throughput');
  await throughput.scrollIntoViewIfNeeded();
  await expect(throughput.locator('.recharts-line').first()).toBeVisible();
  // The WASM stream itself is drawn: samples inside its own time span.
  const wasmFrom = Math.min(...wasm!.map((record) => record.startedAt));
  const sessionStart = Math.min(...records.map((record) => record.startedAt));
  const wasmStart = (wasmFrom - sessionStart) / 1000;
  // The WASM stream's dots: those after the widest gap between neighbouring dots (the pause
  // between the two streams, seconds long, against fractions of a second inside a stream).
  const dotsInWasmStream = () =>
    throughput.evaluate((card) => {
      const xs = [...card.querySelectorAll('.recharts-line-dot')]
        .map((dot) => Number(dot.getAttribute('cx')))
        .sort((a, b) => a - b);
      let widest = 0;
      let after = xs.length;
      for (let i = 1; i < xs.length; i++)
        if (xs[i]! - xs[i - 1]! > widest) {
          widest = xs[i]! - xs[i - 1]!;
          after = i;
        }
      return xs.length - after;
    });
  // How many samples the stream gets depends on how long it ran on this machine; what must hold
  // is that the WASM stream is drawn with the samples its records give (a sample with nothing
  // answered yet is a gap, not a dot), and that there are enough to draw a line.
  const points = records.map((record) => ({
    t: (record.startedAt - sessionStart) / 1000,
    totalMs: record.phases.totalMs,
    ok: record.ok,
    mode: record.mode,
    images: record.images.length,
  })) as LivePoint[];
  const samplesInWasmStream = throughputSeries(points).filter(
    (sample) => sample.t > wasmStart && sample.split > 0,
  ).length;
  expect(samplesInWasmStream, 'throughput samples of the WASM stream').toBeGreaterThanOrEqual(2);
  // Polled: the chart redraws on the frame after it scrolls into view. One sample either way: the
  // chart's snapshot and the records read here need not end on the same answer (seen: 5 computed,
  // 6 drawn), and the stream's newest answer gets a sample of its own.
  await expect
    .poll(async () => Math.abs((await dotsInWasmStream()) - samplesInWasmStream), {
      message: 'throughput samples drawn inside the WASM stream, against the samples its records give',
      timeout: 10_000,
    })
    .toBeLessThanOrEqual(1);
  const drawn = await dotsInWasmStream();
  expect(drawn, 'a line needs two points').toBeGreaterThanOrEqual(2);
  testInfo.annotations.push({
    type: 'throughput samples',
    description: `${samplesInWasmStream} from the WASM stream's records, ${drawn} drawn`,
  });
  testInfo.annotations.push({ type: 'wasm stream starts at', description: `${wasmStart.toFixed(2)} s` });

  // Time ticks: at least two, all different, none blank.
  for (const id of ['charts.bytes', 'charts.accuracy', 'charts.throughput', 'charts.bandwidth']) {
    await app.testId(id).scrollIntoViewIfNeeded();
    const labels = await xTickLabels(page, id);
    expect(labels.length, `${id}: ${labels.join(' ')}`).toBeGreaterThanOrEqual(2);
    expect(new Set(labels).size, `${id}: ${labels.join(' ')}`).toBe(labels.length);
  }

  // Accuracy against bytes: the y range fits the points (not 60-100), and no text sits on a point.
  const rate = app.testId('charts.rate-accuracy');
  await rate.scrollIntoViewIfNeeded();
  const yTicks = (await rate.locator('.recharts-yAxis text').allTextContents()).map((text) =>
    Number.parseFloat(text),
  );
  expect(Math.min(...yTicks)).toBeGreaterThan(80);
  expect(Math.max(...yTicks)).toBeLessThanOrEqual(100);
  const overlaps = await rate.evaluate((card) => {
    const svg = card.querySelector('svg.recharts-surface')!;
    const points = [...svg.querySelectorAll('.recharts-scatter-symbol')].map((symbol) =>
      symbol.getBoundingClientRect(),
    );
    const texts = [...svg.querySelectorAll('text')].map((text) => ({
      label: text.textContent,
      box: text.getBoundingClientRect(),
    }));
    const hit = (a: DOMRect, b: DOMRect) =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return {
      points: points.length,
      overlapping: texts
        .filter((text) => points.some((point) => hit(text.box, point)))
        .map((text) => text.label),
    };
  });
  expect(overlaps.points).toBeGreaterThan(10);
  expect(overlaps.overlapping).toEqual([]);

  // Counters and charts: at most one round apart while streaming, the same snapshot once idle.
  expect(versionSamples.length).toBeGreaterThan(0);
  for (const sample of versionSamples)
    expect(new Set(Object.values(sample)).size, JSON.stringify(sample)).toBeLessThanOrEqual(2);
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect.poll(async () => new Set(Object.values(await app.snapshotVersions(true))).size).toBe(1);
  const counters = (await app.snapshot()).counters;
  await expect(app.testId('summary.counters')).toContainText(
    `Sent ${counters.sent} · answered ${counters.answered} · failed ${counters.failed}`,
  );
  await keepScreenshot(page, testInfo, 'desktop-after-two-backends', { fullPage: true });
  app.expectNoConsoleErrors();
});
