/**
 * The "virtual device": what the browser does, in Node. It runs `head` with onnxruntime-node on
 * 1,000 test images, encodes with the shared codec, sends through TailClient to a real server,
 * and must get exactly as many correct answers as the evaluator (server/eval/evaluate.ts) counts
 * for that configuration on the same images; then offload with PNG must reproduce the full
 * model's answers exactly.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBottleneck, packedLength } from '../src/core/codec';
import { setLogLevel } from '../src/core/log';
import type { ModelManifest } from '../src/core/manifest';
import {
  encodeOffloadRequest,
  writeSplitHeader,
  splitHeaderLength,
  type InferResult,
} from '../src/core/protocol';
import { TailClient, type TailResponse } from '../src/core/tailClient';
import { loadBundle, type LoadedBundle } from './bundle';
import { evaluateBundle, type EvalResult } from './eval/evaluate';
import { loadTestSet, type TestSet } from './eval/testSet';
import { findBundle, findTestData, startServer, type RunningServer } from './testing/helpers';

setLogLevel('error');
const location = findBundle();
const dataDir = findTestData();
const IMAGES = 1000;
const PER_REQUEST = 16;
const IN_FLIGHT = 8;

/** Sends all frames keeping at most `inFlight` outstanding, in order of the results. */
async function sendAll(
  client: TailClient,
  frames: Uint8Array[],
  inFlight: number,
): Promise<TailResponse<InferResult>[]> {
  const results: TailResponse<InferResult>[] = new Array(frames.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < frames.length) {
      const i = next++;
      results[i] = await client.request(frames[i]!, 30_000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return results;
}

describe.skipIf(!location || !dataDir)(
  'virtual device: head + codec on the device, tail on the server',
  () => {
    let bundle: LoadedBundle;
    let manifest: ModelManifest;
    let server: RunningServer;
    let client: TailClient;
    let test: TestSet;
    let evaluation: EvalResult;
    let levelIndex: number;
    const bits = 2;

    beforeAll(async () => {
      bundle = await loadBundle(location!, { threads: 1 });
      manifest = bundle.manifest;
      // The middle level (c4 in the shipped bundle): the app's default configuration.
      levelIndex = Math.floor((manifest.levels.length - 1) / 2);
      test = await loadTestSet(dataDir!, IMAGES);
      // The evaluator on the same images, limited to this level to keep the suite quick.
      const level = manifest.levels[levelIndex]!;
      evaluation = await evaluateBundle({ ...manifest, levels: [level], earlyExits: [] }, test, {
        bundleDir: location!.publicDir,
        tailsDir: location!.serverDir,
        batchSize: 500,
        threads: 1,
      });
      expect(evaluation.problems).toEqual([]);
      server = await startServer(bundle);
      client = new TailClient({ reconnection: false });
      await client.connect(server.url);
    }, 120_000);

    afterAll(async () => {
      client?.close();
      await server?.close();
      await bundle?.close();
    });

    it(`split: correct count over ${IMAGES} images equals the evaluator's, image by image`, async () => {
      const level = manifest.levels[levelIndex]!;
      const head = await ort.InferenceSession.create(path.join(location!.publicDir, level.head.file), {
        intraOpNumThreads: 1,
      });
      const perImage = packedLength(level.elements, bits);
      const frames: Uint8Array[] = [];
      let encodeMs = 0;
      for (let start = 0, id = 1; start < IMAGES; start += PER_REQUEST, id++) {
        const count = Math.min(PER_REQUEST, IMAGES - start);
        const input = new ort.Tensor('float32', test.images.subarray(start * 784, (start + count) * 784), [
          count,
          1,
          28,
          28,
        ]);
        const z = (await head.run({ [level.head.input]: input }))[level.head.output]!.data as Float32Array;
        const t0 = performance.now();
        // The device writes the header and packs codes straight behind it: one buffer, no copies.
        const frame = new Uint8Array(splitHeaderLength(id) + count * perImage);
        const at = writeSplitHeader(frame, { requestId: id, levelIndex, bits, count });
        for (let i = 0; i < count; i++)
          encodeBottleneck(
            z.subarray(i * level.elements, (i + 1) * level.elements),
            bits,
            frame,
            at + i * perImage,
          );
        encodeMs += performance.now() - t0;
        frames.push(frame);
      }
      await head.release();
      expect(encodeMs / IMAGES).toBeLessThan(0.1);

      const responses = await sendAll(client, frames, IN_FLIGHT);
      const predicted = new Uint8Array(IMAGES);
      let row = 0;
      for (const [i, response] of responses.entries()) {
        if (!response.ok) throw new Error(`request ${i}: ${response.error.code} ${response.error.message}`);
        expect(response.data.requestId).toBe(i + 1);
        expect(response.meta.wireBytesUp - frames[i]!.length).toBeLessThanOrEqual(4);
        for (const p of response.data.predictions) predicted[row++] = p.argmax;
      }
      expect(row).toBe(IMAGES);
      const correct = predicted.reduce((n, p, i) => n + (p === test.labels[i] ? 1 : 0), 0);
      const expected = evaluation.levels[0]!.bits.find((b) => b.bits === bits)!;
      expect(correct).toBe(expected.correct);
      expect(Array.from(predicted)).toEqual(Array.from(evaluation.predictions[`${level.id}-b${bits}`]!));
    });

    it('offload PNG: the full model answers exactly as the evaluator (first 256 images)', async () => {
      const n = 256;
      const pngs = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          sharp(Buffer.from(test.raw.pixels.subarray(i * 784, (i + 1) * 784)), {
            raw: { width: 28, height: 28, channels: 1 },
          })
            .png()
            .toBuffer(),
        ),
      );
      const frames: Uint8Array[] = [];
      for (let start = 0; start < n; start += PER_REQUEST) {
        frames.push(
          encodeOffloadRequest({
            requestId: start + 1,
            format: 'png',
            images: pngs.slice(start, start + PER_REQUEST).map((b) => new Uint8Array(b)),
          }),
        );
      }
      const responses = await sendAll(client, frames, IN_FLIGHT);
      const predicted = responses.flatMap((r) => {
        if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
        return r.data.predictions.map((p) => p.argmax);
      });
      expect(predicted).toEqual(Array.from(evaluation.predictions['full']!.subarray(0, n)));
    });
  },
);
