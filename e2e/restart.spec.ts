/**
 * The tail server goes away in the middle of a stream and comes back: killed (SIGKILL), or shut
 * down gracefully (SIGTERM: it answers what it received, tells clients it is going away, exits 0).
 * Either way the page must say so, count the requests that were in flight as failed with a
 * reason, reconnect, resume by itself, and its totals must balance (sent = answered + failed).
 */
import type { ChildProcess } from 'node:child_process';
import type { Page } from '@playwright/test';
import { RunDriver, SplitScopePage, Throttle, expect, test } from './fixtures';
// dist/ was built by the Playwright webServer command before any spec runs.
import { exitCodeWithin, freePort, startTailServer as startServer } from './tailServer';

async function restartMidStream(page: Page, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const port = await freePort();
  let server: ChildProcess = await startServer(port);
  try {
    const app = new SplitScopePage(page);
    const driver = new RunDriver(app);
    await page.goto(`http://localhost:${port}/?backend=wasm`);
    await app.waitUntilReady(240_000);
    // A slow uplink keeps requests in flight, so the restart catches some of them.
    const throttle = await Throttle.attach(page);
    await throttle.uplink(256_000);
    await driver.configure({ mode: 'offload', format: 'png', imagesPerRequest: 16, maxInFlight: 4 });
    await driver.start();
    await expect
      .poll(async () => (await app.snapshot()).counters.answered, { timeout: 60_000 })
      .toBeGreaterThan(3);

    server.kill(signal);
    if (signal === 'SIGTERM') {
      // A graceful shutdown ends the process by itself, with 0, within a few seconds.
      expect(await exitCodeWithin(server, 10_000)).toBe(0);
    }
    await expect(app.testId('banner.server')).toBeVisible({ timeout: 15_000 });
    // The page says why: the server's 'server-closing' notice names the signal.
    if (signal === 'SIGTERM')
      await expect(app.testId('banner.server')).toContainText('shutting down (SIGTERM)');
    const during = await app.snapshot();
    expect(during.connection).toBe('disconnected');
    if (signal === 'SIGKILL') expect(during.counters.failed).toBeGreaterThan(0);
    // Requests the server never got (still on the throttled uplink) fail as disconnected; nothing else.
    for (const reason of Object.keys(during.counters.failedByReason)) expect(reason).toBe('disconnected');

    server = await startServer(port);
    await expect(app.testId('banner.server')).toBeHidden({ timeout: 30_000 });
    const answeredAtReconnect = (await app.snapshot()).counters.answered;
    // The stream resumes by itself: no click needed.
    await expect
      .poll(async () => (await app.snapshot()).counters.answered, { timeout: 60_000 })
      .toBeGreaterThan(answeredAtReconnect + 2);

    await driver.stop();
    await expect
      .poll(
        async () => {
          const { counters } = await app.snapshot();
          return counters.sent - counters.answered - counters.failed;
        },
        { timeout: 60_000 },
      )
      .toBe(0);
    const records = await driver.records();
    const failed = records.filter((record) => !record.ok);
    expect(failed.length).toBe((await app.snapshot()).counters.failed);
    for (const record of failed) expect(record.failure?.reason).toBe('disconnected');
    if (failed.length > 0) await expect(app.testId('summary.counters')).toContainText('disconnected');
    // While the server is down, Chromium itself logs each refused reconnection attempt.
    app.expectNoConsoleErrors([/WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/]);
  } finally {
    server.kill('SIGKILL');
  }
}

test('a server restart mid-stream: banner, failed in-flight requests, reconnect, resume, totals balance', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await restartMidStream(page, 'SIGKILL');
});

test('a graceful shutdown (SIGTERM) mid-stream: exit 0, banner says why, reconnect, resume, totals balance', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await restartMidStream(page, 'SIGTERM');
});
