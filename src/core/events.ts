/**
 * Typed socket.io event maps shared by the tail server and TailClient (the pattern of
 * socket.io's basic-crud example, common/events.ts). Every client→server event is acknowledged
 * with a Response<T>, so a request always ends in a result or a typed error.
 */
import type { InferResult, ProbeResult, Response, ServerInfo, ServerErrorCode } from './protocol';

export type Ack<T> = (response: Response<T, ServerErrorCode>) => void;

export interface ClientToServerEvents {
  /** Body: a protocol.ts request (encodeSplitRequest / encodeOffloadRequest). */
  infer: (frame: Uint8Array, ack: Ack<InferResult>) => void;
  /** Any bytes up to limits.maxProbeBytes: bandwidth probes and clock offset. */
  probe: (payload: Uint8Array, ack: Ack<ProbeResult>) => void;
  info: (ack: Ack<ServerInfo>) => void;
  /**
   * Not sent by well-behaved clients: the wire parser decodes a compact frame with an unknown
   * event code to this event, so the sender still gets a typed 'bad-frame' reply.
   */
  'bad-frame': (detail: string, ack: Ack<never>) => void;
}

// The server only answers via acks; the map exists so both sides stay typed if that changes.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ServerToClientEvents {}

/** The compact event table of the wire parser: event name ⇄ one-byte code. */
export const WIRE_EVENT_CODES = { infer: 1, probe: 2 } as const;
export type WireEventName = keyof typeof WIRE_EVENT_CODES;
