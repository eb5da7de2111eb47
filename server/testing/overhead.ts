/**
 * Measures what one `infer` emit costs on the uplink, counted where it is unambiguous: the
 * WebSocket messages the server's `ws` socket receives (payload bytes, what DevTools and
 * Playwright's framesent report). Used by server/overhead.test.ts and bench/serverOverhead.ts.
 */
import type { Socket as EngineSocket } from 'engine.io';
import type { WireFormat } from '../app';
import { connectRaw, startServer } from './helpers';

export interface UplinkMeasurement {
  format: WireFormat;
  /** Payload bytes of each WebSocket message the emit produced. */
  messages: number[];
  total: number;
}

export async function measureUplink(format: WireFormat, bodies: Uint8Array[]): Promise<UplinkMeasurement[]> {
  const server = await startServer(null, { wireFormat: format });
  const received: number[] = [];
  server.app.io.engine.on('connection', (engineSocket: EngineSocket) => {
    const ws = (
      engineSocket.transport as unknown as {
        socket?: {
          on(e: 'message', l: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
        };
      }
    ).socket;
    ws?.on('message', (data) => {
      const length = Array.isArray(data)
        ? data.reduce((n, b) => n + b.length, 0)
        : data instanceof ArrayBuffer
          ? data.byteLength
          : data.length;
      received.push(length);
    });
  });
  const socket = await connectRaw(server.url, format);
  const results: UplinkMeasurement[] = [];
  try {
    for (const body of bodies) {
      // Let the handshake's messages land, then count only this emit's messages.
      await new Promise((resolve) => setTimeout(resolve, 20));
      received.length = 0;
      await socket.timeout(5000).emitWithAck('infer', body);
      const messages = [...received];
      results.push({ format, messages, total: messages.reduce((a, b) => a + b, 0) });
    }
  } finally {
    socket.close();
    await server.close();
  }
  return results;
}
