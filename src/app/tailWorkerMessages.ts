/** Messages between the page and the worker that owns the socket (src/app/tailWorker.ts). */
import type { InferResult, ProbeResult } from '../core/protocol';
import type { TailResponse } from '../core/tailClient';
import type { ConnectionState } from './tailLink';

export type ToWorker =
  | { type: 'connect'; url: string }
  | { type: 'infer'; id: number; frame: Uint8Array; timeoutMs: number }
  | { type: 'probe'; id: number; bytes: number; timeoutMs: number };

export type FromWorker =
  | { type: 'connection'; state: ConnectionState; detail: string }
  | { type: 'infer'; id: number; response: TailResponse<InferResult> }
  | { type: 'probe'; id: number; response: TailResponse<ProbeResult> };
