import { RunDriver, SplitScopePage, expect, test } from './fixtures';

test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

test('phone viewport: controls and charts visible, no horizontal scroll', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  await app.open();
  await app.waitUntilReady(240_000);
  await driver.configure({ mode: 'compare', imagesPerRequest: 16, stopAfterImages: 64 });
  await driver.start();
  await driver.waitForRunEnd(240_000);

  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(widths.scroll, 'horizontal scroll').toBeLessThanOrEqual(widths.client);
  for (const id of [
    'controls.start',
    'controls.mode.split',
    'controls.images-per-request',
    'summary.split',
  ]) {
    await expect(app.testId(id)).toBeVisible();
  }
  for (const id of [
    'charts.latency.split',
    'charts.bytes',
    'charts.accuracy',
    'charts.bandwidth',
    'charts.rate-accuracy',
  ]) {
    const chart = app.testId(id);
    await chart.scrollIntoViewIfNeeded();
    await expect(chart).toBeVisible();
    const box = await chart.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
    // recharts draws into an SVG only when it has a size: a zero-width chart has none.
    await expect(chart.locator('svg.recharts-surface').first()).toBeVisible();
  }
  // Touch targets: every button, select and input a thumb has to hit.
  for (const target of await page.locator('button, select, input').all()) {
    const box = await target.boundingBox();
    const name = await target.evaluate(
      (element) => `${element.tagName.toLowerCase()} ${element.getAttribute('data-testid') ?? ''}`,
    );
    if (box) expect(Math.min(box.width, box.height), `touch target ${name}`).toBeGreaterThanOrEqual(40);
  }
  await testInfo.attach('phone-top', { body: await page.screenshot(), contentType: 'image/png' });
  await testInfo.attach('phone-full', {
    body: await page.screenshot({ fullPage: true }),
    contentType: 'image/png',
  });
  app.expectNoConsoleErrors();
});
