/**
 * Shared by the server tests and benchmarks: find a model bundle, start a real app on a random
 * port, and open raw socket.io clients with a chosen parser.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import * as msgpackParser from 'socket.io-msgpack-parser';
import { createLogger } from '../../src/core/log';
import { wireParser } from '../../src/core/wireParser';
import { createApp, type App, type AppOptions, type WireFormat } from '../app';
import { loadBundle, type BundleLocation, type LoadedBundle } from '../bundle';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The committed bundle (public/models/fmnist + server/models/fmnist) when it is there, else a
 * quick bundle in .cache/quick (`python3 -m training.train --quick --out .cache/quick/public
 * --tails .cache/quick/server --no-eval`), else null (tests that need models are skipped; on a
 * fresh clone the committed bundle is present). SPLITSCOPE_TEST_BUNDLE=PUBLIC_DIR:SERVER_DIR overrides.
 */
export function findBundle(): BundleLocation | null {
  const override = process.env['SPLITSCOPE_TEST_BUNDLE'];
  const candidates: BundleLocation[] = [];
  if (override) {
    const [publicDir, serverDir] = override.split(':');
    if (publicDir && serverDir)
      candidates.push({ publicDir: path.resolve(publicDir), serverDir: path.resolve(serverDir) });
  }
  candidates.push(
    {
      publicDir: path.join(REPO_ROOT, 'public/models/fmnist'),
      serverDir: path.join(REPO_ROOT, 'server/models/fmnist'),
    },
    {
      publicDir: path.join(REPO_ROOT, '.cache/quick/public'),
      serverDir: path.join(REPO_ROOT, '.cache/quick/server'),
    },
  );
  return candidates.find((c) => existsSync(path.join(c.publicDir, 'manifest.json'))) ?? null;
}

/** Folder with the Fashion-MNIST test .gz files: the shipped copy, else Debian's package. */
export function findTestData(): string | null {
  const candidates = [path.join(REPO_ROOT, 'public/data/fashion-mnist'), '/usr/share/datasets/fashion-mnist'];
  return candidates.find((dir) => existsSync(path.join(dir, 't10k-images-idx3-ubyte.gz'))) ?? null;
}

export interface RunningServer {
  app: App;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(
  bundle: LoadedBundle | null,
  options: AppOptions = {},
): Promise<RunningServer> {
  const app = createApp(
    { bundle, logger: createLogger('test-server') },
    { summaryIntervalMs: 0, ...options },
  );
  await new Promise<void>((resolve) => app.httpServer.listen(0, '127.0.0.1', resolve));
  const port = (app.httpServer.address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export async function loadTestBundle(threads = 1): Promise<LoadedBundle | null> {
  const location = findBundle();
  return location ? loadBundle(location, { threads }) : null;
}

/** A raw socket.io client (no TailClient) with the given parser, connected over WebSocket only. */
export async function connectRaw(url: string, format: WireFormat = 'wire'): Promise<Socket> {
  const parser = format === 'wire' ? wireParser : format === 'msgpack' ? msgpackParser : undefined;
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(parser ? { parser } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
