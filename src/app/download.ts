/**
 * Downloads with byte-accurate progress, kept in Cache Storage so a reload needs no download.
 * The cache key includes a version string (the bundle's training commit), so a retrained bundle
 * is fetched anew instead of mixing old heads with new tails.
 */
import { createLogger } from '../core/log';

const log = createLogger('download');
const CACHE_NAME = 'splitscope-files-v1';

export interface DownloadProgress {
  url: string;
  loadedBytes: number;
  /** From the manifest or Content-Length; null when unknown. */
  totalBytes: number | null;
  fromCache: boolean;
  done: boolean;
}

export class DownloadError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`${url}: ${message}`);
    this.name = 'DownloadError';
  }
}

async function openCache(): Promise<Cache | null> {
  // Cache Storage exists only in secure contexts; elsewhere every load downloads.
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch (error) {
    log.warn(`Cache Storage unavailable: ${(error as Error).message}`);
    return null;
  }
}

function cacheKey(url: string, version: string): string {
  const absolute = new URL(url, location.href);
  absolute.searchParams.set('v', version);
  return absolute.href;
}

/**
 * Fetches `url`, reporting progress per chunk. When `expectedBytes` is given, a body of any other
 * length is an error (a truncated or stale file must not reach the inference engine).
 */
export async function download(
  url: string,
  options: {
    version: string;
    expectedBytes?: number;
    onProgress?: (progress: DownloadProgress) => void;
    signal?: AbortSignal;
  },
): Promise<Uint8Array> {
  const { version, expectedBytes, onProgress, signal } = options;
  const cache = await openCache();
  const key = cacheKey(url, version);
  const cached = cache ? await cache.match(key) : undefined;
  if (cache && cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    if (expectedBytes === undefined || bytes.length === expectedBytes) {
      onProgress?.({ url, loadedBytes: bytes.length, totalBytes: bytes.length, fromCache: true, done: true });
      return bytes;
    }
    await cache.delete(key);
  }

  let response: Response;
  try {
    response = await fetch(url, { signal, cache: 'no-cache' });
  } catch (error) {
    throw new DownloadError(url, `network error: ${(error as Error).message}`);
  }
  if (!response.ok) throw new DownloadError(url, `HTTP ${response.status} ${response.statusText}`);
  const headerLength = Number(response.headers.get('Content-Length'));
  const totalBytes =
    expectedBytes ?? (Number.isFinite(headerLength) && headerLength > 0 ? headerLength : null);
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  const reader = response.body?.getReader();
  if (!reader) throw new DownloadError(url, 'response has no body');
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loadedBytes += value.length;
    onProgress?.({ url, loadedBytes, totalBytes, fromCache: false, done: false });
  }
  const bytes = new Uint8Array(loadedBytes);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) {
    throw new DownloadError(url, `expected ${expectedBytes} bytes, got ${bytes.length}`);
  }
  onProgress?.({ url, loadedBytes, totalBytes: loadedBytes, fromCache: false, done: true });
  if (cache) {
    try {
      await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
    } catch (error) {
      log.warn(`could not cache ${url}: ${(error as Error).message}`);
    }
  }
  return bytes;
}

/** Gunzips in the browser with DecompressionStream (no library, no server-side decoding). */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
