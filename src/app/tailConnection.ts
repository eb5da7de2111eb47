/**
 * Adapts the socket-owning TailClient to what the engine needs, and moves its epoch timestamps
 * onto the page clock (performance.now()) that every other phase timestamp uses.
 */
import { TailClient } from '../core/tailClient';
import type { ConnectionState, TailLink } from './tailLink';

const toPageClock = (epochMs: number) => epochMs - performance.timeOrigin;

export function createTailLink(url: string): TailLink {
  const client = new TailClient();
  const listeners = new Set<(state: ConnectionState, detail: string) => void>();
  const notify = (state: ConnectionState, detail: string) => {
    for (const listener of listeners) listener(state, detail);
  };
  client.on('connect', () => notify('connected', url));
  client.on('disconnect', ({ reason }) => notify('disconnected', reason ?? 'disconnected'));
  return {
    get connected() {
      return client.connected;
    },
    connect() {
      notify('connecting', url);
      client.connect(url).catch((error: Error) => notify('disconnected', error.message));
    },
    async infer(frame, timeoutMs) {
      const { meta, ...response } = await client.request(frame, timeoutMs);
      return {
        response,
        wireBytes: meta.wireBytesUp,
        sentAt: toPageClock(meta.sentAt),
        receivedAt: toPageClock(meta.receivedAt),
      };
    },
    async probe(bytes, timeoutMs) {
      if (!client.connected) return null;
      const reply = await client.probe(new Uint8Array(bytes), timeoutMs);
      if (!reply.ok) return null;
      return {
        wireBytes: reply.meta.wireBytesUp,
        sentAt: toPageClock(reply.meta.sentAt),
        receivedAt: toPageClock(reply.meta.receivedAt),
        serverReceivedAt: reply.data.serverTime,
      };
    },
    onConnectionChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
