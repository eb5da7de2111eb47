import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The tail server's port in `npm run dev`; Vite proxies the socket to it.
const devServerPort = Number(process.env.SPLITSCOPE_DEV_SERVER_PORT ?? 8787);

// WASM threads need a cross-origin isolated page, in dev exactly as in production.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const ortDist = path.resolve('node_modules/onnxruntime-web/dist');
const ortVersion = (
  JSON.parse(readFileSync('node_modules/onnxruntime-web/package.json', 'utf8')) as { version: string }
).version;
/** Served under a versioned folder so an upgrade never mixes cached JS with new WASM. */
const ortBase = `ort-${ortVersion}/`;
const ortFiles = ['ort.bundle.min.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

/**
 * Ships onnxruntime-web's own prebuilt module and its .wasm, byte for byte from the pinned
 * package, instead of letting the bundler re-chunk it: ORT starts its WASM thread workers from its
 * own module URL, and a re-chunked copy imports the app's main chunk, which cannot run in a worker.
 */
function onnxruntimeAssets(): Plugin {
  return {
    name: 'splitscope:onnxruntime-assets',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const match = request.url?.match(/^\/ort-[^/]+\/([^?]+)/);
        const file = match?.[1];
        if (!file || !ortFiles.includes(file)) return next();
        response.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        for (const [name, value] of Object.entries(isolationHeaders)) response.setHeader(name, value);
        createReadStream(path.join(ortDist, file)).pipe(response);
      });
    },
    generateBundle() {
      for (const file of ortFiles) {
        this.emitFile({
          type: 'asset',
          fileName: `${ortBase}${file}`,
          source: readFileSync(path.join(ortDist, file)),
        });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), onnxruntimeAssets()],
  define: { __ORT_BASE__: JSON.stringify(ortBase) },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  // The tail connection's worker is an ES module worker.
  worker: { format: 'es' },
  server: {
    headers: isolationHeaders,
    proxy: {
      '/socket.io': {
        target: `http://localhost:${devServerPort}`,
        ws: true,
        // The tail server admits WebSocket upgrades from its own origins only. Vite's own page
        // (loopback, Vite's port) is presented as the server's origin; any other page's upgrade
        // keeps its Origin and is refused, so the dev proxy is not an open door to the server.
        configure: (proxy) =>
          proxy.on('proxyReqWs', (proxyReq, req) => {
            const origin = req.headers.origin;
            const own = new RegExp(
              `^https?://(localhost|127\\.0\\.0\\.1|\\[::1\\]):${req.socket.localPort}$`,
            );
            if (origin && own.test(origin)) proxyReq.setHeader('origin', `http://localhost:${devServerPort}`);
          }),
      },
      '/healthz': `http://localhost:${devServerPort}`,
      '/metrics': `http://localhost:${devServerPort}`,
    },
  },
  preview: { headers: isolationHeaders },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'server/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
