/**
 * Minimal static file handler for the built SPA (dist/).
 *
 * Why not express/serve-static: we need exact control over a few headers (COOP/COEP on every
 * response, .gz served as opaque bytes) and nothing else, which is ~100 lines.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  // The browser gunzips the dataset itself (DecompressionStream), so .gz must NOT carry
  // Content-Encoding: gzip or the browser would transparently decode it first.
  '.gz': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

export function contentTypeFor(filePath: string): string {
  return MIME[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Returns a handler that serves files under `root`; it resolves true when it answered the
 * request, false when the request is not for it (not GET/HEAD).
 * Unknown paths without a file extension fall back to index.html (client-side routes); unknown
 * paths with an extension are a 404 so a missing asset is not masked by HTML.
 */
export function createStaticHandler(root: string): StaticHandler {
  const absoluteRoot = path.resolve(root);

  async function statFile(filePath: string): Promise<{ size: number; mtimeMs: number } | null> {
    try {
      const stat = await fs.stat(filePath);
      return stat.isFile() ? { size: stat.size, mtimeMs: stat.mtimeMs } : null;
    } catch {
      return null;
    }
  }

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad url\n');
      return true;
    }
    if (pathname.includes('\0')) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad url\n');
      return true;
    }
    let filePath = path.join(absoluteRoot, pathname);
    // path.join normalises "..", so anything outside the root is a traversal attempt.
    if (filePath !== absoluteRoot && !filePath.startsWith(absoluteRoot + path.sep)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden\n');
      return true;
    }
    if (pathname.endsWith('/')) filePath = path.join(filePath, 'index.html');
    let stat = await statFile(filePath);
    if (!stat && path.extname(pathname) === '') {
      filePath = path.join(absoluteRoot, 'index.html');
      stat = await statFile(filePath);
    }
    if (!stat) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return true;
    }
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeFor(filePath),
      ETag: etag,
      // Revalidate every time: cheap on loopback/LAN and a rebuilt bundle is never stale.
      'Cache-Control': 'no-cache',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    headers['Content-Length'] = stat.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    const stream = createReadStream(filePath);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return true;
  };
}
