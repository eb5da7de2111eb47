/**
 * The emulated device slowdown: labelled as emulated wherever it shows, carried by every record,
 * and (on request, as a timing check) measured: device time at k× against 1×, on WASM and WebGPU,
 * and what DevTools' own CPU throttle (CDP Emulation.setCPUThrottlingRate) does to each.
 *
 *   SPLITSCOPE_PERF=1 SPLITSCOPE_SLOWDOWN_REPORT=bench/results npx playwright test e2e/slowdown.spec.ts
 *
 * writes bench/results/slowdown-wasm.md and slowdown-webgpu.md (each backend runs in its own
 * Playwright project).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import type { InferenceRecord } from '../src/core/record';
import { RunDriver, SplitScopePage, expect, test, useBackend, type RunOptions } from './fixtures';

const FACTORS = [1, 2, 8, 32] as const;
const RUNS = 3;
/** Requests per factor and run. */
const ROUNDS = 5;
const PERF = Boolean(process.env.SPLITSCOPE_PERF);
const report: string[] = [];

test.describe.configure({ mode: 'serial' });
test.use({ trace: 'off', screenshot: 'off' });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function deviceTimes(
  app: SplitScopePage,
  options: RunOptions,
  requests: number,
): Promise<InferenceRecord[]> {
  const driver = new RunDriver(app);
  const perRequest = options.imagesPerRequest ?? 16;
  await driver.configure({ ...options, stopAfterImages: perRequest * requests, maxInFlight: 1 });
  await driver.start();
  await driver.waitForRunEnd(600_000);
  return (await driver.records()).filter((record) => record.mode === options.mode);
}

/** One request (the Step button) at slowdown k; resolves with its record once it has ended. */
async function stepAt(app: SplitScopePage, k: number): Promise<InferenceRecord> {
  const driver = new RunDriver(app);
  await app.testId('controls.slowdown').selectOption(String(k));
  const before = (await driver.records()).length;
  await app.testId('controls.step').click();
  await expect(app.testId('controls.step')).toBeEnabled({ timeout: 120_000 });
  const records = await driver.records();
  expect(records.length).toBe(before + 1);
  const record = records[records.length - 1]!;
  expect(record.slowdown).toBe(k);
  return record;
}

/** A busy loop's time on the page's main thread and in a dedicated worker, in ms. */
async function busyLoops(page: Page): Promise<{ mainMs: number; workerMs: number }> {
  return page.evaluate(async () => {
    const loop = () => {
      const from = performance.now();
      let x = 0;
      for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1000003;
      return { ms: performance.now() - from, x };
    };
    const mainMs = loop().ms;
    const source = `onmessage = () => { const from = performance.now(); let x = 0;
      for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1000003; postMessage(performance.now() - from + x * 0); };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    const workerMs = await new Promise<number>((resolve) => {
      worker.onmessage = (event) => resolve(event.data as number);
      worker.postMessage(null);
    });
    worker.terminate();
    return { mainMs, workerMs };
  });
}

for (const backend of ['webgpu', 'wasm'] as const) {
  const tag = backend === 'wasm' ? ' @no-webgpu' : '';
  // SwiftShader runs a 16-image head for ~0.5 s; one image per request keeps 32× affordable there.
  const perRequest = backend === 'wasm' ? 16 : 1;
  test.describe(`device slowdown on ${backend}${tag}`, () => {
    let page: Page;
    let app: SplitScopePage;

    test.beforeAll(async ({ browser }) => {
      page = await browser.newPage();
      app = new SplitScopePage(page);
      await app.open();
      await app.waitUntilReady(240_000);
      await useBackend(app, backend);
    });

    test.afterAll(async () => {
      await page.close();
      const folder = process.env.SPLITSCOPE_SLOWDOWN_REPORT;
      if (PERF && folder && report.length > 0)
        writeFileSync(path.join(folder, `slowdown-${backend}.md`), `${report.join('\n')}\n`);
    });

    test(`is labelled as emulated, and every record says which slowdown it ran at${tag}`, async () => {
      // On SwiftShader this exceeded 5 min on the loaded shared machine (not yet understood): WASM only for now.
      test.skip(backend === 'webgpu' && !PERF, 'slow on SwiftShader; runs with SPLITSCOPE_PERF=1');
      test.setTimeout(300_000);
      await expect(app.testId('status.slowdown')).toHaveCount(0);
      await app.testId('controls.slowdown').selectOption('8');
      await expect(app.testId('status.slowdown')).toHaveText('Device slowdown: 8× (emulated)');
      await expect(app.testId('device.slowdown-note')).toContainText('Emulated 8× slower device');
      await expect(app.testId('controls.slowdown').locator('option:checked')).toHaveText(
        '8× slower (emulated)',
      );
      for (const mode of ['on-device', 'split'] as const) {
        const records = await deviceTimes(
          app,
          mode === 'split'
            ? { mode, levelId: 'c4', bits: 2, exitThreshold: 0.9, slowdown: 8, imagesPerRequest: perRequest }
            : { mode, slowdown: 8, imagesPerRequest: perRequest },
          3,
        );
        expect(records).toHaveLength(3);
        expect(records.every((record) => record.ok && record.slowdown === 8)).toBe(true);
      }
      // The predictions table states the slowdown it predicts for.
      await expect(app.testId('predictions.context')).toContainText('8× slower (emulated)');
      await app.testId('controls.slowdown').selectOption('1');
      await expect(app.testId('status.slowdown')).toHaveCount(0);
      app.expectNoConsoleErrors();
    });

    test(`timing: device time at k× is k × the time at 1× (SPLITSCOPE_PERF=1)${tag}`, async () => {
      test.skip(!PERF, 'timing check, run with SPLITSCOPE_PERF=1');
      test.setTimeout(1_200_000);
      const rows: string[] = [];
      const cases = [
        { name: 'on-device (full model)', options: { mode: 'on-device' } as RunOptions },
        {
          name: 'split c4 with exit at 0.9 (head + exit)',
          options: { mode: 'split', levelId: 'c4', bits: 2, exitThreshold: 0.9 } as RunOptions,
        },
      ];
      const failures: string[] = [];
      for (const { name, options } of cases) {
        const ratios = new Map<number, number[]>();
        const medians = new Map<number, number[]>();
        const driver = new RunDriver(app);
        await driver.configure({ ...options, imagesPerRequest: perRequest, maxInFlight: 1 });
        // One untimed request first: the first run at a batch size warms the sessions.
        await stepAt(app, 1);
        for (let run = 0; run < RUNS; run++) {
          // Factors interleaved round by round, so that the load of this shared machine falls
          // on every factor alike; each factor's median over the rounds against 1×'s.
          const times = new Map<number, number[]>(FACTORS.map((k) => [k, []]));
          for (let round = 0; round < ROUNDS; round++)
            for (const k of FACTORS) times.get(k)!.push((await stepAt(app, k)).phases.deviceMs);
          const base = median(times.get(1)!);
          for (const k of FACTORS) {
            const m = median(times.get(k)!);
            medians.set(k, [...(medians.get(k) ?? []), m]);
            ratios.set(k, [...(ratios.get(k) ?? []), m / base]);
          }
        }
        for (const k of FACTORS) {
          const r = ratios.get(k)!;
          const m = medians.get(k)!;
          rows.push(
            `| ${backend} | ${name} | ${perRequest} | ${k}× | ${m.map((v) => v.toFixed(1)).join(' / ')} | ${r.map((v) => v.toFixed(2)).join(' / ')} | ${r.map((v) => ((v / k - 1) * 100).toFixed(1)).join(' / ')} |`,
          );
          for (const value of r)
            if (Math.abs(value / k - 1) > 0.2)
              failures.push(`${backend} ${name} at ${k}×: ratio ${value.toFixed(2)}`);
        }
      }
      await app.testId('controls.slowdown').selectOption('1');

      // DevTools' CPU throttle, as shipped: the same runs at 1× slowdown under rate 1 and rate 4.
      const cdp = await page.context().newCDPSession(page);
      const throttleRows: string[] = [];
      for (const rate of [1, 4] as const) {
        await cdp.send('Emulation.setCPUThrottlingRate', { rate });
        const loops = await busyLoops(page);
        const onDevice = await deviceTimes(
          app,
          { mode: 'on-device', slowdown: 1, imagesPerRequest: perRequest },
          9,
        );
        const split = await deviceTimes(
          app,
          { mode: 'split', levelId: 'c4', bits: 2, slowdown: 1, imagesPerRequest: perRequest },
          9,
        );
        throttleRows.push(
          `| ${backend} | ${rate}× | ${loops.mainMs.toFixed(0)} | ${loops.workerMs.toFixed(0)} | ${median(onDevice.slice(1).map((r) => r.phases.deviceMs)).toFixed(1)} | ${median(split.slice(1).map((r) => r.phases.deviceMs)).toFixed(1)} | ${median(split.slice(1).map((r) => r.phases.totalMs)).toFixed(1)} |`,
        );
      }
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      if (report.length === 0)
        report.push(
          '# Device slowdown: measured',
          '',
          'Written by `SPLITSCOPE_PERF=1 SPLITSCOPE_SLOWDOWN_REPORT=bench/results npx playwright test e2e/slowdown.spec.ts`',
          `on ${new Date().toISOString().slice(0, 10)}. Headless WebGPU is SwiftShader (a software GPU on the CPU).`,
          '',
        );
      report.push(
        `## ${backend}`,
        '',
        'Median device time (head + exit, or full model) per run, its ratio to the same run at 1×, and the',
        `ratio's error against k (±20% allowed), over ${RUNS} runs of ${ROUNDS} requests per factor, factors interleaved.`,
        '',
        '| backend | candidate | images/request | slowdown | median device ms (runs) | ratio to 1× (runs) | error % (runs) |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
        "DevTools' CPU throttle (CDP `Emulation.setCPUThrottlingRate`), slowdown 1×: a busy loop on the page's main",
        'thread and in a dedicated worker, and the models as the app runs them.',
        '',
        '| backend | CPU throttle | main-thread loop ms | worker loop ms | on-device device ms | split device ms | split total ms |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...throttleRows,
        '',
      );
      console.warn(report.join('\n'));
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });
}
