/**
 * Which pages may open a WebSocket to this tail server. A browser always sends Origin on a
 * WebSocket upgrade and does not apply CORS to it, so without this check any page the user visits
 * could use the server (or a phone's LAN server) as its own. Default: the server's own origins,
 * the localhost and LAN URLs it prints, on the port it serves. `--allow-origin` adds origins,
 * `--cors` admits any. A client without an Origin header is not a browser page (Node, Python) and
 * is admitted: the list defends against pages, not against programs.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../src/core/log';
import { serverUrls } from './urls';

export interface OriginPolicyOptions {
  /** The bind address: decides which own URLs exist (serverUrls). */
  host: string;
  https: boolean;
  /** Admit every origin (--cors). */
  any: boolean;
  /** Extra origins (--allow-origin), already normalised with normalizeOrigin. */
  extra: readonly string[];
  log: Logger;
}

/** Distinct refused origins that get their own log line; past it, one line says logging stopped. */
const MAX_LOGGED_ORIGINS = 256;

/** `scheme://host[:port]` as the URL parser writes it, or null when it is not an http(s) origin. */
export function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The origins of the URLs this server prints, plus the other spellings of loopback. */
export function ownOrigins(host: string, port: number, https: boolean): string[] {
  const urls = serverUrls(host, port, https);
  const origins = [...urls.local, ...urls.lan].map((url) => new URL(url).origin);
  if (urls.local.length > 0) {
    const scheme = https ? 'https' : 'http';
    origins.push(`${scheme}://127.0.0.1:${port}`, `${scheme}://[::1]:${port}`);
  }
  return [...new Set(origins)];
}

export interface OriginPolicy {
  /** socket.io's allowRequest: runs on every handshake (WebSocket upgrades; polling is off). */
  allowRequest(
    req: IncomingMessage,
    callback: (error: string | null | undefined, success: boolean) => void,
  ): void;
  /** Refuse every new connection from now on (shutdown). */
  refuseAll(reason: string): void;
}

export function createOriginPolicy(options: OriginPolicyOptions, port: () => number): OriginPolicy {
  const logged = new Set<string>();
  let refusing: string | null = null;
  let cache: { port: number; origins: Set<string> } | null = null;
  const allowed = (): Set<string> => {
    const current = port();
    if (cache?.port !== current) {
      cache = {
        port: current,
        origins: new Set([...ownOrigins(options.host, current, options.https), ...options.extra]),
      };
    }
    return cache.origins;
  };
  return {
    allowRequest(req, callback) {
      if (refusing) return callback(refusing, false);
      const header = req.headers.origin;
      if (header === undefined || options.any) return callback(null, true);
      const origin = normalizeOrigin(header);
      if (origin !== null && allowed().has(origin)) return callback(null, true);
      const shown = JSON.stringify(header.slice(0, 200));
      const own = [...allowed()][0] ?? 'this server';
      if (logged.size < MAX_LOGGED_ORIGINS && !logged.has(header)) {
        logged.add(header);
        options.log.warn(
          `refused a WebSocket from origin ${shown}: start the server with --allow-origin ORIGIN or --cors to admit it` +
            (logged.size === MAX_LOGGED_ORIGINS ? ' (further refused origins are not logged)' : ''),
        );
      }
      callback(
        `origin ${shown} is not allowed by this tail server: open the page from ${own}, or start the server with --allow-origin ${origin ?? 'ORIGIN'} (or --cors)`,
        false,
      );
    },
    refuseAll(reason) {
      refusing = reason;
    },
  };
}
