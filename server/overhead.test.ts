/**
 * Protocol overhead per split request = uplink WebSocket payload bytes − packed code bytes,
 * counted on the server's WebSocket. Target: at most 16 bytes with our parser.
 */
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../src/core/log';
import { encodeSplitRequest } from '../src/core/protocol';
import { measureUplink } from './testing/overhead';

setLogLevel('error');

describe('uplink protocol overhead per split request', () => {
  // c4 at 2 bits: 49 code bytes per image; 1 and 16 images; request ids of 1 to 3 varint bytes.
  const bodies = [
    { codes: 49, requestId: 1 },
    { codes: 49, requestId: 100_000 },
    { codes: 16 * 49, requestId: 100_000 },
  ].map(({ codes, requestId }) => ({
    codes,
    body: encodeSplitRequest({
      requestId,
      levelIndex: 1,
      bits: 2,
      count: codes / 49,
      codes: new Uint8Array(codes).fill(0x5a),
    }),
  }));

  it('is at most 16 bytes with the wire parser, in one WebSocket message, and below msgpack and the default parser', async () => {
    const results = {
      wire: await measureUplink(
        'wire',
        bodies.map((b) => b.body),
      ),
      msgpack: await measureUplink(
        'msgpack',
        bodies.map((b) => b.body),
      ),
      default: await measureUplink(
        'default',
        bodies.map((b) => b.body),
      ),
    };
    for (const [i, { codes }] of bodies.entries()) {
      const overhead = (format: keyof typeof results) => results[format][i]!.total - codes;
      expect(results.wire[i]!.messages).toHaveLength(1);
      expect(overhead('wire')).toBeLessThanOrEqual(16);
      expect(overhead('wire')).toBeLessThan(overhead('msgpack'));
      expect(overhead('wire')).toBeLessThan(overhead('default'));
      // msgpack also serialises socket.io-client's per-packet `options: { compress: true }` (19 bytes).
      expect(overhead('msgpack')).toBeGreaterThan(30);
      // The default parser sends a text placeholder message plus the binary attachment.
      expect(results.default[i]!.messages).toHaveLength(2);
    }
  });
});
