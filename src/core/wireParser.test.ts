import { describe, expect, it } from 'vitest';
import { encodeSplitRequest } from './protocol';
import {
  KIND_EVENT,
  KIND_EVENT_ACK,
  PACKET_ACK,
  PACKET_EVENT,
  compactFrameLength,
  createWireParser,
  type SocketPacket,
} from './wireParser';

function roundTrip(packet: SocketPacket): { encoded: unknown[]; decoded: SocketPacket[] } {
  const parser = createWireParser();
  const encoded = new parser.Encoder().encode(packet);
  const decoder = new parser.Decoder();
  const decoded: SocketPacket[] = [];
  decoder.on('decoded', (p) => decoded.push(p));
  for (const chunk of encoded) decoder.add(chunk);
  return { encoded, decoded };
}

describe('wire parser', () => {
  it('encodes a binary infer emit with ack as one compact frame', () => {
    const body = encodeSplitRequest({
      requestId: 300,
      levelIndex: 1,
      bits: 2,
      count: 1,
      codes: new Uint8Array(49).fill(7),
    });
    const { encoded, decoded } = roundTrip({ type: PACKET_EVENT, nsp: '/', id: 200, data: ['infer', body] });
    expect(encoded).toHaveLength(1);
    const frame = encoded[0] as Uint8Array;
    expect(frame.length).toBe(compactFrameLength(body.length, 200));
    expect(frame.length - body.length).toBe(4); // kind + 2-byte ack varint + event code
    expect(frame[0]).toBe(KIND_EVENT_ACK);
    expect(decoded).toHaveLength(1);
    expect(decoded[0]).toMatchObject({ type: PACKET_EVENT, nsp: '/', id: 200 });
    const [name, payload] = decoded[0]!.data as [string, Uint8Array];
    expect(name).toBe('infer');
    expect(Array.from(payload)).toEqual(Array.from(body));
  });

  it('encodes a probe without ack with the no-ack kind', () => {
    const { encoded, decoded } = roundTrip({
      type: PACKET_EVENT,
      nsp: '/',
      data: ['probe', new Uint8Array(5)],
    });
    expect((encoded[0] as Uint8Array)[0]).toBe(KIND_EVENT);
    expect((encoded[0] as Uint8Array).length).toBe(7);
    expect(decoded[0]!.id).toBeUndefined();
    expect(decoded[0]!.data).toEqual(['probe', new Uint8Array(5)]);
  });

  it('falls back to msgpack for everything else and decodes it back', () => {
    const packets: SocketPacket[] = [
      { type: 0, nsp: '/' },
      { type: 0, nsp: '/', data: { token: 'x' } },
      { type: PACKET_ACK, nsp: '/', id: 5, data: [{ ok: true, data: { requestId: 1, n: [1.5, 2] } }] },
      { type: PACKET_EVENT, nsp: '/', id: 1, data: ['info'] },
      { type: PACKET_EVENT, nsp: '/', id: 2, data: ['infer', 'not binary'] },
      { type: PACKET_EVENT, nsp: '/other', id: 3, data: ['infer', new Uint8Array(3)] },
      { type: PACKET_EVENT, nsp: '/', id: 4, data: ['unknown', new Uint8Array(3)] },
    ];
    for (const packet of packets) {
      const { encoded, decoded } = roundTrip(packet);
      expect(encoded).toHaveLength(1);
      const first = new Uint8Array(encoded[0] as ArrayBufferLike)[0]!;
      expect(first >= 0x80 && first <= 0x8f).toBe(true);
      expect(decoded).toHaveLength(1);
      expect(decoded[0]!.type).toBe(packet.type);
      expect(decoded[0]!.nsp).toBe(packet.nsp);
      expect(decoded[0]!.id).toBe(packet.id);
    }
  });

  it('reports encoded and decoded byte counts through hooks', () => {
    const seen: [string, number, boolean][] = [];
    const parser = createWireParser({
      onEncoded: (p, bytes, compact) => seen.push([`enc${p.type}`, bytes, compact]),
      onDecoded: (p, bytes, compact) => seen.push([`dec${p.type}`, bytes, compact]),
    });
    const encoder = new parser.Encoder();
    const decoder = new parser.Decoder();
    decoder.on('decoded', () => undefined);
    for (const chunk of encoder.encode({
      type: PACKET_EVENT,
      nsp: '/',
      id: 0,
      data: ['infer', new Uint8Array(10)],
    }))
      decoder.add(chunk);
    for (const chunk of encoder.encode({ type: PACKET_ACK, nsp: '/', id: 0, data: [{ ok: true }] }))
      decoder.add(chunk);
    expect(seen[0]).toEqual(['enc2', 13, true]);
    expect(seen[1]).toEqual(['dec2', 13, true]);
    expect(seen[2]![2]).toBe(false);
    expect(seen[3]).toEqual(['dec3', seen[2]![1], false]);
  });

  it('decodes a well-formed header with an unknown event code to bad-frame (so it can be answered)', () => {
    const decoder = new (createWireParser().Decoder)();
    const decoded: SocketPacket[] = [];
    decoder.on('decoded', (p) => decoded.push(p));
    decoder.add(new Uint8Array([KIND_EVENT_ACK, 9, 0x7f, 1, 2]));
    expect(decoded[0]).toMatchObject({
      type: PACKET_EVENT,
      id: 9,
      data: ['bad-frame', { code: 'bad-frame', message: 'unknown event code 127' }],
    });
  });

  it('throws (socket.io then closes that connection) on frames it cannot attribute', () => {
    const decoder = new (createWireParser().Decoder)();
    decoder.on('decoded', () => undefined);
    const bad: unknown[] = [
      'text frame',
      new Uint8Array(0),
      new Uint8Array([0x00, 1]),
      new Uint8Array([0x55]),
      new Uint8Array([KIND_EVENT_ACK]),
      new Uint8Array([KIND_EVENT_ACK, 0x80]),
      new Uint8Array([KIND_EVENT_ACK, 0x05]),
      new Uint8Array([KIND_EVENT, 0x7f]),
      new Uint8Array([0x81, 0xff]),
      new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x09]),
      new Uint8Array([0xde, 0x00]),
    ];
    for (const chunk of bad) expect(() => decoder.add(chunk), String(chunk)).toThrow();
  });

  it('accepts ArrayBuffer input (the browser transport)', () => {
    const parser = createWireParser();
    const [frame] = new parser.Encoder().encode({
      type: PACKET_EVENT,
      nsp: '/',
      id: 1,
      data: ['probe', new Uint8Array([1, 2, 3])],
    });
    const bytes = frame as Uint8Array;
    const decoder = new parser.Decoder();
    const decoded: SocketPacket[] = [];
    decoder.on('decoded', (p) => decoded.push(p));
    decoder.add(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(Array.from((decoded[0]!.data as [string, Uint8Array])[1])).toEqual([1, 2, 3]);
  });
});
