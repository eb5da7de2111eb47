/**
 * Playwright fixtures: the page objects of e2e/driver.ts plus the assertions every spec shares.
 * Specs speak in terms of the app (mode, start, counters), never in selectors, and every page is
 * watched for console errors.
 */
import { test as base, expect } from '@playwright/test';
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
  /** `allow`: errors the browser itself logs for a situation the spec creates on purpose. */
  expectNoConsoleErrors(allow: RegExp[] = []): void {
    const errors = this.consoleErrors.filter((error) => !allow.some((pattern) => pattern.test(error)));
    expect(errors, `console errors:\n${errors.join('\n')}`).toEqual([]);
  }
}

export const test = base.extend<{ app: SplitScopePage }>({
  app: async ({ page }, use) => {
    await use(new SplitScopePage(page));
  },
});

export { expect };
