/**
 * Page objects for the SplitScope page. Specs speak in terms of the app (mode, start, counters),
 * never in selectors, and every page load is watched for console errors.
 */
import { test as base, expect, type ConsoleMessage, type Page } from '@playwright/test';

export interface SplitScopeSnapshot {
  phase: string;
  backend: { kind: string; label: string } | null;
  webgpu: { available: boolean; reason?: string; adapter?: { vendor: string; architecture: string } } | null;
  crossOriginIsolated: boolean;
  connection: string;
  running: boolean;
  counters: {
    sent: number;
    answered: number;
    failed: number;
    failedByReason: Record<string, number>;
    local: number;
    images: number;
    correct: number;
  };
  estimate: { uplinkBps: number | null; rttMs: number | null; samples: number };
}

export class SplitScopePage {
  readonly consoleErrors: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
  }

  testId(id: string) {
    return this.page.getByTestId(id);
  }

  async open(query = ''): Promise<void> {
    await this.page.goto(`/${query}`);
  }

  async snapshot(): Promise<SplitScopeSnapshot> {
    return this.page.evaluate(() => {
      const api = (window as unknown as { __splitscope: Record<string, unknown> }).__splitscope;
      return {
        phase: api.phase,
        backend: api.backend,
        webgpu: api.webgpu,
        crossOriginIsolated: api.crossOriginIsolated,
        connection: api.connection,
        running: api.running,
        counters: api.counters,
        estimate: api.estimate,
      } as SplitScopeSnapshot;
    });
  }

  async waitUntilReady(timeout = 90_000): Promise<void> {
    await expect(this.testId('status.phase')).toHaveAttribute('data-phase', 'ready', { timeout });
  }

  expectNoConsoleErrors(): void {
    expect(this.consoleErrors, `console errors:\n${this.consoleErrors.join('\n')}`).toEqual([]);
  }
}

export const test = base.extend<{ app: SplitScopePage }>({
  app: async ({ page }, use) => {
    await use(new SplitScopePage(page));
  },
});

export { expect };
