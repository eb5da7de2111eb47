/**
 * What the engine needs from the connection to the tail server. The socket-owning TailClient
 * (src/core/tailClient.ts) provides it; the engine never sees the socket.
 */
import type { InferResult, Response } from '../core/protocol';

export interface InferOutcome {
  response: Response<InferResult>;
  /** Bytes of the WebSocket message the socket sent for this request. */
  wireBytes: number;
  /** performance.now() when handed to the socket, and when the reply arrived. */
  sentAt: number;
  receivedAt: number;
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
