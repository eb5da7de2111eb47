/** HTTP side: the SPA with isolation headers on every response, /healthz, HTTPS with a reused cert. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, setLogLevel } from '../src/core/log';
import { TailClient } from '../src/core/tailClient';
import { startServer, type RunningServer } from './testing/helpers';
import { loadOrCreateCertificate } from './tls';

setLogLevel('error');

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

describe('static SPA server', () => {
  let dir: string;
  let server: RunningServer;
  const gz = gzipSync(Buffer.from('IDX data'));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'splitscope-dist-'));
    mkdirSync(path.join(dir, 'assets'));
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>SplitScope</title>');
    writeFileSync(path.join(dir, 'assets', 'ort.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    writeFileSync(path.join(dir, 'assets', 'ort.mjs'), 'export {}');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'assets', 'head.onnx'), Buffer.from([8, 1, 2]));
    writeFileSync(path.join(dir, 'data', 't10k.gz'), gz);
    server = await startServer(null, { staticDir: dir });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, init?: RequestInit) => fetch(`${server.url}${p}`, init);

  it.each([
    ['/', 'text/html; charset=utf-8'],
    ['/assets/ort.wasm', 'application/wasm'],
    ['/assets/ort.mjs', 'text/javascript; charset=utf-8'],
    ['/assets/app.js', 'text/javascript; charset=utf-8'],
    ['/assets/head.onnx', 'application/octet-stream'],
    ['/data/t10k.gz', 'application/octet-stream'],
    ['/some/client/route', 'text/html; charset=utf-8'],
  ])('%s → %s with COOP/COEP/CORP', async (p, type) => {
    const res = await get(p);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    for (const [name, value] of Object.entries(ISOLATION)) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get('content-encoding')).toBeNull();
  });

  it('serves .gz bytes untouched (the browser gunzips the dataset itself)', async () => {
    const res = await get('/data/t10k.gz', { headers: { 'accept-encoding': 'gzip' } });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(gz);
    expect(res.headers.get('content-length')).toBe(String(gz.length));
  });

  it('404s missing files with an extension, refuses traversal, supports HEAD and ETags', async () => {
    const missing = await get('/assets/missing.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await get('/..%2f..%2fetc%2fpasswd')).status).toBeGreaterThanOrEqual(400);
    const head = await get('/assets/ort.wasm', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4');
    const etag = head.headers.get('etag')!;
    expect((await get('/assets/ort.wasm', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
  });

  it('answers /healthz, /metrics, and socket.io (whose long-polling is off) with the isolation headers', async () => {
    const health = await get('/healthz');
    expect(await health.json()).toMatchObject({ ok: true, bundle: null });
    expect(health.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect((await get('/metrics')).headers.get('content-type')).toContain('text/plain');
    // WebSocket only: a polling handshake is refused with engine.io's reason, not served.
    const polling = await get('/socket.io/?EIO=4&transport=polling');
    expect(polling.status).toBe(400);
    expect(await polling.json()).toMatchObject({ message: 'Transport unknown' });
    for (const [name, value] of Object.entries(ISOLATION)) expect(polling.headers.get(name)).toBe(value);
  });

  it('without a bundle, infer gets a typed unknown-config', async () => {
    const client = new TailClient({ reconnection: false });
    await client.connect(server.url);
    const response = await client.request(new Uint8Array([1, 1, 0, 0, 1, 1, 0]), 5000);
    expect(response.ok ? 'ok' : response.error.code).toBe('unknown-config');
    client.close();
  });
});

describe('HTTPS with a self-signed certificate kept in the config folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'splitscope-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the certificate once, reuses it, and serves HTTPS with it', async () => {
    const log = createLogger('test-tls');
    const first = await loadOrCreateCertificate(['localhost', '127.0.0.1'], log, dir);
    expect(first.created).toBe(true);
    const second = await loadOrCreateCertificate(['localhost', '127.0.0.1'], log, dir);
    expect(second.created).toBe(false);
    expect(second.cert).toBe(first.cert);
    // A new LAN address the certificate does not name: make a new one.
    const third = await loadOrCreateCertificate(['localhost', '127.0.0.1', '10.1.2.3'], log, dir);
    expect(third.created).toBe(true);

    const server = await startServer(null, { tls: third });
    try {
      const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>(
        (resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: server.port,
              path: '/healthz',
              ca: third.cert,
              servername: 'localhost',
            },
            (res) => {
              res.resume();
              resolve({ status: res.statusCode ?? 0, headers: res.headers });
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
      expect(status).toBe(200);
      expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
      // The socket.io client connects over wss with the same certificate.
      const client = new TailClient({
        reconnection: false,
        socketOptions: { ca: third.cert, rejectUnauthorized: true } as never,
      });
      await client.connect(`https://localhost:${server.port}`);
      const info = await client.info();
      expect(info.ok && info.data.protocolVersion).toBe(1);
      client.close();
    } finally {
      await server.close();
    }
  });
});
