/// <reference lib="webworker" />
/**
 * The socket lives in this dedicated worker, not on the page's main thread. Replies are
 * timestamped here the moment they arrive, so a page busy drawing charts cannot make the network
 * look slower than it is; the hop back to the page is counted as device overhead instead.
 */
import { TailClient } from '../core/tailClient';
import type { FromWorker, ToWorker } from './tailWorkerMessages';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const client = new TailClient();
const post = (message: FromWorker) => scope.postMessage(message);

client.on('connect', () => post({ type: 'connection', state: 'connected', detail: '' }));
client.on('disconnect', ({ reason }) =>
  post({ type: 'connection', state: 'disconnected', detail: reason ?? 'disconnected' }),
);

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'connect':
      post({ type: 'connection', state: 'connecting', detail: message.url });
      client
        .connect(message.url)
        .catch((error: Error) => post({ type: 'connection', state: 'disconnected', detail: error.message }));
      break;
    case 'infer':
      void client
        .request(message.frame, message.timeoutMs)
        .then((response) => post({ type: 'infer', id: message.id, response }));
      break;
    case 'probe':
      void client
        .probe(new Uint8Array(message.bytes), message.timeoutMs)
        .then((response) => post({ type: 'probe', id: message.id, response }));
      break;
  }
};
