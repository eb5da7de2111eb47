/**
 * The one place that listens: parses the CLI, loads the model bundle, creates the app and
 * prints where to open it. Everything else is in createApp (server/app.ts) so tests can run it.
 *
 *   tsx server/index.ts [--port 8787] [--host localhost|0.0.0.0] [--https] [--static dist | --no-static]
 *                       [--bundle fmnist] [--public-models DIR] [--server-models DIR] [--require-models]
 *                       [--batch-window-ms 2] [--max-batch 64] [--max-in-flight 16] [--max-images 64]
 *                       [--threads 1] [--inference worker|main] [--allow-origin ORIGIN]... [--cors]
 *                       [--log-level info]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, parseLogLevel, setLogLevel } from '../src/core/log';
import { createApp, DEFAULT_SHUTDOWN_GRACE_MS } from './app';
import { BundleError, bundleExists, loadBundle, type LoadedBundle } from './bundle';
import { SERVER_NODE_FLAGS, startedWithServerFlags } from './nodeFlags';
import { normalizeOrigin } from './origins';
import { configDir, loadOrCreateCertificate } from './tls';
import { lanIPv4Addresses, qrCode, serverUrls } from './urls';

const log = createLogger('server');

const HELP = `SplitScope tail server

  --port N               port (default 8787, or $PORT)
  --host H               bind address (default localhost; 0.0.0.0 for phones on the LAN)
  --https                serve HTTPS with a self-signed certificate kept in ${configDir()}
  --static DIR           serve the built SPA from DIR (default dist/)
  --no-static            serve no static files (npm run dev: Vite serves the page)
  --bundle NAME          model bundle name (default fmnist)
  --public-models DIR    folder with manifest.json and full.onnx (default public/models/<bundle>)
  --server-models DIR    folder with tail-*.onnx (default server/models/<bundle>)
  --require-models       fail when the bundle is absent (default: serve the page without inference)
  --batch-window-ms MS   dynamic batching window (default 2)
  --max-batch N          most images per ONNX run (default 64; 1 disables batching)
  --max-in-flight N      per-connection in-flight requests before 'busy' (default 16)
  --max-images N         images per request (default 64)
  --threads N            onnxruntime intra-op threads per session (default 1)
  --inference WHERE      main (default: onnxruntime on the main thread, no hand-off per run) or
                         worker (a worker thread: socket.io stays responsive during a run)
  --allow-origin ORIGIN  also accept WebSocket connections from pages of ORIGIN (repeatable), e.g.
                         --allow-origin http://localhost:5173; by default only the server's own
                         localhost and LAN origins (the URLs printed at start) on its port
  --cors                 accept WebSocket connections from pages of any origin
  --log-level L          debug | info | warn | error | silent
  --help

  The socket speaks socket.io over WebSocket only: long-polling is switched off, so no request
  can be dropped by an HTTP 413 without a reply. SIGTERM or SIGINT shut down gracefully: the
  server stops accepting, tells clients it is going away, answers what it has received (up to
  ${DEFAULT_SHUTDOWN_GRACE_MS / 1000} s) and exits; a second signal exits at once.`;

function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: 'localhost' },
      https: { type: 'boolean', default: false },
      static: { type: 'string', default: 'dist' },
      'no-static': { type: 'boolean', default: false },
      bundle: { type: 'string', default: 'fmnist' },
      'public-models': { type: 'string' },
      'server-models': { type: 'string' },
      'require-models': { type: 'boolean', default: false },
      'batch-window-ms': { type: 'string' },
      'max-batch': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'max-images': { type: 'string' },
      threads: { type: 'string' },
      inference: { type: 'string', default: 'main' },
      cors: { type: 'boolean', default: false },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (values['log-level']) {
    const level = parseLogLevel(values['log-level']);
    if (!level) throw new Error(`--log-level must be debug, info, warn, error or silent`);
    setLogLevel(level);
  }
  const port = intOption(values.port ?? process.env['PORT'], 'port', 8787);
  const host = values.host;
  const staticDir = values['no-static'] ? null : path.resolve(values.static);
  if (staticDir && !existsSync(path.join(staticDir, 'index.html'))) {
    log.warn(`${staticDir}/index.html not found: run \`npm run build\` first (or pass --no-static)`);
  }

  const location = {
    publicDir: path.resolve(values['public-models'] ?? path.join('public', 'models', values.bundle)),
    serverDir: path.resolve(values['server-models'] ?? path.join('server', 'models', values.bundle)),
  };
  let bundle: LoadedBundle | null = null;
  if (values['require-models'] || (await bundleExists(location))) {
    const started = performance.now();
    if (values.inference !== 'worker' && values.inference !== 'main') {
      throw new Error(`--inference must be worker or main, got ${JSON.stringify(values.inference)}`);
    }
    bundle = await loadBundle(location, {
      threads: intOption(values.threads, 'threads', 1),
      worker: values.inference === 'worker',
    });
    log.info(
      `bundle ${bundle.manifest.bundleId}: full + ${bundle.tails.length} tail(s) [${bundle.manifest.levels.map((l) => l.id).join(', ')}] loaded in ${(performance.now() - started).toFixed(0)} ms`,
    );
  } else {
    log.warn(
      `no model bundle at ${location.publicDir}: serving the page only, inference requests get 'unknown-config'`,
    );
  }

  const allowedOrigins = values['allow-origin'].map((value) => {
    const origin = normalizeOrigin(value);
    if (!origin)
      throw new Error(
        `--allow-origin must be an origin such as http://host:port, got ${JSON.stringify(value)}`,
      );
    return origin;
  });

  const tls = values.https
    ? await loadOrCreateCertificate(['localhost', '127.0.0.1', ...lanIPv4Addresses()], log)
    : null;
  const app = createApp(
    { bundle, logger: log },
    {
      staticDir,
      tls,
      host,
      cors: values.cors,
      allowedOrigins,
      batching: {
        windowMs: intOption(values['batch-window-ms'], 'batch-window-ms', 2),
        maxBatch: intOption(values['max-batch'], 'max-batch', 64, 1),
      },
      limits: {
        maxInFlight: intOption(values['max-in-flight'], 'max-in-flight', 16, 1),
        maxImagesPerRequest: Math.min(255, intOption(values['max-images'], 'max-images', 64, 1)),
      },
    },
  );

  await new Promise<void>((resolve, reject) => {
    app.httpServer.once('error', reject);
    app.httpServer.listen(port, host, () => resolve());
  });
  const address = app.httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const urls = serverUrls(host, actualPort, Boolean(tls));
  const lines = [`SplitScope listening (${tls ? 'HTTPS, self-signed' : 'HTTP'}):`];
  for (const url of urls.local) lines.push(`  local:  ${url}`);
  for (const url of urls.lan) lines.push(`  LAN:    ${url}`);
  if (urls.lan.length === 0 && host === 'localhost')
    lines.push('  (pass --host 0.0.0.0 --https to open it from a phone)');
  if (urls.lan.length > 0 && !tls)
    lines.push('  note: WebGPU on a phone needs a secure context; add --https for LAN use');
  if (tls) lines.push(`  certificate: ${tls.certFile} (accept it once on each device)`);
  log.info(lines.join('\n'));
  if (!startedWithServerFlags())
    log.warn(
      `started without ${SERVER_NODE_FLAGS.join(' ')} (npm start and npm run serve pass it): under connection churn RSS may rise 20 MB or more before V8 collects (server/nodeFlags.ts)`,
    );
  if (urls.lan[0]) log.info(`scan to open ${urls.lan[0]}\n${await qrCode(urls.lan[0])}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    // Whatever happens below, the process is gone within a few seconds.
    setTimeout(() => {
      log.error(`${signal}: shutdown took too long, exiting`);
      process.exit(1);
    }, DEFAULT_SHUTDOWN_GRACE_MS + 2000).unref();
    void app
      .shutdown({ graceMs: DEFAULT_SHUTDOWN_GRACE_MS, reason: signal })
      .then(() => bundle?.close())
      .then(() => {
        log.info(`${signal}: closed`);
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error(`${signal}: ${error instanceof Error ? error.message : 'shutdown failed'}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  log.error(
    error instanceof BundleError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error),
  );
  process.exit(1);
});
