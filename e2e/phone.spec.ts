/**
 * A phone, 360×740, while a stream runs: the live figures are on screen without scrolling (and
 * stay there when the page scrolls), nothing needs a sideways scroll, and every control a thumb
 * has to hit is at least 44 px. The screenshots are kept as artifacts.
 */
import { RunDriver, SplitScopePage, expect, horizontalOverflow, keepScreenshot, test } from './fixtures';

test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

const LIVE_FIGURES = (modes: readonly string[]) => [
  ...modes.flatMap((mode) => [
    `live.${mode}.median`,
    `live.${mode}.accuracy`,
    `live.${mode}.bytes`,
    `live.${mode}.failed`,
  ]),
  'live.counters',
  'live.uplink',
];

test('phone viewport while streaming: live figures on screen, no horizontal scroll, 44 px targets', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const app = new SplitScopePage(page);
  const driver = new RunDriver(app);
  await app.open('?backend=wasm');
  await app.waitUntilReady(240_000);
  await driver.configure({ mode: 'compare', imagesPerRequest: 16, stopAfterImages: 0 });
  await driver.start();
  // Streaming: every mode has answered at least once, and the stream goes on.
  await expect
    .poll(
      async () => {
        const { counters } = await app.snapshot();
        return counters.answered >= 4 && counters.local >= 2;
      },
      { timeout: 120_000 },
    )
    .toBe(true);
  expect((await app.snapshot()).running).toBe(true);

  // Without scrolling: the live figures of every mode, the counters and the uplink estimate.
  await page.evaluate(() => window.scrollTo(0, 0));
  const figures = LIVE_FIGURES(['on-device', 'offload', 'split']);
  for (const id of figures) expect(await app.inViewport(id), `${id} on screen at the top`).toBe(true);
  await expect(app.testId('live.split.median')).toHaveText(/\d ms|\d s/);
  await expect(app.testId('live.split.accuracy')).toHaveText(/\d%/);
  await expect(app.testId('live.counters')).toHaveText(/Sent \d+ · answered \d+ · failed \d+/);
  let widths = await horizontalOverflow(page);
  expect(widths.scroll, 'horizontal scroll while streaming').toBeLessThanOrEqual(widths.client);
  await keepScreenshot(page, testInfo, 'phone-streaming-top');

  // Scrolled down to the results and the charts, the live figures are still on screen.
  await app.testId('summary').scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, 200));
  for (const id of figures) expect(await app.inViewport(id), `${id} on screen when scrolled`).toBe(true);
  const summary = await app.testId('summary').boundingBox();
  expect(summary!.x + summary!.width, 'summary fits the width').toBeLessThanOrEqual(360);
  // Results as cards: no cell needs a scroll inside the table either.
  const tableScroll = await app.testId('summary').evaluate((element) => {
    const scroller = element.querySelector('.table-scroll')!;
    return { scroll: scroller.scrollWidth, client: scroller.clientWidth };
  });
  expect(tableScroll.scroll, 'summary table sideways scroll').toBeLessThanOrEqual(tableScroll.client);
  await expect(app.testId('summary.split.median')).toBeInViewport();
  await expect(app.testId('summary.split.bytes')).toBeInViewport();
  await keepScreenshot(page, testInfo, 'phone-streaming-results');

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
  await keepScreenshot(page, testInfo, 'phone-streaming-charts');
  widths = await horizontalOverflow(page);
  expect(widths.scroll, 'horizontal scroll while streaming').toBeLessThanOrEqual(widths.client);

  // Touch targets: every button, select and input a thumb has to hit.
  for (const control of await page.locator('button, select, input').all()) {
    // A checkbox or radio is hit through its label, which toggles it.
    const isToggle = await control.evaluate(
      (element) => element instanceof HTMLInputElement && ['checkbox', 'radio'].includes(element.type),
    );
    const target = isToggle ? control.locator('xpath=ancestor::label[1]') : control;
    const box = await target.boundingBox();
    const name = await control.evaluate(
      (element) => `${element.tagName.toLowerCase()} ${element.getAttribute('data-testid') ?? ''}`,
    );
    if (box) expect(Math.min(box.width, box.height), `touch target ${name}`).toBeGreaterThanOrEqual(44);
  }
  await driver.stop();
  await keepScreenshot(page, testInfo, 'phone-full', { fullPage: true });
  app.expectNoConsoleErrors();
});
