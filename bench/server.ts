/**
 * Tail server throughput under K simulated devices on loopback, with dynamic batching and
 * without (batch 1).
 *
 *   npm run bench:server -- [--seconds 20] [--devices 1,8,32] [--images 1] [--bits 2] [--window-ms 2]
 *
 * The server runs as its own process (server/index.ts, as in production) so the devices' client
 * work does not share its event loop. Each device is a TailClient with one request outstanding:
 * it sends the next request as soon as the ack arrives. Latency is the device-side round trip.
 * Mean batch size comes from the server's /metrics (images per ONNX run). Writes
 * bench/results/server.json and bench/results/server.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBottleneck, packedLength } from '../src/core/codec';
import { createLogger, setLogLevel } from '../src/core/log';
import { encodeSplitRequest } from '../src/core/protocol';
import { TailClient } from '../src/core/tailClient';
import { percentile } from '../server/metrics';
import { REPO_ROOT, findBundle } from '../server/testing/helpers';

const log = createLogger('bench:server');

interface Scenario {
  batching: boolean;
  devices: number;
}

interface ScenarioResult extends Scenario {
  seconds: number;
  requests: number;
  images: number;
  errors: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  meanBatch: number;
  batchSizes: Record<string, number>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startServerProcess(
  port: number,
  batching: boolean,
  windowMs: number,
  maxImages: number,
): Promise<ChildProcess> {
  const bundle = findBundle();
  if (!bundle)
    throw new Error('no model bundle (public/models/fmnist or .cache/quick): nothing to benchmark');
  const args = [
    path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'),
    path.join(REPO_ROOT, 'server/index.ts'),
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--no-static',
    '--require-models',
    '--public-models',
    bundle.publicDir,
    '--server-models',
    bundle.serverDir,
    '--batch-window-ms',
    batching ? String(windowMs) : '0',
    '--max-batch',
    batching ? '64' : '1',
    '--max-in-flight',
    String(Math.max(16, maxImages)),
    '--log-level',
    'warn',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return child;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error('server did not start within 60 s');
}

async function batchStats(
  port: number,
): Promise<{ sum: number; count: number; buckets: Record<string, number> }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const buckets: Record<string, number> = {};
  for (const m of text.matchAll(/^splitscope_batch_size_bucket\{le="([^"]+)"\} (\d+)$/gm))
    buckets[m[1]!] = Number(m[2]);
  return { sum: value('splitscope_batch_size_sum'), count: value('splitscope_batch_size_count'), buckets };
}

async function runScenario(
  scenario: Scenario,
  seconds: number,
  frame: Uint8Array,
  images: number,
  windowMs: number,
): Promise<ScenarioResult> {
  const port = await freePort();
  const child = await startServerProcess(port, scenario.batching, windowMs, images);
  const clients = Array.from({ length: scenario.devices }, () => new TailClient({ reconnection: false }));
  try {
    await Promise.all(clients.map((c) => c.connect(`http://127.0.0.1:${port}`)));
    let measuring = false;
    let stop = false;
    const latencies: number[] = [];
    let requests = 0;
    let errors = 0;
    const device = async (client: TailClient): Promise<void> => {
      while (!stop) {
        const response = await client.request(frame, 10_000);
        if (!measuring) continue;
        if (response.ok) {
          requests++;
          latencies.push(response.meta.rttMs);
        } else {
          errors++;
        }
      }
    };
    const running = clients.map(device);
    // Warm-up: JIT, onnxruntime arenas, TCP.
    await new Promise((r) => setTimeout(r, Math.min(2000, seconds * 200)));
    const before = await batchStats(port);
    measuring = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const elapsed = (performance.now() - started) / 1000;
    const after = await batchStats(port);
    stop = true;
    await Promise.all(running);
    latencies.sort((a, b) => a - b);
    const batchSizes: Record<string, number> = {};
    for (const [le, n] of Object.entries(after.buckets)) batchSizes[le] = n - (before.buckets[le] ?? 0);
    return {
      ...scenario,
      seconds: elapsed,
      requests,
      images: requests * images,
      errors,
      throughput: (requests * images) / elapsed,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
      meanBatch: (after.sum - before.sum) / Math.max(1, after.count - before.count),
      batchSizes,
    };
  } finally {
    clients.forEach((c) => c.close());
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      devices: { type: 'string', default: '1,8,32' },
      images: { type: 'string', default: '1' },
      bits: { type: 'string', default: '2' },
      'window-ms': { type: 'string', default: '2' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'bench/results') },
    },
  });
  setLogLevel('info');
  const seconds = Number(values.seconds);
  const images = Number(values.images);
  const bits = Number(values.bits);
  const windowMs = Number(values['window-ms']);
  const devices = values.devices.split(',').map(Number);
  const bundle = findBundle()!;
  const manifest = JSON.parse(await fs.readFile(path.join(bundle.publicDir, 'manifest.json'), 'utf8')) as {
    bundleId: string;
    levels: { id: string; elements: number }[];
  };
  const levelIndex = Math.floor((manifest.levels.length - 1) / 2);
  const level = manifest.levels[levelIndex]!;
  const values01 = Float32Array.from(
    { length: level.elements * images },
    (_, i) => ((i * 2654435761) % 1000) / 1000,
  );
  const codes = new Uint8Array(images * packedLength(level.elements, bits));
  for (let i = 0; i < images; i++)
    encodeBottleneck(
      values01.subarray(i * level.elements, (i + 1) * level.elements),
      bits,
      codes,
      i * packedLength(level.elements, bits),
    );
  const frame = encodeSplitRequest({ requestId: 1, levelIndex, bits, count: images, codes });

  const results: ScenarioResult[] = [];
  for (const k of devices) {
    for (const batching of [false, true]) {
      log.info(
        `K=${k} ${batching ? `batching (window ${windowMs} ms, max 64)` : 'batch 1'}: ${seconds} s...`,
      );
      const result = await runScenario({ batching, devices: k }, seconds, frame, images, windowMs);
      log.info(
        `  ${result.throughput.toFixed(0)} inferences/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, mean batch ${result.meanBatch.toFixed(2)}, errors ${result.errors}`,
      );
      results.push(result);
    }
  }

  const environment = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverage: os.loadavg(),
    bundle: `${manifest.bundleId} (${bundle.publicDir.replace(REPO_ROOT + '/', '')})`,
    config: `${level.id} at ${bits} bits, ${images} image(s) per request (${frame.length} B body)`,
    seconds,
    windowMs,
    onnxThreads: 1,
  };
  await fs.mkdir(values.out, { recursive: true });
  await fs.writeFile(
    path.join(values.out, 'server.json'),
    JSON.stringify({ environment, results }, null, 2) + '\n',
  );

  const lines: string[] = [];
  lines.push('# Tail server benchmark');
  lines.push('');
  lines.push(`Generated by \`npm run bench:server -- --seconds ${seconds}\` on ${environment.date}.`);
  lines.push(
    `Machine: ${environment.cpus} × ${environment.cpuModel}, Node ${environment.node}, load average at the end ${environment.loadAverage.map((l) => l.toFixed(1)).join(' / ')}. ` +
      `Bundle ${environment.bundle}; ${environment.config}; onnxruntime-node, 1 intra-op thread per session.`,
  );
  lines.push('');
  lines.push(
    'Each device is a TailClient on loopback with one request outstanding (it sends the next as soon as the ack arrives). The server is a separate process (`server/index.ts`). Latency is the device-side round trip. "Batch 1" is `--max-batch 1 --batch-window-ms 0`; "batching" is the default (window 2 ms, at most 64 images per ONNX run).',
  );
  lines.push('');
  lines.push('| devices K | mode | inferences/s | p50 ms | p99 ms | mean batch | errors |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    lines.push(
      `| ${r.devices} | ${r.batching ? 'batching' : 'batch 1'} | ${r.throughput.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.meanBatch.toFixed(2)} | ${r.errors} |`,
    );
  }
  lines.push('');
  for (const k of devices) {
    const one = results.find((r) => r.devices === k && !r.batching)!;
    const batched = results.find((r) => r.devices === k && r.batching)!;
    lines.push(
      `- K=${k}: batching gives ${(batched.throughput / one.throughput).toFixed(2)}× the throughput of batch 1; p99 ${batched.p99Ms.toFixed(2)} ms vs ${one.p99Ms.toFixed(2)} ms.`,
    );
  }
  await fs.writeFile(path.join(values.out, 'server.md'), lines.join('\n') + '\n');
  log.info(
    `wrote ${path.join(values.out, 'server.md')} and server.json\n${lines.slice(-(devices.length * 3 + 4)).join('\n')}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
