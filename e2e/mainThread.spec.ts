import { RunDriver, SplitScopePage, expect, test } from './fixtures';

test('streaming 50 inferences/s for 20 s: no long task over 100 ms, charts update 10+ times a second', async ({
  page,
}) => {
  // Open (issue 6): on this 2-core machine the page reaches ~50 inferences/s with no long task
  // when the charts are not drawn, but only 9-12/s with them: recharts redraws cost 100-180 ms
  // long tasks here. Kept as a known failure until the chart cost is brought down.
  test.fixme();
  test.setTimeout(300_000);
  await page.addInitScript(() => {
    const longTasks: number[] = [];
    (window as unknown as { __longTasks: number[] }).__longTasks = longTasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  // WASM (in ORT's proxy worker): SwiftShader's software WebGPU on this 2-core machine cannot run
  // the head 10 times a second, and the point here is the page's main thread, not the device.
  await app.open('?backend=wasm');
  await app.waitUntilReady(240_000);
  await driver.configure({
    mode: 'split',
    imagesPerRequest: 1,
    rate: { imagesPerSecond: 50 },
    maxInFlight: 4,
  });
  const published = () =>
    page.evaluate(
      () =>
        (window as unknown as { __splitscope: { publishedSnapshots: number } }).__splitscope
          .publishedSnapshots,
    );
  await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
  await driver.start();
  await page.waitForTimeout(2_000);
  const before = {
    at: Date.now(),
    snapshots: await published(),
    images: (await app.snapshot()).counters.images,
  };
  await page.waitForTimeout(20_000);
  const after = {
    at: Date.now(),
    snapshots: await published(),
    images: (await app.snapshot()).counters.images,
  };
  await driver.stop();
  const seconds = (after.at - before.at) / 1000;
  const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  const imagesPerSecond = (after.images - before.images) / seconds;
  const updatesPerSecond = (after.snapshots - before.snapshots) / seconds;
  console.warn(
    `streamed ${imagesPerSecond.toFixed(1)} images/s, ${updatesPerSecond.toFixed(1)} chart updates/s, long tasks: ${longTasks.map((d) => d.toFixed(0)).join(', ') || 'none'}`,
  );
  expect(imagesPerSecond).toBeGreaterThan(45);
  expect(updatesPerSecond).toBeGreaterThanOrEqual(10);
  expect(Math.max(0, ...longTasks)).toBeLessThanOrEqual(100);
  app.expectNoConsoleErrors();
});
