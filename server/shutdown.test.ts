/**
 * Graceful shutdown and the origin allow-list. Shutdown: requests already received are answered,
 * clients are told the server is going away and say so, and server/index.ts exits 0 on SIGTERM
 * within a few seconds. Origins: the server's own by default, --allow-origin and --cors open it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../src/core/log';
import { encodeSplitRequest } from '../src/core/protocol';
import { TailClient, type TailResponse } from '../src/core/tailClient';
import type { LoadedBundle } from './bundle';
import { normalizeOrigin, ownOrigins } from './origins';
import { findBundle, loadTestBundle, startServer, waitFor } from './testing/helpers';
import { RawSession, msgpackFrame, replyCode, spawnServer } from './testing/hostile';

setLogLevel('error');
const location = findBundle();

describe('origin allow-list', () => {
  it("normalises origins and lists the server's own", () => {
    expect(normalizeOrigin('http://localhost:5173')).toBe('http://localhost:5173');
    expect(normalizeOrigin('HTTP://LOCALHOST:80')).toBe('http://localhost');
    expect(normalizeOrigin('http://localhost:5173/path')).toBeNull();
    expect(normalizeOrigin('ftp://x')).toBeNull();
    expect(normalizeOrigin('null')).toBeNull();
    expect(ownOrigins('localhost', 8787, false)).toEqual([
      'http://localhost:8787',
      'http://127.0.0.1:8787',
      'http://[::1]:8787',
    ]);
    expect(ownOrigins('192.168.1.5', 8787, true)).toEqual(['https://192.168.1.5:8787']);
  });

  it('--allow-origin admits that origin only; --cors admits any; no Origin (a program) is admitted', async () => {
    const listed = await startServer(null, { allowedOrigins: ['http://localhost:5173'] });
    const open = await startServer(null, { cors: true });
    try {
      const info = async (port: number, origin?: string): Promise<string> => {
        const raw = new RawSession(port, origin ? { origin } : {});
        try {
          await raw.connect();
        } catch (error) {
          return (error as Error).message;
        }
        raw.send(msgpackFrame({ type: 2, nsp: '/', data: ['info'], id: 0 }));
        const outcome = await raw.outcome(0, 5000);
        raw.close();
        return outcome.kind === 'reply' ? (replyCode(outcome.packet) ?? 'malformed') : outcome.kind;
      };
      expect(await info(listed.port, 'http://localhost:5173')).toBe('ok');
      expect(await info(listed.port, `http://localhost:${listed.port}`)).toBe('ok');
      expect(await info(listed.port)).toBe('ok');
      expect(await info(listed.port, 'http://evil.example')).toMatch(
        /^400 origin "http:\/\/evil\.example" is not allowed .*--allow-origin http:\/\/evil\.example/,
      );
      expect(await info(listed.port, 'null')).toMatch(/not allowed/);
      expect(await info(open.port, 'http://evil.example')).toBe('ok');
    } finally {
      await listed.close();
      await open.close();
    }
  });
});

describe.skipIf(!location)('graceful shutdown', () => {
  let bundle: LoadedBundle;
  let requestId = 1;
  const frame = (count = 1): Uint8Array =>
    encodeSplitRequest({
      requestId: requestId++,
      levelIndex: 0,
      bits: 1,
      count,
      codes: new Uint8Array(count * Math.ceil(bundle.manifest.levels[0]!.elements / 8)),
    });

  beforeAll(async () => {
    bundle = (await loadTestBundle())!;
  });
  afterAll(async () => {
    await bundle?.close();
  });

  it('answers what it has received, tells clients it is going away, then disconnects them', async () => {
    // One request per model run, 64 images each: the requests queue behind each other.
    const server = await startServer(bundle, { batching: { windowMs: 0, maxBatch: 1 } });
    const client = new TailClient({ reconnection: false });
    await client.connect(server.url);
    const reasons: string[] = [];
    client.on('disconnect', ({ reason }) => reasons.push(reason ?? ''));
    const pending = Array.from({ length: 8 }, () => client.request(frame(64), 10_000));
    await waitFor(() => server.app.metrics.inFlight > 0, 5000, 'requests in flight');
    const shutdown = server.app.shutdown({ graceMs: 3000, reason: 'SIGTERM' });
    const answered = await Promise.all(pending);
    for (const response of answered) expect(response.ok, JSON.stringify(response)).toBe(true);
    // The notice came before those replies on the same socket: a new request now fails at once,
    // with the reason, instead of racing the disconnect.
    const late: TailResponse<unknown> = await client.request(frame(), 10_000);
    expect(late.ok).toBe(false);
    if (!late.ok) {
      expect(late.error.code).toBe('disconnected');
      expect(late.error.message).toMatch(/shutting down \(SIGTERM\)/);
    }
    await shutdown;
    await waitFor(() => reasons.length > 0, 5000, 'disconnect');
    expect(reasons[0]).toMatch(/the tail server is shutting down \(SIGTERM\); io server disconnect/);
    client.close();
  });

  it('server/index.ts on SIGTERM: in-flight requests answered, every request accounted for, exit 0 within a few seconds', async () => {
    const server = await spawnServer(['--batch-window-ms', '200']);
    const client = new TailClient({ reconnection: false });
    await client.connect(server.url);
    const responses: Promise<TailResponse<unknown>>[] = [];
    let sending = true;
    const stream = (async () => {
      while (sending) {
        responses.push(client.request(frame(), 10_000));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedAt = Date.now();
    server.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = Date.now() - killedAt;
    sending = false;
    await stream;
    const settled = await Promise.all(responses);
    expect(exit.code, server.output()).toBe(0);
    expect(exitMs).toBeLessThan(6000);
    const answered = settled.filter((r) => r.ok).length;
    const failed = settled.filter((r) => !r.ok);
    expect(answered + failed.length).toBe(settled.length);
    expect(answered).toBeGreaterThan(0);
    // Only requests sent after the notice (or never received) fail, and they say why.
    for (const response of failed) if (!response.ok) expect(response.error.code).toBe('disconnected');
    expect(server.output()).toMatch(/SIGTERM: closed/);
    client.close();
  });
});
