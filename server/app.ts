/**
 * createApp wires HTTP (static SPA, /healthz, /metrics) and socket.io (the inference wire) onto one
 * server. It never listens: server/index.ts does, and tests listen on port 0, so every test gets a
 * real server without port clashes.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server } from 'socket.io';
import * as msgpackParser from 'socket.io-msgpack-parser';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/core/events';
import { createLogger, type Logger } from '../src/core/log';
import { wireParser, maxLegalFrameBytes } from '../src/core/wireParser';
import { DEFAULT_LIMITS, type ServerLimits } from '../src/core/protocol';
import type { LoadedBundle } from './bundle';
import { Batcher, type BatchingOptions } from './batcher';
import { Metrics } from './metrics';
import { attachInferenceHandlers } from './socketHandlers';
import { createStaticHandler } from './static';
import { sendText, setIsolationHeaders, ISOLATION_HEADERS } from './http';

export interface AppDeps {
  /** Loaded ONNX sessions + manifest; null serves the SPA only and answers infer with 'unknown-config'. */
  bundle: LoadedBundle | null;
  logger?: Logger;
}

export type WireFormat = 'wire' | 'msgpack' | 'default';

export interface AppOptions {
  /** Folder of the built SPA; null/undefined serves no static files. */
  staticDir?: string | null;
  /** PEM key + cert: serve HTTPS instead of HTTP. */
  tls?: { key: string; cert: string } | null;
  /** Allow cross-origin socket.io clients (Vite dev server on another port). */
  cors?: boolean;
  batching?: Partial<BatchingOptions>;
  limits?: Partial<ServerLimits>;
  /** Interval of the one-line summary log; 0 disables it (tests). */
  summaryIntervalMs?: number;
  /** Which socket.io parser to use. Only 'wire' is the product; the others exist to measure overhead. */
  wireFormat?: WireFormat;
}

export interface App {
  httpServer: HttpServer;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  metrics: Metrics;
  batcher: Batcher;
  limits: ServerLimits;
  close(): Promise<void>;
}

export const DEFAULT_BATCHING: BatchingOptions = { windowMs: 2, maxBatch: 64 };

export function createApp(deps: AppDeps, options: AppOptions = {}): App {
  const log = deps.logger ?? createLogger('server');
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    ...options.limits,
    batchWindowMs: options.batching?.windowMs ?? DEFAULT_BATCHING.windowMs,
    maxBatch: options.batching?.maxBatch ?? DEFAULT_BATCHING.maxBatch,
  };
  const metrics = new Metrics();
  const batcher = new Batcher(
    { windowMs: limits.batchWindowMs, maxBatch: limits.maxBatch },
    metrics,
    log.child('batch'),
  );
  const serveStatic = options.staticDir ? createStaticHandler(options.staticDir) : null;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    setIsolationHeaders(res);
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === '/healthz') {
      sendText(
        res,
        200,
        JSON.stringify({
          ok: true,
          bundle: deps.bundle?.manifest.bundleId ?? null,
          uptimeS: Math.round(process.uptime()),
        }),
        'application/json; charset=utf-8',
      );
      return;
    }
    if (pathname === '/metrics') {
      sendText(res, 200, metrics.renderPrometheus(), 'text/plain; version=0.0.4; charset=utf-8');
      return;
    }
    if (!serveStatic) {
      sendText(res, 404, 'not found (static serving disabled)\n');
      return;
    }
    serveStatic(req, res)
      .then((handled) => {
        if (!handled) sendText(res, 405, 'method not allowed\n');
      })
      .catch((error: unknown) => {
        log.error(`static ${pathname}: ${String(error)}`);
        if (!res.headersSent) sendText(res, 500, 'internal error\n');
        else res.destroy();
      });
  };

  const httpServer: HttpServer = options.tls
    ? (createHttpsServer(
        { key: options.tls.key, cert: options.tls.cert },
        onRequest,
      ) as unknown as HttpServer)
    : createHttpServer(onRequest);

  const parser =
    options.wireFormat === 'msgpack'
      ? msgpackParser
      : options.wireFormat === 'default'
        ? undefined
        : wireParser;
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    ...(parser ? { parser } : {}),
    // Exactly what the largest legal request needs: a bigger frame is not ours and closes the socket.
    maxHttpBufferSize: maxLegalFrameBytes(
      limits,
      deps.bundle?.manifest.levels.map((level) => level.elements) ?? [],
    ),
    cors: options.cors ? { origin: true } : undefined,
    // WebSocket only would lose clients behind proxies that break upgrades; polling stays allowed.
    serveClient: false,
  });
  // socket.io answers /socket.io/ requests itself; give those responses the same isolation headers.
  io.engine.on('headers', (headers: Record<string, string>) => {
    Object.assign(headers, ISOLATION_HEADERS);
  });

  attachInferenceHandlers(io, { bundle: deps.bundle, batcher, metrics, limits, log: log.child('infer') });

  const summaryIntervalMs = options.summaryIntervalMs ?? 60_000;
  const summaryTimer =
    summaryIntervalMs > 0
      ? setInterval(() => log.info(metrics.summaryLine(io.engine.clientsCount)), summaryIntervalMs)
      : null;
  summaryTimer?.unref();

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      if (summaryTimer) clearInterval(summaryTimer);
      batcher.close();
      // io.close() disconnects every socket and closes the http server.
      void io.close(() => resolve());
      httpServer.closeAllConnections?.();
    });
    return closed;
  };

  return { httpServer, io, metrics, batcher, limits, close };
}
