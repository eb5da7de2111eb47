/**
 * End-to-end benchmark: the real app in headless Chromium (Debian's, WebGPU on SwiftShader),
 * the real tail server, and Chromium's own DevTools throttle, over a grid of modes × configurations
 * × images per request × uplink bandwidths. Writes bench/results/e2e.json and e2e.md; plots come
 * from bench/plot_e2e.py.
 *
 *   npx tsx bench/e2e.ts [--images 500] [--bandwidths 10000,2000,256,64] [--per-request 1,16]
 *                        [--bits 2,4,8] [--backend webgpu|wasm] [--quick] [--skip-on-device]
 *                        [--slowdowns 1,8] [--exits 0.9] [--levels c2,c4,c8]
 *   npx tsx bench/e2e.ts --merge a.json,b.json [--out bench/results]
 *
 * The slowest bandwidth takes as long as all the others together (every message waits for whole
 * 1500-byte quanta), so a full grid is run as two processes side by side, e.g.
 * `--bandwidths 64 --out /tmp/a` and then `--bandwidths 10000,2000,256 --skip-on-device --no-build
 * --out /tmp/b`, and merged; the environment of the report says so.
 *
 * Every cell runs at each emulated device slowdown of --slowdowns (the device's model work runs k
 * times, see the Device card), and every split configuration also with each early-exit threshold
 * of --exits (split rows "c4-b2-x0.9": the images the exit is sure of are answered on the device).
 *
 * It drives the page through its controls (e2e/driver.ts), exactly as a person would.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { ModelManifest } from '../src/core/manifest';
import { PHASE_KEYS, type InferenceRecord, type Mode } from '../src/core/record';
import { median, quantile } from '../src/core/stats';
import { RunDriver, SplitScopePage, Throttle, type RunOptions } from '../e2e/driver';
import { freePort, startTailServer } from '../e2e/tailServer';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    bandwidths: { type: 'string', default: '10000,2000,256,64' },
    'per-request': { type: 'string', default: '1,16' },
    bits: { type: 'string', default: '2,4,8' },
    backend: { type: 'string', default: 'webgpu' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    'skip-on-device': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    merge: { type: 'string' },
    slowdowns: { type: 'string', default: '1,8' },
    exits: { type: 'string', default: '0.9' },
    levels: { type: 'string' },
  },
});
const images = Number(values.images ?? (values.quick ? 48 : 500));
const bandwidthsKbps = values.bandwidths!.split(',').map(Number);
const perRequestSizes = values['per-request']!.split(',').map(Number);
const bitWidths = values.bits!.split(',').map(Number);
const backend = values.backend === 'wasm' ? 'wasm' : 'webgpu';
const slowdowns = values.slowdowns!.split(',').map(Number);
const exitThresholds = values.exits ? values.exits.split(',').filter(Boolean).map(Number) : [];

interface Cell {
  mode: Mode;
  config: string;
  imagesPerRequest: number;
  /** null: on-device, which sends nothing and is run once per request size. */
  uplinkKbps: number | null;
  /** Emulated device slowdown factor the cell ran at (absent in reports from before it existed: 1). */
  slowdown?: number;
  /** Split with an early exit: the share of images answered on the device. */
  exitedShare?: number;
  images: number;
  requests: number;
  failed: number;
  accuracy: number;
  medianTotalMs: number;
  p95TotalMs: number;
  medianPerImageMs: number;
  phaseMedians: Record<string, number>;
  wireBytesPerRequest: number;
  wireBytesPerImage: number;
  payloadBytesPerImage: number;
  seconds: number;
}

function summarize(records: InferenceRecord[], cell: Omit<Cell, keyof ReturnType<typeof stats>>): Cell {
  return { ...cell, ...stats(records) };
}

function stats(records: InferenceRecord[]) {
  const ok = records.filter((record) => record.ok);
  const imagesDone = ok.flatMap((record) => record.images);
  const totals = ok.map((record) => record.phases.totalMs);
  const phaseMedians: Record<string, number> = {};
  for (const key of PHASE_KEYS) phaseMedians[key] = median(ok.map((record) => record.phases[key]));
  const uplinks = ok
    .map((record) => record.phases.uplinkMs)
    .filter((value): value is number => value !== null);
  if (uplinks.length > 0) phaseMedians.uplinkMs = median(uplinks);
  const wire = ok.reduce((sum, record) => sum + record.wireBytes, 0);
  const exited = imagesDone.filter((image) => image.earlyExit).length;
  const payload = ok.reduce((sum, record) => sum + record.payloadBytes, 0);
  return {
    images: imagesDone.length,
    requests: records.length,
    failed: records.length - ok.length,
    accuracy:
      imagesDone.filter((image) => image.predicted === image.label).length / Math.max(1, imagesDone.length),
    medianTotalMs: median(totals),
    p95TotalMs: quantile(totals, 0.95),
    medianPerImageMs: median(ok.map((record) => record.phases.totalMs / record.images.length)),
    phaseMedians,
    // Per message sent: a request whose images all exit sends none.
    wireBytesPerRequest: wire / Math.max(1, ok.filter((record) => record.wireBytes > 0).length),
    wireBytesPerImage: wire / Math.max(1, imagesDone.length),
    payloadBytesPerImage: payload / Math.max(1, imagesDone.length),
    exitedShare: exited / Math.max(1, imagesDone.length),
    seconds: 0,
  };
}

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync('public/models/fmnist/manifest.json', 'utf8')) as ModelManifest;
  if (!values['no-build']) {
    const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('vite build failed');
  }
  const port = await freePort();
  const server = await startTailServer(port, 'inherit');
  const browser = await chromium.launch({
    executablePath: process.env.SPLITSCOPE_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      ...(backend === 'webgpu' ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : []),
    ],
  });
  const cells: Cell[] = [];
  const started = Date.now();
  try {
    const page = await browser.newPage({ baseURL: `http://localhost:${port}` });
    const app = new SplitScopePage(page);
    const driver = new RunDriver(app);
    await app.open(`?backend=${backend}`);
    await app.waitUntilReady(300_000);
    const throttle = await Throttle.attach(page);
    const snapshot = await app.snapshot();
    const backendLabel = snapshot.backend?.label ?? backend;

    const runCell = async (
      options: RunOptions,
      mode: Mode,
      config: string,
      uplinkKbps: number | null,
      perRequest: number,
      slowdown: number,
    ) => {
      const cellStarted = Date.now();
      await driver.configure({
        ...options,
        slowdown,
        imagesPerRequest: perRequest,
        stopAfterImages: images,
        maxInFlight: 1,
      });
      await driver.start();
      await driver.waitForRunEnd(1_800_000);
      const records = (await driver.records()).filter((record) => record.mode === mode);
      const configs = new Set(records.map((record) => record.config));
      if (configs.size !== 1 || !configs.has(config))
        throw new Error(`cell ${config}: the page ran ${[...configs].join(', ')}`);
      const cell = summarize(records, { mode, config, imagesPerRequest: perRequest, uplinkKbps, slowdown });
      cell.seconds = (Date.now() - cellStarted) / 1000;
      if (cell.images < images || cell.failed > 0)
        console.warn(
          `cell ${mode} ${config}: ${cell.images} of ${images} images answered, ${cell.failed} requests failed`,
        );
      cells.push(cell);
      process.stdout.write(
        `${mode.padEnd(9)} ${config.padEnd(11)} ×${String(perRequest).padStart(2)} ${uplinkKbps === null ? '   -' : String(uplinkKbps).padStart(5)} kbit/s ${String(slowdown).padStart(2)}× slower: ` +
          `median ${cell.medianTotalMs.toFixed(1)} ms, p95 ${cell.p95TotalMs.toFixed(1)} ms, ${cell.wireBytesPerImage.toFixed(1)} B/image, ` +
          `acc ${(cell.accuracy * 100).toFixed(2)}% (${cell.images} images, ${cell.seconds.toFixed(0)} s)\n`,
      );
    };

    const levels = values.levels
      ? manifest.levels.filter((level) => values.levels!.split(',').includes(level.id))
      : manifest.levels;
    for (const slowdown of slowdowns) {
      for (const perRequest of perRequestSizes) {
        await throttle.uplink(null);
        if (!values['skip-on-device'])
          await runCell({ mode: 'on-device' }, 'on-device', 'full', null, perRequest, slowdown);
        for (const kbps of bandwidthsKbps) {
          await throttle.uplink(kbps * 1000);
          await runCell({ mode: 'offload', format: 'png' }, 'offload', 'png', kbps, perRequest, slowdown);
          await runCell(
            { mode: 'offload', format: 'webp', webpQuality: 50 },
            'offload',
            'webp-q50',
            kbps,
            perRequest,
            slowdown,
          );
          for (const level of levels) {
            for (const bits of bitWidths) {
              for (const exitThreshold of [null, ...exitThresholds]) {
                if (exitThreshold !== null && !manifest.earlyExits.some((exit) => exit.level === level.id))
                  continue;
                await runCell(
                  { mode: 'split', levelId: level.id, bits, exitThreshold },
                  'split',
                  exitThreshold === null ? `${level.id}-b${bits}` : `${level.id}-b${bits}-x${exitThreshold}`,
                  kbps,
                  perRequest,
                  slowdown,
                );
              }
            }
          }
        }
      }
    }
    await throttle.uplink(null);

    const environment = {
      date: new Date().toISOString(),
      backend: backendLabel,
      webgpuNote:
        backend === 'webgpu'
          ? 'WebGPU here is SwiftShader, a software GPU that runs on the CPU: device compute is not representative of a phone GPU.'
          : 'WASM backend (onnxruntime-web on the CPU with SIMD; the backend line above gives its thread count). Chosen over WebGPU for the grid because WebGPU in headless Chromium here is SwiftShader, a software GPU on the same 2 CPU cores (~0.5 s per 16-image head run), which would stretch the grid to hours and still say nothing about a phone GPU. Device compute is therefore CPU compute on this machine, not phone-representative either.',
      chromium: browser.version(),
      cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      bundle: `${manifest.bundleId}@${manifest.training.commit}`,
      imagesPerCell: images,
      slowdowns: `${slowdowns.join(', ')} (emulated: the device's model work runs k times, paced to k × the median of its recent single runs; 1 = this machine's real speed)`,
      throttle: 'CDP Network.emulateNetworkConditions, upload only (download unthrottled, latency 0)',
      seconds: (Date.now() - started) / 1000,
    };
    writeReport(environment, cells);
  } finally {
    await browser.close();
    server.kill('SIGKILL');
  }
}

function writeReport(environment: Record<string, unknown>, cells: Cell[]): void {
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(`${values.out}/e2e.json`, JSON.stringify({ environment, cells }, null, 1));
  writeFileSync(`${values.out}/e2e.md`, markdown(environment, cells));
  const plot = spawnSync('/usr/bin/python3', ['bench/plot_e2e.py', `${values.out}/e2e.json`, values.out!], {
    stdio: 'inherit',
  });
  if (plot.status !== 0) console.error('plotting failed (needs /usr/bin/python3 with matplotlib)');
  console.log(`wrote ${values.out}/e2e.md and e2e.json`);
}

/** Several runs (e.g. two bandwidth lanes run side by side) as one report. */
function merge(files: string[]): void {
  const runs = files.map(
    (file) =>
      JSON.parse(readFileSync(file, 'utf8')) as { environment: Record<string, unknown>; cells: Cell[] },
  );
  const first = runs[0]!.environment;
  const environment = {
    ...first,
    seconds: Math.max(...runs.map((run) => Number(run.environment.seconds))),
    runs: `${runs.length} processes side by side on this machine (one per group of bandwidths), merged`,
  };
  const order = (cell: Cell) => [
    cell.slowdown ?? 1,
    cell.imagesPerRequest,
    cell.uplinkKbps === null ? -1 : -cell.uplinkKbps,
  ];
  const cells = runs
    .flatMap((run) => run.cells)
    .sort((a, b) => {
      const [ra, rb] = [order(a), order(b)];
      return ra[0]! - rb[0]! || ra[1]! - rb[1]! || ra[2]! - rb[2]!;
    });
  writeReport(environment, cells);
}

function markdown(environment: Record<string, unknown>, cells: Cell[]): string {
  const lines = [
    '# End-to-end benchmark: latency, bytes and accuracy under a DevTools throttle',
    '',
    `Generated by \`npm run bench:e2e\` on ${environment.date}.`,
    '',
    ...Object.entries(environment).map(([key, value]) => `- **${key}**: ${String(value)}`),
    '',
    'Each row streamed the same test images (file order from index 0) through the real page, one request in flight.',
    'Latency is per request, from the start of device compute to the reply; phases are medians over the requests',
    "(they need not add up to the median total). Bytes are the WebSocket messages' payload bytes, as the app measured them.",
    '*Device slowdown* is emulated: at k× every model the device runs ran k times in a row, paced to k × the median of its recent single runs (1× = this machine).',
    'Split rows ending in -x0.9 ran the early exit at confidence ≥ 0.9: *exited* is the share of images answered on the',
    'device, which send nothing (0 B), and wire bytes per request average over requests that sent a message.',
    '',
    '| device slowdown (emulated) | uplink kbit/s | images/request | mode | config | median total ms | p95 ms | per image ms | device | encode | network | server queue | server compute | wire B/request | wire B/image | exited | accuracy | images |',
    '| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const f = (value: number | undefined, digits = 1) =>
    value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
  for (const cell of cells) {
    const p = cell.phaseMedians;
    lines.push(
      `| ${cell.slowdown ?? 1}× | ${cell.uplinkKbps ?? '–'} | ${cell.imagesPerRequest} | ${cell.mode} | ${cell.config} | ${f(cell.medianTotalMs)} | ${f(cell.p95TotalMs)} | ${f(cell.medianPerImageMs, 2)} | ${f(p.deviceMs)} | ${f(p.encodeMs, 2)} | ${f(p.networkMs)} | ${f(p.serverQueueMs, 2)} | ${f(p.serverComputeMs)} | ${f(cell.wireBytesPerRequest, 0)} | ${f(cell.wireBytesPerImage)} | ${cell.config.includes('-x') ? `${((cell.exitedShare ?? 0) * 100).toFixed(1)}%` : '–'} | ${(cell.accuracy * 100).toFixed(2)}% | ${cell.images} |`,
    );
  }
  lines.push(
    '',
    '![latency against bandwidth](e2e-latency.png)',
    '',
    '![accuracy against bytes](e2e-accuracy-bytes.png)',
    '',
  );
  return lines.join('\n');
}

(values.merge ? Promise.resolve(merge(values.merge.split(','))) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
