import { RunDriver, SplitScopePage, expect, test } from './fixtures';

/**
 * Rates (images and redraws a second) are measured after the stream has settled for this long;
 * long tasks are counted from the moment Start is pressed.
 */
const SETTLE_MS = 2_000;

interface LongTask {
  /** Page clock (performance.now()) at the task's start. */
  at: number;
  ms: number;
}

// Playwright's trace records a screencast: measured, it costs the browser and GPU processes about
// half a core between them (44 % + 20 % with it, 5 % + 5 % without), which is the test's load, not
// the page's.
test.use({ trace: 'off', screenshot: 'off' });

test('streaming 50 inferences/s for 20 s: no long task over 100 ms, charts update 10+ times a second', async ({
  page,
}) => {
  // A timing check on a machine that runs the browser, its software compositor and the tail
  // server on the same 2 cores, so it runs on request rather than in CI:
  // SPLITSCOPE_PERF=1 npx playwright test e2e/mainThread.spec.ts
  test.skip(!process.env.SPLITSCOPE_PERF, 'timing check, run with SPLITSCOPE_PERF=1');
  test.setTimeout(300_000);
  // A laptop screen: the charts on it redraw, the ones below the fold wait until scrolled to.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.addInitScript(() => {
    const longTasks: LongTask[] = [];
    (window as unknown as { __longTasks: LongTask[] }).__longTasks = longTasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push({ at: entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  // WASM (in ORT's proxy worker): SwiftShader's software WebGPU on this 2-core machine cannot run
  // the head 10 times a second, and the point here is the page's main thread, not the device.
  const openedAt = Date.now();
  await app.open('?backend=wasm');
  await app.waitUntilReady(240_000);
  const readySeconds = (Date.now() - openedAt) / 1000;
  await driver.configure({
    mode: 'split',
    imagesPerRequest: 1,
    rate: { imagesPerSecond: 50 },
    maxInFlight: 4,
  });
  type ChartStats = Record<string, { updates: number; totalMs: number; maxMs: number; visible: boolean }>;
  const published = () =>
    page.evaluate(
      () =>
        (window as unknown as { __splitscope: { publishedSnapshots: number } }).__splitscope
          .publishedSnapshots,
    );
  const chartStats = () =>
    page.evaluate(
      () => (window as unknown as { __splitscope: { chartUpdates: ChartStats } }).__splitscope.chartUpdates,
    );
  const pageNow = () => page.evaluate(() => performance.now());
  const longTasksSince = (since: number) =>
    page.evaluate(
      (since) =>
        (window as unknown as { __longTasks: LongTask[] }).__longTasks.filter((task) => task.at >= since),
      since,
    );
  const streamStartedAt = await pageNow();
  await driver.start();
  await page.waitForTimeout(SETTLE_MS);
  const before = {
    at: Date.now(),
    snapshots: await published(),
    charts: await chartStats(),
    images: (await app.snapshot()).counters.images,
  };
  await page.waitForTimeout(20_000);
  const after = {
    at: Date.now(),
    pageAt: await pageNow(),
    snapshots: await published(),
    charts: await chartStats(),
    images: (await app.snapshot()).counters.images,
  };
  await driver.stop();
  const seconds = (after.at - before.at) / 1000;
  const longTasks = (await longTasksSince(streamStartedAt)).filter((task) => task.at < after.pageAt);
  const imagesPerSecond = (after.images - before.images) / seconds;
  const updatesPerSecond = (after.snapshots - before.snapshots) / seconds;
  // The charts on screen: the ones a person is looking at, and the only ones the page redraws.
  const chartIds = Object.keys(after.charts).filter((id) => after.charts[id]!.visible);
  const perChart = chartIds.map((id) => {
    const updates = after.charts[id]!.updates - (before.charts[id]?.updates ?? 0);
    const ms = after.charts[id]!.totalMs - (before.charts[id]?.totalMs ?? 0);
    return { id, perSecond: updates / seconds, msPerRedraw: updates ? ms / updates : 0 };
  });
  console.warn(
    `ready ${readySeconds.toFixed(1)} s after opening; ` +
      `streamed ${imagesPerSecond.toFixed(1)} images/s, ${updatesPerSecond.toFixed(1)} snapshots/s; ` +
      perChart.map((c) => `${c.id} ${c.perSecond.toFixed(1)}/s ${c.msPerRedraw.toFixed(1)} ms`).join(', ') +
      `; long tasks since Start (ms): ${longTasks.map((task) => `${task.ms.toFixed(0)} at +${((task.at - streamStartedAt) / 1000).toFixed(1)} s`).join(', ') || 'none'}`,
  );
  expect(imagesPerSecond).toBeGreaterThan(45);
  expect(updatesPerSecond).toBeGreaterThanOrEqual(10);
  // Every chart on screen, not just the snapshot feed, redraws 10+ times a second.
  expect(chartIds.length).toBeGreaterThanOrEqual(3);
  for (const chart of perChart) expect(chart.perSecond, chart.id).toBeGreaterThanOrEqual(10);
  expect(Math.max(0, ...longTasks.map((task) => task.ms))).toBeLessThanOrEqual(100);
  app.expectNoConsoleErrors();
});
