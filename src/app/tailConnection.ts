/**
 * The page's side of the tail connection. The socket-owning TailClient runs in a dedicated worker
 * (tailWorker.ts) so that its timestamps are taken off the main thread; this module relays
 * requests to it and moves its epoch timestamps onto the page clock (performance.now()) that every
 * other phase timestamp uses.
 */
import type { InferResult, ProbeResult } from '../core/protocol';
import type { TailResponse } from '../core/tailClient';
import type { ConnectionState, InferOutcome, ProbeOutcome, TailLink } from './tailLink';
import type { FromWorker, ToWorker } from './tailWorkerMessages';

const toPageClock = (epochMs: number) => epochMs - performance.timeOrigin;

export function createTailLink(url: string): TailLink {
  const worker = new Worker(new URL('./tailWorker.ts', import.meta.url), {
    type: 'module',
    name: 'splitscope-tail',
  });
  const listeners = new Set<(state: ConnectionState, detail: string) => void>();
  const pendingInfer = new Map<number, (response: TailResponse<InferResult>) => void>();
  const pendingProbe = new Map<number, (response: TailResponse<ProbeResult>) => void>();
  let connected = false;
  let nextId = 1;
  const send = (message: ToWorker) => worker.postMessage(message);

  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === 'connection') {
      connected = message.state === 'connected';
      for (const listener of listeners) listener(message.state, message.detail);
    } else if (message.type === 'infer') {
      pendingInfer.get(message.id)?.(message.response);
      pendingInfer.delete(message.id);
    } else {
      pendingProbe.get(message.id)?.(message.response);
      pendingProbe.delete(message.id);
    }
  };

  return {
    get connected() {
      return connected;
    },
    connect() {
      send({ type: 'connect', url });
    },
    infer(frame, timeoutMs): Promise<InferOutcome> {
      const id = nextId++;
      return new Promise((resolve) => {
        pendingInfer.set(id, ({ meta, ...response }) => {
          resolve({
            response,
            wireBytes: meta.wireBytesUp,
            sentAt: toPageClock(meta.sentAt),
            receivedAt: toPageClock(meta.receivedAt),
            deliveredAt: performance.now(),
          });
        });
        send({ type: 'infer', id, frame, timeoutMs });
      });
    },
    probe(bytes, timeoutMs): Promise<ProbeOutcome | null> {
      if (!connected) return Promise.resolve(null);
      const id = nextId++;
      return new Promise((resolve) => {
        pendingProbe.set(id, (reply) => {
          if (!reply.ok) return resolve(null);
          resolve({
            wireBytes: reply.meta.wireBytesUp,
            sentAt: toPageClock(reply.meta.sentAt),
            receivedAt: toPageClock(reply.meta.receivedAt),
            serverReceivedAt: reply.data.serverTime,
          });
        });
        send({ type: 'probe', id, bytes, timeoutMs });
      });
    },
    onConnectionChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
