/**
 * Playwright fixtures: the page objects of e2e/driver.ts plus the assertions every spec shares.
 * Specs speak in terms of the app (mode, start, counters), never in selectors, and every page is
 * watched for console errors.
 */
import { readFile } from 'node:fs/promises';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { SplitScopePage as DriverPage } from './driver';

export {
  FrameRecorder,
  RunDriver,
  Throttle,
  inferRequestId,
  type RunOptions,
  type SplitScopeSnapshot,
} from './driver';

export class SplitScopePage extends DriverPage {
  /** Clicks a download button and returns the file's text and where Playwright saved it. */
  async download(testId: string): Promise<{ text: string; path: string; name: string }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.testId(testId).click()]);
    const path = await download.path();
    return { text: await readFile(path, 'utf8'), path, name: download.suggestedFilename() };
  }

  /** The summary table as the page shows it: one array of cell texts per row, label first. */
  summaryCells(): Promise<{ mode: string; current: boolean; backend: string; cells: string[] }[]> {
    return this.page.evaluate(() =>
      [...document.querySelectorAll<HTMLTableRowElement>('[data-testid="summary"] tbody tr')].map((row) => ({
        mode: row.dataset.mode ?? '',
        current: row.dataset.testid !== 'summary.previous',
        backend: row.dataset.backend ?? '',
        cells: [...row.cells].map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim()),
      })),
    );
  }

  /** The live snapshot version each drawn element (summary, live strip, charts) shows, by test id. */
  snapshotVersions(onScreenOnly = false): Promise<Record<string, number>> {
    return this.page.evaluate((onScreenOnly) => {
      const out: Record<string, number> = {};
      for (const element of document.querySelectorAll<HTMLElement>('[data-snapshot-version]')) {
        const box = element.getBoundingClientRect();
        const onScreen = box.bottom > 0 && box.top < innerHeight && box.width > 0;
        if (onScreenOnly && !onScreen) continue;
        out[element.dataset.testid ?? '?'] = Number(element.dataset.snapshotVersion);
      }
      return out;
    }, onScreenOnly);
  }

  /** Whether the element lies wholly inside the viewport as the page is scrolled now. */
  async inViewport(testId: string): Promise<boolean> {
    const box = await this.testId(testId).boundingBox({ timeout: 5000 });
    const viewport = this.page.viewportSize()!;
    return (
      box !== null &&
      box.width > 0 &&
      box.y >= 0 &&
      box.x >= 0 &&
      box.y + box.height <= viewport.height &&
      box.x + box.width <= viewport.width
    );
  }

  /** `allow`: errors the browser itself logs for a situation the spec creates on purpose. */
  expectNoConsoleErrors(allow: RegExp[] = []): void {
    const errors = this.consoleErrors.filter((error) => !allow.some((pattern) => pattern.test(error)));
    expect(errors, `console errors:\n${errors.join('\n')}`).toEqual([]);
  }
}

/**
 * Puts the page on `backend` (the page may have chosen the other one by default, e.g. WASM on a
 * software WebGPU adapter) and waits until it is ready there.
 */
export async function useBackend(app: SplitScopePage, backend: 'webgpu' | 'wasm'): Promise<void> {
  const status = app.testId('status.backend');
  if ((await status.getAttribute('data-backend')) !== backend) {
    await app.testId(`controls.backend.${backend}`).click();
    await expect(status).toHaveAttribute('data-backend', backend, { timeout: 240_000 });
    await app.waitUntilReady(240_000);
  }
  await expect(status).toHaveAttribute('data-backend', backend);
}

export const test = base.extend<{ app: SplitScopePage }>({
  app: async ({ page }, use) => {
    await use(new SplitScopePage(page));
  },
});

export { expect };

/** Page width against its scroll width: greater means a sideways scroll. */
export function horizontalOverflow(page: Page): Promise<{ scroll: number; client: number }> {
  return page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
}

/**
 * A screenshot kept as a file in the test's output folder (kept after a pass too) and attached to
 * the report.
 */
export async function keepScreenshot(
  page: Page,
  testInfo: TestInfo,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, ...options });
  await testInfo.attach(name, { path, contentType: 'image/png' });
  return path;
}
