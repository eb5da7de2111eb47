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
import { createWireParser, maxLegalMessageBytes, maxLegalPayloadBytes } from '../src/core/wireParser';
import { DEFAULT_LIMITS, type ServerLimits } from '../src/core/protocol';
import type { LoadedBundle } from './bundle';
import { Batcher, type BatchingOptions } from './batcher';
import { Metrics } from './metrics';
import { createOriginPolicy } from './origins';
import { createInboundGuard } from './packetGuard';
import { attachInferenceHandlers } from './socketHandlers';
import { createStaticHandler } from './static';
import { sendText, setIsolationHeaders } from './http';

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
  /** Admit WebSocket connections from pages of any origin (--cors). */
  cors?: boolean;
  /** Origins admitted besides the server's own (--allow-origin), e.g. 'http://localhost:5173'. */
  allowedOrigins?: readonly string[];
  /**
   * The address server/index.ts binds: decides the server's own origins (the localhost and LAN
   * URLs it prints). Default 'localhost'.
   */
  host?: string;
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
  /** Closes at once: in-flight requests are answered 'internal' or fail as disconnected. */
  close(): Promise<void>;
  /**
   * Graceful shutdown (SIGTERM/SIGINT): stops accepting connections, tells every client it is
   * going away ('server-closing'), answers the requests it has already received (up to graceMs),
   * then disconnects every socket and closes.
   */
  shutdown(options?: { graceMs?: number; reason?: string }): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 3000;

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

  const levelElements = deps.bundle?.manifest.levels.map((level) => level.elements) ?? [];
  // The product parser checks every inbound packet (server/packetGuard.ts); the other two exist
  // only to measure wire overhead (server/overhead.test.ts) and are not hardened.
  const parser =
    options.wireFormat === 'msgpack'
      ? msgpackParser
      : options.wireFormat === 'default'
        ? undefined
        : createWireParser(
            {},
            createInboundGuard({ maxBinaryBytes: maxLegalPayloadBytes(limits, levelElements) }),
          );
  const origins = createOriginPolicy(
    {
      host: options.host ?? 'localhost',
      https: Boolean(options.tls),
      any: options.cors ?? false,
      extra: options.allowedOrigins ?? [],
      log: log.child('origin'),
    },
    () => {
      const address = httpServer.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
  );
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    ...(parser ? { parser } : {}),
    // The largest legal request in any accepted encoding (compact frame, or msgpack from a stock
    // client); a bigger message is not ours and closes that socket (docs/protocol.md §1.3).
    maxHttpBufferSize: maxLegalMessageBytes(limits, levelElements),
    // WebSocket only: over long-polling a POST past the limit is answered 413 and dropped while the
    // session lives on, a request lost without a reply. TailClient uses WebSocket only anyway.
    transports: ['websocket'],
    // engine.io's default, stated: inflating costs CPU per message and the payloads are dense.
    perMessageDeflate: false,
    allowRequest: (req, callback) => origins.allowRequest(req, callback),
    serveClient: false,
  });
  // engine.io answers /socket.io/ requests itself (its errors included); stamp the isolation
  // headers on those too. Runs before engine.io's own request listener.
  httpServer.prependListener('request', (_req: IncomingMessage, res: ServerResponse) =>
    setIsolationHeaders(res),
  );

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
      origins.refuseAll('the tail server is shutting down');
      batcher.close();
      // A DISCONNECT packet first, so clients know the server ended the session ('io server disconnect').
      io.disconnectSockets(true);
      // io.close() closes the engine and the http server.
      void io.close(() => resolve());
      httpServer.closeAllConnections?.();
    });
    return closed;
  };

  let shuttingDown: Promise<void> | null = null;
  const shutdown = ({ graceMs = DEFAULT_SHUTDOWN_GRACE_MS, reason = 'shutdown' } = {}): Promise<void> => {
    shuttingDown ??= (async () => {
      origins.refuseAll(`the tail server is shutting down (${reason})`);
      // Stop listening; open connections stay until they are answered and disconnected below.
      httpServer.close();
      httpServer.closeIdleConnections?.();
      io.emit('server-closing', { reason, graceMs });
      log.info(`${reason}: ${metrics.inFlight} request(s) in flight, up to ${graceMs} ms to answer them`);
      const deadline = performance.now() + graceMs;
      while (metrics.inFlight > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (metrics.inFlight > 0) log.warn(`${metrics.inFlight} request(s) still queued: answered 'internal'`);
      // Queued requests are answered 'internal'; those replies go out before the sockets close.
      batcher.close();
      await new Promise((resolve) => setImmediate(resolve));
      await close();
    })();
    return shuttingDown;
  };

  return { httpServer, io, metrics, batcher, limits, close, shutdown };
}
