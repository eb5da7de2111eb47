/**
 * Integration tests: a real server on a random port, real socket.io-client, the real bundle (or
 * the quick test bundle). Every bad input gets a typed error, the process keeps serving, and a
 * second client ("canary") keeps getting correct answers throughout.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBottleneck, packedLength } from '../src/core/codec';
import { setLogLevel } from '../src/core/log';
import {
  encodeOffloadRequest,
  encodeSplitRequest,
  topK,
  type ErrorCode,
  type InferResult,
  type Response,
} from '../src/core/protocol';
import { TailClient, type TailResponse } from '../src/core/tailClient';
import type { LoadedBundle } from './bundle';
import {
  connectRaw,
  findBundle,
  loadTestBundle,
  startServer,
  waitFor,
  type RunningServer,
} from './testing/helpers';

setLogLevel('error');
const location = findBundle();

function randomCodes(elements: number, bits: number, count: number, seed: number): Uint8Array {
  let state = seed >>> 0 || 1;
  const values = new Float32Array(elements);
  const out = new Uint8Array(count * packedLength(elements, bits));
  for (let i = 0; i < count; i++) {
    for (let e = 0; e < elements; e++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      values[e] = state / 2 ** 32;
    }
    encodeBottleneck(values, bits, out, i * packedLength(elements, bits));
  }
  return out;
}

function randomImage(seed: number): Uint8Array {
  let state = seed >>> 0 || 7;
  const pixels = new Uint8Array(784);
  for (let p = 0; p < 784; p++) {
    state = (Math.imul(state, 22695477) + 1) >>> 0;
    // Mostly dark background with a bright blob, like Fashion-MNIST.
    const x = p % 28;
    const y = Math.floor(p / 28);
    pixels[p] = Math.abs(x - 14) < 8 && Math.abs(y - 14) < 10 ? 128 + (state >>> 25) : state >>> 29;
  }
  return pixels;
}

function expectError<T>(response: Response<T, ErrorCode>, code: ErrorCode): void {
  if (response.ok) throw new Error(`expected error ${code}, got ok`);
  expect(response.error.code).toBe(code);
  expect(typeof response.error.message).toBe('string');
}

function expectOk<T>(response: TailResponse<T> | Response<T, ErrorCode>): T {
  if (!response.ok) throw new Error(`expected ok, got ${response.error.code}: ${response.error.message}`);
  return response.data;
}

describe.skipIf(!location)(
  'tail server over socket.io (bundle: ' + (location?.publicDir ?? 'none') + ')',
  () => {
    let bundle: LoadedBundle;
    let server: RunningServer;
    let client: TailClient;
    let canary: TailClient;
    let canaryCheck: () => Promise<void>;
    let requestId = 1;

    beforeAll(async () => {
      bundle = (await loadTestBundle())!;
      server = await startServer(bundle, { limits: { maxInFlight: 64 } });
      client = new TailClient({ reconnection: false });
      canary = new TailClient({ reconnection: false });
      await Promise.all([client.connect(server.url), canary.connect(server.url)]);

      // The canary sends one fixed split request and compares with the tail run locally.
      const level = 0;
      const bits = 4;
      const elements = bundle.manifest.levels[level]!.elements;
      const codes = randomCodes(elements, bits, 2, 99);
      const expected = await expectedSplit(bundle, level, bits, codes, 2);
      canaryCheck = async () => {
        const response = await canary.request(
          encodeSplitRequest({ requestId: 77, levelIndex: level, bits, count: 2, codes }),
          10_000,
        );
        const data = expectOk(response);
        expect(data.predictions.map((p) => p.argmax)).toEqual(expected.map((p) => p.argmax));
      };
    });

    afterAll(async () => {
      client?.close();
      canary?.close();
      await server?.close();
      await bundle?.close();
    });

    async function expectedSplit(
      b: LoadedBundle,
      level: number,
      bits: number,
      codes: Uint8Array,
      count: number,
    ) {
      const { decodeBottleneck } = await import('../src/core/codec');
      const elements = b.manifest.levels[level]!.elements;
      const input = new Float32Array(count * elements);
      for (let i = 0; i < count; i++)
        decodeBottleneck(codes, elements, bits, i * packedLength(elements, bits), input, i * elements);
      const logits = await b.tails[level]!.run(input, count);
      const classes = b.manifest.classes.length;
      return Array.from({ length: count }, (_, i) => topK(logits, i * classes, classes));
    }

    it('answers info with the protocol version, levels and limits', async () => {
      const info = expectOk(await client.info());
      expect(info.protocolVersion).toBe(1);
      expect(info.bundleId).toBe(bundle.manifest.bundleId);
      expect(info.levels.map((l) => l.id)).toEqual(bundle.manifest.levels.map((l) => l.id));
      expect(info.levels[0]!.bytesPerImage[1]).toBe(packedLength(bundle.manifest.levels[0]!.elements, 2));
      expect(info.limits.maxImagesPerRequest).toBe(64);
    });

    it('answers split requests of 1 and 16 images with the tail run locally, every level', async () => {
      for (const [level, entry] of bundle.manifest.levels.entries()) {
        for (const [count, bits] of [
          [1, 2],
          [16, 8],
        ] as const) {
          const codes = randomCodes(entry.elements, bits, count, level * 31 + count);
          const id = requestId++;
          const response = await client.request(
            encodeSplitRequest({ requestId: id, levelIndex: level, bits, count, codes }),
            10_000,
          );
          const data = expectOk(response);
          const expected = await expectedSplit(bundle, level, bits, codes, count);
          expect(data.requestId).toBe(id);
          expect(data.mode).toBe('split');
          expect(data.predictions).toHaveLength(count);
          for (const [i, prediction] of data.predictions.entries()) {
            expect(prediction.argmax).toBe(expected[i]!.argmax);
            expect(prediction.topk).toHaveLength(3);
            expect(prediction.topk[0]![1]).toBeCloseTo(expected[i]!.topk[0]![1], 5);
          }
          // The bytes the parser put on the wire: 1 kind + ack varint + 1 event code + body.
          expect(response.meta.wireBytesUp).toBeGreaterThanOrEqual(codes.length + 9);
          expect(response.meta.wireBytesUp - codes.length).toBeLessThanOrEqual(16);
          expect(response.meta.wireBytesDown).toBeGreaterThan(0);
          const t = data.timings;
          expect(t.totalMs).toBeGreaterThanOrEqual(t.computeMs);
          expect(t.queuedMs).toBeGreaterThanOrEqual(0);
          expect(data.serverSentAt).toBeGreaterThanOrEqual(data.serverReceivedAt);
          expect(data.batchSize).toBeGreaterThanOrEqual(count);
        }
      }
    });

    it('offload: PNG, WebP (lossless) and raw give the full model answers exactly', async () => {
      const images = Array.from({ length: 5 }, (_, i) => randomImage(i + 1));
      const pixels = new Float32Array(images.length * 784);
      images.forEach((img, i) => img.forEach((v, p) => (pixels[i * 784 + p] = v / 255)));
      const logits = await bundle.full.run(pixels, images.length);
      const classes = bundle.manifest.classes.length;
      const expected = images.map((_, i) => topK(logits, i * classes, classes));
      const toPng = (img: Uint8Array) =>
        sharp(Buffer.from(img), { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toBuffer();
      const toWebp = (img: Uint8Array) =>
        sharp(Buffer.from(img), { raw: { width: 28, height: 28, channels: 1 } })
          .webp({ lossless: true })
          .toBuffer();
      const encoded = {
        png: await Promise.all(images.map(toPng)),
        webp: await Promise.all(images.map(toWebp)),
        raw: images,
      };
      for (const format of ['png', 'webp', 'raw'] as const) {
        const response = await client.request(
          encodeOffloadRequest({
            requestId: requestId++,
            format,
            images: encoded[format].map((b) => new Uint8Array(b)),
          }),
          10_000,
        );
        const data = expectOk(response);
        expect(data.mode).toBe('offload');
        expect(data.predictions.map((p) => p.argmax)).toEqual(expected.map((p) => p.argmax));
        data.predictions.forEach((p, i) => expect(p.topk[0]![1]).toBeCloseTo(expected[i]!.topk[0]![1], 5));
      }
    });

    it('batches concurrent requests for the same model and reports batch sizes', async () => {
      const elements = bundle.manifest.levels[0]!.elements;
      const before = server.app.metrics.batchRuns;
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          client.request(
            encodeSplitRequest({
              requestId: requestId++,
              levelIndex: 0,
              bits: 3,
              count: 1,
              codes: randomCodes(elements, 3, 1, 500 + i),
            }),
            10_000,
          ),
        ),
      );
      const sizes = responses.map((r) => expectOk(r).batchSize);
      expect(Math.max(...sizes)).toBeGreaterThan(1);
      expect(server.app.metrics.batchRuns - before).toBeLessThan(12);
    });

    it('answers probes with the received byte count', async () => {
      const response = await client.probe(new Uint8Array(20_000), 5000);
      expect(expectOk(response).receivedBytes).toBe(20_000);
      expect(response.meta.wireBytesUp).toBe(20_003);
      expectError(
        await client.probe(new Uint8Array(server.app.limits.maxProbeBytes + 1), 5000),
        'bad-length',
      );
    });

    describe('bad input: typed errors, server keeps serving, other clients unaffected', () => {
      const elements = () => bundle.manifest.levels[0]!.elements;
      const valid = (over: Partial<Parameters<typeof encodeSplitRequest>[0]> = {}) =>
        encodeSplitRequest({
          requestId: requestId++,
          levelIndex: 0,
          bits: 2,
          count: 1,
          codes: randomCodes(elements(), 2, 1, 3),
          ...over,
        });

      const cases: [string, () => Uint8Array | Promise<Uint8Array>, ErrorCode][] = [
        ['wrong protocol version', () => Object.assign(valid(), { 0: 2 }), 'bad-version'],
        ['unknown level', () => valid({ levelIndex: 99 }), 'unknown-config'],
        ['unknown mode', () => Object.assign(valid(), { 1: 9 }), 'unknown-config'],
        [
          'unknown image format',
          () =>
            Object.assign(
              encodeOffloadRequest({ requestId: 5, format: 'raw', images: [new Uint8Array(784)] }),
              { 3: 7 },
            ),
          'unknown-config',
        ],
        [
          'payload one byte short',
          () => {
            const f = valid();
            return f.subarray(0, f.length - 1);
          },
          'bad-length',
        ],
        [
          'payload one byte long',
          () => valid({ codes: new Uint8Array(packedLength(elements(), 2) + 1) }),
          'bad-length',
        ],
        [
          'payload for 2 images, count says 3',
          () => valid({ count: 3, codes: randomCodes(elements(), 2, 2, 4) }),
          'bad-length',
        ],
        ['image count 0', () => valid({ count: 0, codes: new Uint8Array(0) }), 'bad-count'],
        ['image count 65', () => valid({ count: 65, codes: randomCodes(elements(), 2, 65, 5) }), 'bad-count'],
        ['bits 0', () => valid({ bits: 0, codes: new Uint8Array(0) }), 'bad-bits'],
        ['bits 9', () => valid({ bits: 9, codes: new Uint8Array(packedLength(elements(), 9)) }), 'bad-bits'],
        ['truncated header', () => valid().subarray(0, 4), 'bad-frame'],
        ['empty body', () => new Uint8Array(0), 'bad-frame'],
        [
          'truncated offload image',
          () => {
            const f = encodeOffloadRequest({ requestId: 6, format: 'raw', images: [new Uint8Array(784)] });
            return f.subarray(0, 100);
          },
          'bad-length',
        ],
        [
          'raw image of the wrong size',
          () => encodeOffloadRequest({ requestId: 7, format: 'raw', images: [new Uint8Array(783)] }),
          'bad-length',
        ],
        [
          'undecodable PNG',
          () =>
            encodeOffloadRequest({
              requestId: 8,
              format: 'png',
              images: [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5])],
            }),
          'bad-image',
        ],
        [
          'WebP bytes declared as PNG',
          async () => {
            const webp = await sharp(Buffer.from(randomImage(3)), {
              raw: { width: 28, height: 28, channels: 1 },
            })
              .webp()
              .toBuffer();
            return encodeOffloadRequest({ requestId: 9, format: 'png', images: [new Uint8Array(webp)] });
          },
          'bad-image',
        ],
      ];

      for (const [name, frame, code] of cases) {
        it(`${name} → ${code}`, async () => {
          expectError(await client.request(await frame(), 5000), code);
          await canaryCheck();
        });
      }

      it('random garbage bodies always get a typed error', async () => {
        let state = 12345;
        const codes = new Set<string>();
        for (let i = 0; i < 40; i++) {
          const length = 1 + ((i * 37) % 300);
          const body = new Uint8Array(length);
          for (let b = 0; b < length; b++)
            body[b] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
          const response = await client.request(body, 5000);
          if (response.ok) throw new Error('garbage was accepted');
          codes.add(response.error.code);
        }
        expect(
          [...codes].every((c) =>
            ['bad-version', 'bad-frame', 'unknown-config', 'bad-length', 'bad-count', 'bad-bits'].includes(c),
          ),
        ).toBe(true);
        await canaryCheck();
      });

      it('non-binary payloads (string, number, object, missing) → bad-payload', async () => {
        const raw = await connectRaw(server.url);
        try {
          for (const payload of ['hello', 42, { a: 1 }, [1, 2, 3]]) {
            const reply = (await raw.timeout(5000).emitWithAck('infer', payload)) as Response<
              InferResult,
              ErrorCode
            >;
            expectError(reply, 'bad-payload');
          }
          expectError(
            (await raw.timeout(5000).emitWithAck('infer')) as Response<InferResult, ErrorCode>,
            'bad-payload',
          );
          // An unknown event with an ack gets a typed answer, not a timeout.
          expectError(
            (await raw.timeout(5000).emitWithAck('nope', new Uint8Array(3))) as Response<never, ErrorCode>,
            'bad-frame',
          );
        } finally {
          raw.close();
        }
        await canaryCheck();
      });

      it('a compact frame with an unknown event code → bad-frame reply', async () => {
        const raw = await connectRaw(server.url);
        try {
          const reply = new Promise<unknown>((resolve) => {
            // Ack id 0 is the first one this socket would use; register it by hand.
            (raw as unknown as { acks: Record<number, (arg: unknown) => void> }).acks[0] = resolve;
          });
          raw.io.engine.write(new Uint8Array([0x01, 0x00, 0x7f, 1, 2, 3]) as unknown as string);
          expectError((await reply) as Response<never, ErrorCode>, 'bad-frame');
        } finally {
          raw.close();
        }
      });

      it('random non-socket.io messages close only that connection', async () => {
        for (const first of [0x00, 0x55, 0x81, 0xde, 0x01]) {
          const raw = await connectRaw(server.url);
          const closed = new Promise<void>((resolve) => raw.once('disconnect', () => resolve()));
          const garbage = new Uint8Array([first, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
          raw.io.engine.write(garbage as unknown as string);
          await closed;
          raw.close();
        }
        // A text frame (the default parser's format) is not ours either.
        const raw = await connectRaw(server.url);
        const closed = new Promise<void>((resolve) => raw.once('disconnect', () => resolve()));
        raw.io.engine.write('2["infer","x"]');
        await closed;
        raw.close();
        await canaryCheck();
      });

      it('an oversized frame closes that socket (maxHttpBufferSize)', async () => {
        const raw = await connectRaw(server.url);
        const closed = new Promise<void>((resolve) => raw.once('disconnect', () => resolve()));
        // The largest legal message is an offload request of 64 × maxImageBytes (~0.5 MB); 2 MB is not legal.
        raw.emit('probe', new Uint8Array(2 * 1024 * 1024));
        await closed;
        raw.close();
        await canaryCheck();
      });
    });

    it('exposes /metrics in Prometheus text and /healthz', async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/splitscope_requests_total\{mode="split"\} [1-9]/);
      expect(metrics).toMatch(/splitscope_errors_total\{code="bad-length"\} [1-9]/);
      expect(metrics).toMatch(/splitscope_batch_size_bucket\{le="\+Inf"\} [1-9]/);
      expect(metrics).toMatch(/splitscope_request_latency_ms\{quantile="0.99"\} [0-9.]+/);
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { ok: boolean; bundle: string };
      expect(health).toMatchObject({ ok: true, bundle: bundle.manifest.bundleId });
    });

    describe('limits, timeouts and disconnects (slow batch window)', () => {
      let slow: RunningServer;
      beforeAll(async () => {
        slow = await startServer(bundle, {
          batching: { windowMs: 300, maxBatch: 64 },
          limits: { maxInFlight: 3 },
        });
      });
      afterAll(async () => {
        await slow?.close();
      });
      const frame = () =>
        encodeSplitRequest({
          requestId: requestId++,
          levelIndex: 0,
          bits: 1,
          count: 1,
          codes: randomCodes(bundle.manifest.levels[0]!.elements, 1, 1, 8),
        });

      it('past maxInFlight a connection gets busy, not a queue', async () => {
        const c = new TailClient({ reconnection: false });
        await c.connect(slow.url);
        const responses = await Promise.all(Array.from({ length: 6 }, () => c.request(frame(), 5000)));
        expect(responses.filter((r) => r.ok)).toHaveLength(3);
        responses.filter((r) => !r.ok).forEach((r) => expectError(r, 'busy'));
        // Each connection has its own budget.
        c.close();
      });

      it('a request without a reply in time ends as timeout', async () => {
        const c = new TailClient({ reconnection: false });
        await c.connect(slow.url);
        expectError(await c.request(frame(), 50), 'timeout');
        expect(c.inFlight).toBe(0);
        c.close();
      });

      it('a disconnect fails in-flight requests with disconnected, and later requests immediately', async () => {
        const c = new TailClient({ reconnection: false });
        await c.connect(slow.url);
        let disconnects = 0;
        c.on('disconnect', () => disconnects++);
        const pending = [c.request(frame(), 5000), c.request(frame(), 5000)];
        await waitFor(() => slow.app.metrics.inFlight > 0, 2000, 'requests in flight');
        slow.app.io.disconnectSockets(true);
        for (const response of await Promise.all(pending)) expectError(response, 'disconnected');
        expect(c.inFlight).toBe(0);
        expect(disconnects).toBe(1);
        expectError(await c.request(frame(), 5000), 'disconnected');
        c.close();
      });
    });
  },
);
