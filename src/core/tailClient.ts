/**
 * TailClient: the only code that owns the socket to the tail server. The browser app and the
 * Node virtual device / benchmark both use it (socket.io-client runs in both; no DOM here).
 *
 * - Every request ends in a Response: the server's result or typed error, or a client-side
 *   'timeout' / 'disconnected'. A disconnect fails every in-flight request at once; requests
 *   made while disconnected fail immediately instead of being buffered by socket.io.
 * - When the server says it is going away ('server-closing', a graceful shutdown), requests
 *   already sent still get their replies, new ones fail at once as 'disconnected', and the
 *   disconnect that follows says why; the client reconnects when the server is back.
 * - Each reply carries the exact byte length of the WebSocket message our parser produced for
 *   that request (meta.wireBytesUp) and of the message that carried the ack back
 *   (meta.wireBytesDown): measured from the encoder/decoder, not assumed. With the default
 *   WebSocket-only transport these equal the payload sizes DevTools/Playwright show per frame.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from './events';
import { createLogger, type Logger } from './log';
import type { ClientErrorCode, ErrorCode, InferResult, ProbeResult, Response, ServerInfo } from './protocol';
import { createWireParser, PACKET_ACK, PACKET_EVENT, type SocketPacket } from './wireParser';

export interface RequestMeta {
  /** Bytes of the WebSocket message that carried the request (0 when it was never sent). */
  wireBytesUp: number;
  /** Bytes of the WebSocket message that carried the reply (0 without a reply). */
  wireBytesDown: number;
  /** High-resolution epoch ms (performance.timeOrigin + performance.now()) at emit and at reply. */
  sentAt: number;
  receivedAt: number;
  /** receivedAt - sentAt. */
  rttMs: number;
}

export type TailResponse<T> = Response<T, ErrorCode> & { meta: RequestMeta };

export interface TailClientOptions {
  /** Default ['websocket']: one WebSocket message per request, so byte counts are exact. */
  transports?: ('websocket' | 'polling' | 'webtransport')[];
  reconnection?: boolean;
  /** Extra socket.io-client options (tests: extraHeaders, rejectUnauthorized...). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  logger?: Logger;
}

type ConnectionListener = (detail: { reason?: string }) => void;

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

interface Pending {
  settle(response: Response<unknown, ErrorCode>, wireBytesDown: number): void;
}

export class TailClient {
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private readonly pending = new Set<Pending>();
  /** Set synchronously by the encoder hook during emit. */
  private lastEncoded: { id: number | undefined; bytes: number } | null = null;
  /** Reply sizes by ack id, recorded by the decoder hook before socket.io runs the ack. */
  private readonly ackBytes = new Map<number, number>();
  private readonly listeners = {
    connect: new Set<ConnectionListener>(),
    disconnect: new Set<ConnectionListener>(),
  };
  private readonly log: Logger;
  private inFlightCount = 0;
  /** Set by the server's 'server-closing' notice until the next connect. */
  private closingReason: string | null = null;

  constructor(private readonly options: TailClientOptions = {}) {
    this.log = options.logger ?? createLogger('tail-client');
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  on(event: 'connect' | 'disconnect', listener: ConnectionListener): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /**
   * Starts connecting (and reconnecting after drops, unless reconnection is false). Resolves on
   * the first successful connect; rejects if that does not happen within timeoutMs, while the
   * client keeps trying in the background.
   */
  connect(url: string, timeoutMs = 10_000): Promise<void> {
    if (this.socket) this.close();
    const parser = createWireParser({
      onEncoded: (packet, bytes) => {
        if (packet.type === PACKET_EVENT) this.lastEncoded = { id: packet.id, bytes };
      },
      onDecoded: (packet: SocketPacket, bytes) => {
        if (packet.type === PACKET_ACK && packet.id !== undefined) this.ackBytes.set(packet.id, bytes);
      },
    });
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      transports: this.options.transports ?? ['websocket'],
      reconnection: this.options.reconnection ?? true,
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      // Our parser instance (with its byte hooks) must not be shared with another Manager.
      forceNew: true,
      parser,
      ...this.options.socketOptions,
    });
    this.socket = socket;
    socket.on('server-closing', (notice) => {
      const reason = typeof notice?.reason === 'string' ? notice.reason.slice(0, 64) : 'shutdown';
      this.closingReason = `the tail server is shutting down (${reason})`;
      this.log.info(this.closingReason);
    });
    socket.on('connect', () => {
      this.closingReason = null;
      this.log.debug(`connected to ${url}`);
      for (const listener of this.listeners.connect) listener({});
    });
    socket.on('disconnect', (socketReason) => {
      const reason = this.closingReason ? `${this.closingReason}; ${socketReason}` : socketReason;
      this.log.debug(`disconnected: ${reason}`);
      // Fail everything in flight now; socket.io would otherwise only clear acks it tracks.
      this.failAll('disconnected', `connection lost (${reason})`);
      this.ackBytes.clear();
      for (const listener of this.listeners.disconnect) listener({ reason });
      // socket.io-client does not retry after a server-side disconnect (e.g. a graceful restart);
      // the app wants the stream to resume by itself, so retry unless we were closed.
      if (
        socketReason === 'io server disconnect' &&
        (this.options.reconnection ?? true) &&
        this.socket === socket
      ) {
        setTimeout(() => {
          if (this.socket === socket && !socket.connected) socket.connect();
        }, 250);
      }
    });
    return new Promise<void>((resolve, reject) => {
      if (socket.connected) return resolve();
      const timer = setTimeout(() => {
        socket.off('connect', onConnect);
        reject(new Error(`could not connect to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      socket.once('connect', onConnect);
    });
  }

  /** Sends one protocol.ts request body; resolves with the server's answer or a client error. */
  request(frame: Uint8Array, timeoutMs: number): Promise<TailResponse<InferResult>> {
    return this.call<InferResult>('infer', frame, timeoutMs);
  }

  /** Sends `payload` (for bandwidth probes); the reply says how many bytes arrived and the server time. */
  probe(payload: Uint8Array, timeoutMs: number): Promise<TailResponse<ProbeResult>> {
    return this.call<ProbeResult>('probe', payload, timeoutMs);
  }

  info(timeoutMs = 5000): Promise<TailResponse<ServerInfo>> {
    return this.call<ServerInfo>('info', null, timeoutMs);
  }

  private call<T>(
    event: 'infer' | 'probe' | 'info',
    payload: Uint8Array | null,
    timeoutMs: number,
  ): Promise<TailResponse<T>> {
    const socket = this.socket;
    const sentAt = epochNow();
    if (!socket?.connected) {
      return Promise.resolve(clientError<T>('disconnected', 'not connected to the tail server', sentAt, 0));
    }
    // The server is draining: a new request would race its disconnect, so it fails now, honestly.
    if (this.closingReason)
      return Promise.resolve(clientError<T>('disconnected', this.closingReason, sentAt, 0));
    return new Promise<TailResponse<T>>((resolve) => {
      let wireBytesUp = 0;
      let done = false;
      const entry: Pending = {
        settle: (response, wireBytesDown) => {
          if (done) return;
          done = true;
          this.pending.delete(entry);
          this.inFlightCount--;
          const receivedAt = epochNow();
          resolve({
            ...(response as Response<T, ErrorCode>),
            meta: { wireBytesUp, wireBytesDown, sentAt, receivedAt, rttMs: receivedAt - sentAt },
          });
        },
      };
      this.pending.add(entry);
      this.inFlightCount++;
      this.lastEncoded = null;
      let ackId: number | undefined;
      const onAck = (error: Error | null, response?: Response<T, ErrorCode>): void => {
        const down = ackId === undefined ? 0 : (this.ackBytes.get(ackId) ?? 0);
        if (ackId !== undefined) this.ackBytes.delete(ackId);
        if (error) {
          const disconnected = /disconnect/i.test(error.message);
          entry.settle(
            disconnected
              ? { ok: false, error: { code: 'disconnected', message: 'connection lost' } }
              : { ok: false, error: { code: 'timeout', message: `no reply within ${timeoutMs} ms` } },
            0,
          );
        } else if (
          !response ||
          typeof response !== 'object' ||
          typeof (response as { ok?: unknown }).ok !== 'boolean'
        ) {
          entry.settle(
            { ok: false, error: { code: 'internal', message: 'malformed reply from server' } },
            down,
          );
        } else {
          entry.settle(response, down);
        }
      };
      // socket.io's typed emit cannot express the timeout-ack overloads per event; the event map
      // (events.ts) is what the server implements, so the casts only drop the error-first form.
      const timed = socket.timeout(timeoutMs) as unknown as {
        emit(event: string, ...args: unknown[]): void;
      };
      if (payload) timed.emit(event, payload, onAck);
      else timed.emit(event, onAck);
      // The encoder ran synchronously inside emit (the socket is connected), so this is our message.
      const encoded = this.takeLastEncoded();
      if (encoded) {
        ackId = encoded.id;
        wireBytesUp = encoded.bytes;
      }
    });
  }

  private takeLastEncoded(): { id: number | undefined; bytes: number } | null {
    const encoded = this.lastEncoded;
    this.lastEncoded = null;
    return encoded;
  }

  private failAll(code: ClientErrorCode, message: string): void {
    for (const entry of [...this.pending]) entry.settle({ ok: false, error: { code, message } }, 0);
  }

  /** Disconnects for good; in-flight requests fail with 'disconnected'. */
  close(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.disconnect();
      socket.removeAllListeners();
    }
    this.failAll('disconnected', 'client closed');
  }
}

function clientError<T>(
  code: ClientErrorCode,
  message: string,
  at: number,
  wireBytesUp: number,
): TailResponse<T> {
  return {
    ok: false,
    error: { code, message },
    meta: { wireBytesUp, wireBytesDown: 0, sentAt: at, receivedAt: at, rttMs: 0 },
  };
}
