/**
 * Nothing a client sends can take the tail server down (issue #12). The server runs as a child
 * process (server/index.ts), so a crash is an exit this test sees, not a crashed test runner.
 * First the issue's eight findings as fixed regression tests, then a fast-check fuzz run of every
 * frame class with a well-formed client next to it. The larger soak is bench/fuzz.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../src/core/log';
import {
  encodeOffloadRequest,
  encodeSplitRequest,
  type ErrorCode,
  type InferResult,
  type Response,
} from '../src/core/protocol';
import { TailClient } from '../src/core/tailClient';
import {
  FRAME_CLASSES,
  FuzzRunner,
  ISSUE_PACKETS,
  TARGETED_PACKETS,
  WellFormedNeighbours,
  frameArbitrary,
} from './testing/fuzzFrames';
import { connectRaw, findBundle } from './testing/helpers';
import {
  RawSession,
  msgpackFrame,
  pngOfSize,
  replyCode,
  spawnServer,
  type ChildServer,
} from './testing/hostile';

setLogLevel('error');
const location = findBundle();
const MB = 1024 * 1024;
/** Frames per class in `npm test`; bench/fuzz.ts sends 10,000 of each. */
const FRAMES_PER_CLASS = Number(process.env['SPLITSCOPE_FUZZ_FRAMES'] ?? 400);

function levelElements(): number[] {
  const manifest = JSON.parse(readFileSync(path.join(location!.publicDir, 'manifest.json'), 'utf8')) as {
    levels: { elements: number }[];
  };
  return manifest.levels.map((level) => level.elements);
}

describe.skipIf(!location)('a hostile client against the tail server (child process)', () => {
  let server: ChildServer;
  let canary: TailClient;
  let canaryFrame: Uint8Array;
  let canaryArgmax: number[];

  const alive = (): void => {
    expect(server.exit(), `server exited:\n${server.output().slice(-4000)}`).toBeNull();
  };
  /** The well-formed client on its own connection still gets the right answer. */
  const canaryCheck = async (): Promise<void> => {
    alive();
    const reply = await canary.request(canaryFrame, 10_000);
    if (!reply.ok) throw new Error(`canary failed: ${reply.error.code} ${reply.error.message}`);
    expect(reply.data.predictions.map((p) => p.argmax)).toEqual(canaryArgmax);
  };
  const session = async (): Promise<RawSession> => {
    const raw = new RawSession(server.port);
    await raw.connect();
    return raw;
  };

  beforeAll(async () => {
    server = await spawnServer();
    canary = new TailClient({ reconnection: false });
    await canary.connect(server.url);
    const elements = levelElements()[0]!;
    canaryFrame = encodeSplitRequest({
      requestId: 1,
      levelIndex: 0,
      bits: 8,
      count: 2,
      codes: new Uint8Array(2 * elements).map((_, i) => (i * 37) & 0xff),
    });
    const first = await canary.request(canaryFrame, 10_000);
    if (!first.ok) throw new Error(`canary reference failed: ${first.error.code}`);
    canaryArgmax = first.data.predictions.map((p) => p.argmax);
  }, 120_000);

  afterAll(async () => {
    canary?.close();
    if (server && !server.exit()) {
      server.kill('SIGTERM');
      await server.exited;
    }
  });

  describe('the eight findings of issue #12', () => {
    it('finding 1: an object with its own toString (as data, event name, error/disconnect argument) or 60,000 arguments ends nothing', async () => {
      const cases = TARGETED_PACKETS.filter((packet) => packet.finding === 1);
      for (const { name, frame, id } of cases) {
        const raw = await session();
        raw.send(frame);
        if (id !== null) {
          const outcome = await raw.outcome(id, 5000);
          // A packet with an ack id gets a typed bad-frame reply, or (over the decode limits) a close.
          if (outcome.kind === 'reply') expect(replyCode(outcome.packet), name).toBe('bad-frame');
          else expect(outcome.kind, name).toBe('closed');
        } else {
          expect(await raw.until(() => false, 5000), name).toBe(false);
          expect(raw.closed, `${name}: no ack id, so the socket is closed`).toBe(true);
        }
        raw.close();
        await canaryCheck();
      }
    });

    it('finding 2: an EVENT with empty data and an ack id gets a bad-frame reply, not silence', async () => {
      const raw = await session();
      raw.send(msgpackFrame({ type: 2, nsp: '/', data: [], id: 42 }));
      const outcome = await raw.outcome(42, 5000);
      expect(outcome.kind).toBe('reply');
      if (outcome.kind === 'reply') expect(replyCode(outcome.packet)).toBe('bad-frame');
      raw.close();
      await canaryCheck();
    });

    it('finding 3: an ext32 or array32 header that claims more than the frame holds is refused before allocating', async () => {
      for (const frame of [ISSUE_PACKETS['ext32Header']!, ISSUE_PACKETS['array32Header']!]) {
        const before = server.rssBytes();
        const raw = await session();
        raw.send(frame);
        expect(await raw.until(() => false, 5000)).toBe(false);
        expect(raw.closed).toBe(true);
        await canaryCheck();
        const after = server.rssBytes();
        if (before !== null && after !== null) expect(after - before).toBeLessThan(32 * MB);
        raw.close();
      }
    });

    it('finding 4: 64 PNGs of 8 KiB from a stock msgpack socket.io client are answered', async () => {
      const images = await Promise.all(Array.from({ length: 64 }, (_, i) => pngOfSize(8192, i)));
      const body = encodeOffloadRequest({ requestId: 0xffffffff, format: 'png', images });
      const stock = await connectRaw(server.url, 'msgpack');
      try {
        const reply = (await stock.timeout(20_000).emitWithAck('infer', Buffer.from(body))) as Response<
          InferResult,
          ErrorCode
        >;
        if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
        expect(reply.data.predictions).toHaveLength(64);
        expect(reply.data.requestId).toBe(0xffffffff);
      } finally {
        stock.close();
      }
      await canaryCheck();
    });

    it('finding 5 + 8b: long-polling is off: a handshake or an oversized POST gets a 400 with a reason and COOP/COEP', async () => {
      const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
      expect(handshake.status).toBe(400);
      expect(await handshake.text()).toMatch(/Transport unknown/);
      expect(handshake.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(handshake.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      const post = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=abc`, {
        method: 'POST',
        body: new Uint8Array(600_000),
      });
      expect(post.status).toBe(400);
      expect(post.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      await canaryCheck();
    });

    it('finding 6: a foreign Origin is refused on the upgrade with a clear reason, logged once; the own origin is accepted', async () => {
      for (let i = 0; i < 3; i++) {
        const foreign = new RawSession(server.port, { origin: 'http://evil.example' });
        await expect(foreign.connect()).rejects.toThrow(/origin "http:\/\/evil\.example" is not allowed/);
        expect(foreign.refusal).toMatch(/^400 /);
      }
      const logged = server.output().match(/refused a WebSocket from origin "http:\/\/evil\.example"/g) ?? [];
      expect(logged).toHaveLength(1);
      for (const origin of [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`]) {
        const own = new RawSession(server.port, { origin });
        await own.connect();
        own.send(msgpackFrame({ type: 2, nsp: '/', data: ['info'], id: 1 }));
        const outcome = await own.outcome(1, 5000);
        expect(outcome.kind === 'reply' && replyCode(outcome.packet)).toBe('ok');
        own.close();
      }
      // Same host, another port: not this server's page.
      const otherPort = new RawSession(server.port, { origin: `http://localhost:${server.port + 1}` });
      await expect(otherPort.connect()).rejects.toThrow(/not allowed/);
    });

    it("finding 8a: python-socketio's DISCONNECT (data: nil) closes cleanly, without an 'invalid payload' warning", async () => {
      const raw = await session();
      raw.send(encode({ type: 1, nsp: '/', data: null }));
      // The session is over: the server closes the connection (a request behind it is not dropped silently).
      raw.send(msgpackFrame({ type: 2, nsp: '/', data: ['info'], id: 1 }));
      expect((await raw.outcome(1, 5000)).kind).toBe('closed');
      expect(server.output()).not.toMatch(/invalid payload/);
      await canaryCheck();
    });
  });

  it(`finding 7 + fuzz: ${FRAMES_PER_CLASS} frames of each class: no exit, no silent ack, bounded RSS, the well-formed client 100% right`, async () => {
    const elements = levelElements();
    const runner = new FuzzRunner(server);
    const neighbours = new WellFormedNeighbours(server.url, canaryFrame);
    await neighbours.start();
    let baseline: number | null;
    let peak = 0;
    try {
      // Warm-up: every class once, with the neighbours running, so the allocator's and
      // onnxruntime's high-water marks of normal work are in the baseline.
      for (const cls of FRAME_CLASSES) {
        for (const frame of fc.sample(frameArbitrary(cls, elements), { numRuns: 40, seed: 1 }))
          await runner.send(frame);
      }
      baseline = server.rssBytes();
      peak = baseline ?? 0;
      for (const cls of FRAME_CLASSES) {
        await fc.assert(
          fc.asyncProperty(frameArbitrary(cls, elements), async (frame) => {
            const { verdict } = await runner.send(frame);
            peak = Math.max(peak, server.rssBytes() ?? 0);
            return verdict !== 'exited' && verdict !== 'silent' && verdict !== 'duplicate';
          }),
          { numRuns: FRAMES_PER_CLASS, seed: 12, endOnFailure: true },
        );
      }
    } finally {
      await neighbours.stop();
      runner.close();
    }
    alive();
    expect(runner.failures).toEqual([]);
    expect(neighbours.total).toBeGreaterThan(10);
    expect(neighbours.wrong).toEqual([]);
    if (baseline !== null) {
      console.warn(
        `RSS ${(baseline / MB).toFixed(1)} MB after warm-up, peak ${(peak / MB).toFixed(1)} MB: growth ${((peak - baseline) / MB).toFixed(1)} MB`,
      );
      expect(peak - baseline).toBeLessThan(20 * MB);
    }
  }, 240_000);
});
