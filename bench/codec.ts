/**
 * Codec throughput and its cost relative to a split inference's device-side work.
 *
 *   npx tsx bench/codec.ts [--ms 300]
 *
 * Throughput is reported as MB/s of float32 bottleneck input for encode (quantize + pack) and
 * of float32 output for decode (unpack + dequantize). The "share" column compares the encode of
 * one image's bottleneck with running `head` on one image in onnxruntime-node on this CPU (the
 * browser's WASM/WebGPU head is slower, so the share on a real device is smaller still).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { decodeBottleneck, encodeBottleneck, packedLength } from '../src/core/codec';
import { createLogger } from '../src/core/log';
import { encodeSplitRequest } from '../src/core/protocol';
import { TailClient } from '../src/core/tailClient';
import { loadBundle } from '../server/bundle';
import { findBundle, startServer } from '../server/testing/helpers';

const log = createLogger('bench:codec');

function timeIt(fn: () => void, minMs: number): number {
  // Warm up so the JIT has compiled the hot loop before we measure.
  for (let i = 0; i < 50; i++) fn();
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 20; i++) fn();
    iterations += 20;
    now = performance.now();
  }
  return (now - start) / iterations;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ms: { type: 'string', default: '300' } } });
  const minMs = Number(values.ms);
  const elementsList = [98, 196, 392];
  const random = new Float32Array(392 * 64);
  for (let i = 0; i < random.length; i++) random[i] = Math.random();

  let headMs: number | null = null;
  const bundle = findBundle();
  if (bundle) {
    const manifest = JSON.parse(
      await import('node:fs/promises').then((fs) =>
        fs.readFile(path.join(bundle.publicDir, 'manifest.json'), 'utf8'),
      ),
    ) as {
      levels: { head: { file: string; input: string } }[];
    };
    const level = manifest.levels[Math.floor((manifest.levels.length - 1) / 2)]!;
    const file = path.join(bundle.publicDir, level.head.file);
    if (existsSync(file)) {
      const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
      const input = new ort.Tensor('float32', new Float32Array(784).fill(0.5), [1, 1, 28, 28]);
      for (let i = 0; i < 20; i++) await session.run({ [level.head.input]: input });
      const runs = 200;
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await session.run({ [level.head.input]: input });
      headMs = (performance.now() - t0) / runs;
      await session.release();
    }
  }

  // A whole split inference as the device sees it on loopback: head + encode + request round trip.
  let splitMs: number | null = null;
  let rttMs: number | null = null;
  if (bundle && headMs !== null) {
    const loaded = await loadBundle(bundle, { threads: 1 });
    const server = await startServer(loaded, { batching: { windowMs: 0, maxBatch: 64 } });
    const client = new TailClient({ reconnection: false });
    await client.connect(server.url);
    const levelIndex = Math.floor((loaded.manifest.levels.length - 1) / 2);
    const elements = loaded.manifest.levels[levelIndex]!.elements;
    const frame = encodeSplitRequest({
      requestId: 1,
      levelIndex,
      bits: 2,
      count: 1,
      codes: encodeBottleneck(random.subarray(0, elements), 2),
    });
    for (let i = 0; i < 50; i++) await client.request(frame, 5000);
    const runs = 300;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await client.request(frame, 5000);
    rttMs = (performance.now() - t0) / runs;
    splitMs = headMs + rttMs;
    client.close();
    await server.close();
    await loaded.close();
  }

  const rows: string[] = [];
  rows.push(
    '| elements | bits | packed B | encode µs/img | encode MB/s | decode µs/img | decode MB/s | encode / head | encode / split inference |',
  );
  rows.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const out = new Uint8Array(392 * 64);
  const deq = new Float32Array(392 * 64);
  for (const elements of elementsList) {
    for (const bits of [1, 2, 4, 8]) {
      const images = 16;
      const perImage = packedLength(elements, bits);
      const encMs =
        timeIt(() => {
          for (let i = 0; i < images; i++)
            encodeBottleneck(random.subarray(i * elements, (i + 1) * elements), bits, out, i * perImage);
        }, minMs) / images;
      const decMs =
        timeIt(() => {
          for (let i = 0; i < images; i++)
            decodeBottleneck(out, elements, bits, i * perImage, deq, i * elements);
        }, minMs) / images;
      const mb = (elements * 4) / 1e6;
      rows.push(
        `| ${elements} | ${bits} | ${perImage} | ${(encMs * 1000).toFixed(2)} | ${(mb / (encMs / 1000)).toFixed(0)} | ${(decMs * 1000).toFixed(2)} | ${(mb / (decMs / 1000)).toFixed(0)} | ${headMs ? ((encMs / headMs) * 100).toFixed(2) + ' %' : 'n/a'} | ${splitMs ? ((encMs / splitMs) * 100).toFixed(3) + ' %' : 'n/a'} |`,
      );
    }
  }
  log.info(
    `head (onnxruntime-node, 1 image, 1 thread): ${headMs ? headMs.toFixed(3) + ' ms' : 'no bundle'}; ` +
      `loopback split request round trip (1 image): ${rttMs ? rttMs.toFixed(3) + ' ms' : 'n/a'}; ` +
      `split inference = head + round trip: ${splitMs ? splitMs.toFixed(3) + ' ms' : 'n/a'}\n${rows.join('\n')}`,
  );
  process.exit(0);
}

void main();
