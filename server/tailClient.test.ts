/** TailClient against a server that goes away and comes back on the same port. */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../src/core/log';
import { TailClient } from '../src/core/tailClient';
import { createApp } from './app';
import { waitFor } from './testing/helpers';

setLogLevel('error');

async function listen(port: number) {
  const app = createApp({ bundle: null }, { summaryIntervalMs: 0 });
  await new Promise<void>((resolve) => app.httpServer.listen(port, '127.0.0.1', resolve));
  return { app, port: (app.httpServer.address() as AddressInfo).port };
}

describe('TailClient', () => {
  it('reports disconnect, reconnects by itself when the server restarts, and resumes', async () => {
    let server = await listen(0);
    const client = new TailClient();
    const events: string[] = [];
    client.on('connect', () => events.push('connect'));
    client.on('disconnect', () => events.push('disconnect'));
    await client.connect(`http://127.0.0.1:${server.port}`);
    expect((await client.info()).ok).toBe(true);

    await server.app.close();
    await waitFor(() => events.includes('disconnect'), 5000, 'disconnect');
    const whileDown = await client.info();
    expect(whileDown.ok ? 'ok' : whileDown.error.code).toBe('disconnected');

    server = await listen(server.port);
    await waitFor(() => client.connected, 10_000, 'reconnect');
    expect((await client.info()).ok).toBe(true);
    expect(events).toEqual(['connect', 'disconnect', 'connect']);
    client.close();
    await server.app.close();
  });

  it('reconnects after a server-side disconnect too (graceful restart)', async () => {
    const server = await listen(0);
    const client = new TailClient();
    await client.connect(`http://127.0.0.1:${server.port}`);
    let connects = 0;
    client.on('connect', () => connects++);
    server.app.io.disconnectSockets();
    await waitFor(() => connects === 1, 5000, 'reconnect after io server disconnect');
    expect((await client.info()).ok).toBe(true);
    client.close();
    await server.app.close();
  });

  it('rejects connect() when nothing listens within the timeout', async () => {
    const client = new TailClient({ reconnection: false });
    await expect(client.connect('http://127.0.0.1:9', 300)).rejects.toThrow(/could not connect/);
    client.close();
  });
});
