/**
 * Typed socket.io event maps shared by the tail server and TailClient (the pattern of
 * socket.io's basic-crud example, common/events.ts). Every client→server event is acknowledged
 * with a Response<T>, so a request always ends in a result or a typed error.
 */
import type { InferResult, ProbeResult, Response, ServerInfo, ServerErrorCode, WireError } from './protocol';

export type Ack<T> = (response: Response<T, ServerErrorCode>) => void;

export interface ClientToServerEvents {
  /** Body: a protocol.ts request (encodeSplitRequest / encodeOffloadRequest). */
  infer: (frame: Uint8Array, ack: Ack<InferResult>) => void;
  /** Any bytes up to limits.maxProbeBytes: bandwidth probes and clock offset. */
  probe: (payload: Uint8Array, ack: Ack<ProbeResult>) => void;
  info: (ack: Ack<ServerInfo>) => void;
  /**
   * Never accepted from a client: the server's parser turns a packet it cannot hand to a handler
   * (unknown event code or name, wrong arguments) but that carries an ack id into this event, so
   * the sender still gets one typed reply ('bad-frame' or 'bad-payload') for that id.
   */
  'bad-frame': (rejection: WireError<ServerErrorCode>, ack: Ack<never>) => void;
}

export interface ServerClosing {
  /** Why the server is going away (shutdown on a signal). */
  reason: string;
  /** How long the server waits for requests it has already received before it disconnects. */
  graceMs: number;
}

export interface ServerToClientEvents {
  /** Sent to every client once when the server starts a graceful shutdown, before it disconnects. */
  'server-closing': (notice: ServerClosing) => void;
}

export type ClientEventName = 'infer' | 'probe' | 'info';
export type ArgKind = 'binary';

/**
 * What each client→server event takes, before the ack: the server checks every packet against
 * this table before socket.io dispatches it (server/packetGuard.ts). Not in the table: not ours.
 */
export const CLIENT_EVENT_ARGS: Readonly<Record<ClientEventName, readonly ArgKind[]>> = {
  infer: ['binary'],
  probe: ['binary'],
  info: [],
};

/** The compact event table of the wire parser: event name ⇄ one-byte code. */
export const WIRE_EVENT_CODES = { infer: 1, probe: 2 } as const;
export type WireEventName = keyof typeof WIRE_EVENT_CODES;
