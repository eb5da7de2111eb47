/** Handlers are total: a bug in one becomes one typed 'internal' reply and a log line, never an exit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel, setLogSink, type LogSink } from '../src/core/log';
import { TailClient } from '../src/core/tailClient';
import { startServer, type RunningServer } from './testing/helpers';
import { RawSession, msgpackFrame, replyCode } from './testing/hostile';

describe('socket handlers', () => {
  let server: RunningServer;
  const errors: string[] = [];
  let previousSink: LogSink;

  beforeAll(async () => {
    setLogLevel('error');
    previousSink = setLogSink((level, _namespace, message) => {
      if (level === 'error') errors.push(message);
    });
    server = await startServer(null);
  });
  afterAll(async () => {
    setLogSink(previousSink);
    await server?.close();
  });

  it('a handler that throws answers internal exactly once, logs it, and the connection keeps serving', async () => {
    const original = server.app.metrics.recordProbe.bind(server.app.metrics);
    server.app.metrics.recordProbe = () => {
      throw new Error('injected bug');
    };
    const raw = new RawSession(server.port);
    try {
      await raw.connect();
      raw.send(new Uint8Array([0x01, 0x03, 0x02, 1, 2, 3]));
      const outcome = await raw.outcome(3, 5000);
      expect(outcome.kind === 'reply' && replyCode(outcome.packet)).toBe('internal');
      raw.send(msgpackFrame({ type: 2, nsp: '/', data: ['info'], id: 4 }));
      expect((await raw.outcome(4, 5000)).kind).toBe('reply');
      expect(raw.repliesTo(3)).toHaveLength(1);
      expect(errors.some((line) => /probe handler .* failed: Error: injected bug/.test(line))).toBe(true);
    } finally {
      raw.close();
      server.app.metrics.recordProbe = original;
    }
    const client = new TailClient({ reconnection: false });
    await client.connect(server.url);
    const probe = await client.probe(new Uint8Array(10), 5000);
    expect(probe.ok && probe.data.receivedBytes).toBe(10);
    client.close();
  });
});
