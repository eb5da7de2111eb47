/**
 * Headers every HTTP response carries, static files, /healthz and socket.io's polling alike.
 *
 * COOP + COEP make the page crossOriginIsolated, which onnxruntime-web needs for WASM threads
 * (SharedArrayBuffer). COEP require-corp also applies to the page's own subresources, so we
 * stamp CORP same-origin on them too.
 */
import type { ServerResponse } from 'node:http';

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function setIsolationHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
