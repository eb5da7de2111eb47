/**
 * The live half of bench:adaptive: the real page in Debian's Chromium (e2e/driver.ts, as a person
 * drives it), the real tail server, and a trace segment replayed through DevTools' throttle:
 * `Network.emulateNetworkConditions` once a second from throttleSchedule (src/core/cdpThrottle.ts;
 * a second without capacity is OUTAGE_BPS, which holds a message until the next step releases it).
 *
 * Every step's conditions are sent at its time on Node's clock, and the page's clock at the moment
 * each was acknowledged is recorded, so the simulator can replay exactly what the page experienced.
 */
import { chromium, type Browser, type CDPSession, type Page } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { cdpConditions, type ThrottleStep } from '../../src/core/cdpThrottle';
import type { InferenceRecord } from '../../src/core/record';
import { RunDriver, SplitScopePage, waitFor, type RunOptions } from '../../e2e/driver';
import { freePort, startTailServer } from '../../e2e/tailServer';

export interface Lab {
  page: Page;
  app: SplitScopePage;
  driver: RunDriver;
  cdp: CDPSession;
  browser: Browser;
  server: ChildProcess;
  backendLabel: string;
  chromiumVersion: string;
  close(): Promise<void>;
}

export async function openLab(options: { backend: string; chromium: string }): Promise<Lab> {
  const port = await freePort();
  const server = await startTailServer(port, 'ignore');
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: options.chromium,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--enable-unsafe-webgpu',
        '--use-webgpu-adapter=swiftshader',
      ],
    });
    const page = await browser.newPage({ baseURL: `http://localhost:${port}` });
    const app = new SplitScopePage(page);
    const driver = new RunDriver(app);
    await app.open(options.backend === 'app' ? '' : `?backend=${options.backend}`);
    await app.waitUntilReady(300_000);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const snapshot = await app.snapshot();
    const b = browser;
    return {
      page,
      app,
      driver,
      cdp,
      browser,
      server,
      backendLabel: snapshot.backend?.label ?? 'unknown',
      chromiumVersion: browser.version(),
      async close() {
        await b.close().catch(() => undefined);
        server.kill('SIGKILL');
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    server.kill('SIGKILL');
    throw error;
  }
}

export async function unthrottle(lab: Lab): Promise<void> {
  await lab.cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}

/** Page clock (performance.now() in the page) minus Node's, from the shortest of a few round trips. */
export async function pageClockOffset(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const pageNow = await page.evaluate(() => performance.now());
    const after = performance.now();
    if (after - before < best.rtt) best = { rtt: after - before, offset: pageNow - (before + after) / 2 };
  }
  return best.offset;
}

/** Waits until nothing is in flight and no record has come for a second. */
async function settle(lab: Lab, timeoutMs: number): Promise<void> {
  let seen = -1;
  await waitFor(
    async () => {
      const { counters } = await lab.app.snapshot();
      const count = (await lab.driver.records()).length;
      const settled = counters.sent === counters.answered + counters.failed && count === seen;
      seen = count;
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 750));
      return settled;
    },
    (settled) => settled,
    timeoutMs,
    'the run to settle',
  );
}

/** An unthrottled static run of `requests` requests: records for the world. */
export async function staticRun(lab: Lab, options: RunOptions, requests: number): Promise<InferenceRecord[]> {
  await unthrottle(lab);
  const k = options.imagesPerRequest ?? 16;
  await lab.driver.configure({ maxInFlight: 1, ...options, stopAfterImages: requests * k });
  await lab.driver.start();
  await lab.driver.waitForRunEnd(600_000);
  return lab.driver.records();
}

export interface StepSet {
  /** The step's planned time from the replay's start (ms), and its conditions. */
  atMs: number;
  uplinkBps: number;
  traceBps: number;
  /** Page clock when CDP acknowledged it (Node's clock converted): the conditions apply from about here. */
  setAtPage: number;
}

export interface Replay {
  records: InferenceRecord[];
  /** Page clock of the first step's acknowledgement: the segment's time 0. */
  t0Page: number;
  steps: StepSet[];
  /** Largest lateness of a step against its planned time (ms). */
  maxLateMs: number;
  seconds: number;
}

/**
 * Streams `options` while the schedule plays, for `segmentMs`; then stops and keeps stepping the
 * schedule until the request in flight has ended (an outage holds it until the next step), and
 * returns every record of the run with the conditions as set.
 */
export async function replaySegment(
  lab: Lab,
  options: RunOptions,
  schedule: readonly ThrottleStep[],
  segmentMs: number,
): Promise<Replay> {
  const started = Date.now();
  await unthrottle(lab);
  await lab.driver.configure({ maxInFlight: 1, ...options, stopAfterImages: 0 });
  const offset = await pageClockOffset(lab.page);
  const steps: StepSet[] = [];
  let stopStepping = false;
  let maxLateMs = 0;
  const acks: Promise<void>[] = [];
  const t0Node = performance.now() + 20;
  let firstSet: () => void = () => undefined;
  const firstSetPromise = new Promise<void>((resolve) => (firstSet = resolve));
  const stepping = (async () => {
    for (const step of schedule) {
      if (stopStepping) break;
      const wait = t0Node + step.atMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (stopStepping) break;
      maxLateMs = Math.max(maxLateMs, performance.now() - (t0Node + step.atMs));
      // Not awaited: a slow acknowledgement must not delay the next step (CDP keeps the order).
      const entry: StepSet = {
        atMs: step.atMs,
        uplinkBps: step.uplinkBps,
        traceBps: step.traceBps,
        setAtPage: NaN,
      };
      steps.push(entry);
      acks.push(
        lab.cdp.send('Network.emulateNetworkConditions', cdpConditions(step)).then(() => {
          entry.setAtPage = performance.now() + offset;
          if (entry === steps[0]) firstSet();
        }),
      );
    }
  })();
  await firstSetPromise;
  await lab.driver.start();
  const endAt = t0Node + segmentMs;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endAt - performance.now())));
  await lab.driver.stop();
  try {
    await settle(lab, 90_000);
  } finally {
    stopStepping = true;
    await stepping;
    await Promise.all(acks);
    await unthrottle(lab);
  }
  const records = await lab.driver.records();
  return { records, t0Page: steps[0]!.setAtPage, steps, maxLateMs, seconds: (Date.now() - started) / 1000 };
}
