/**
 * What the engine needs from the connection to the tail server. The socket-owning TailClient
 * (src/core/tailClient.ts) provides it; the engine never sees the socket.
 */
import type { InferResult, Response } from '../core/protocol';

export interface InferOutcome {
  response: Response<InferResult>;
  /** Bytes of the WebSocket message the socket sent for this request. */
  wireBytes: number;
  /** Page clock (performance.now()) when the socket sent the request and when the reply reached it. */
  sentAt: number;
  receivedAt: number;
  /** Page clock when the page itself got the reply (after the hop from the socket's thread). */
  deliveredAt: number;
}

export interface ProbeOutcome {
  wireBytes: number;
  sentAt: number;
  receivedAt: number;
  /** Server clock (epoch ms) when the probe arrived. */
  serverReceivedAt: number;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface TailLink {
  readonly connected: boolean;
  connect(): void;
  infer(frame: Uint8Array, timeoutMs: number): Promise<InferOutcome>;
  /** A probe of `bytes` payload bytes; null when not connected or it failed. */
  probe(bytes: number, timeoutMs: number): Promise<ProbeOutcome | null>;
  onConnectionChange(listener: (state: ConnectionState, detail: string) => void): () => void;
}
