/** The inbound guard on its own: the structural pre-scan, the decode limits, and the packet checks. */
import { encode } from '@msgpack/msgpack';
import * as msgpackParser from 'socket.io-msgpack-parser';
import { describe, expect, it } from 'vitest';
import { createWireParser, PACKET_EVENT, type SocketPacket } from '../src/core/wireParser';
import {
  MAX_MSGPACK_DEPTH,
  RejectedFrame,
  admitPacket,
  checkMsgpackShape,
  createInboundGuard,
  describeValue,
} from './packetGuard';

const guard = createInboundGuard({ maxBinaryBytes: 1024 });
const decode = (packet: unknown): SocketPacket => guard.decodeMsgpack(encode(packet));
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe('checkMsgpackShape', () => {
  it('accepts well-formed packets of every msgpack type', () => {
    const packet = {
      type: 2,
      nsp: '/',
      data: ['infer', new Uint8Array(300)],
      id: 0xffffffff,
      n: [-1, -200, 70_000, -70_000, 2 ** 40, 1.5, null, true, false, 'x'.repeat(40)],
    };
    expect(() => checkMsgpackShape(encode(packet), MAX_MSGPACK_DEPTH)).not.toThrow();
  });

  it("refuses the issue's headers that claim more than the frame holds, before allocating", () => {
    for (const frame of [
      bytes(0x81, 0xc9, 0x10, 0x00, 0x00, 0x00, 0x00), // ext32 of 256 MiB
      bytes(0x81, 0xdd, 0x01, 0xc9, 0xc3, 0x80), // array32 of 30 M
      bytes(0x81, 0xdf, 0xff, 0xff, 0xff, 0xff), // map32
      bytes(0x81, 0xdb, 0x00, 0x01, 0x00, 0x00), // str32
      bytes(0x81, 0xc6, 0x00, 0x00, 0x10, 0x00, 0x01), // bin32
    ]) {
      expect(() => checkMsgpackShape(frame, MAX_MSGPACK_DEPTH), Buffer.from(frame).toString('hex')).toThrow(
        RejectedFrame,
      );
    }
  });

  it('refuses nesting deeper than the limit, trailing bytes, truncation and the never-used byte 0xc1', () => {
    const deep = new Uint8Array(10_000).fill(0x91);
    deep[deep.length - 1] = 0xc0;
    expect(() => checkMsgpackShape(deep, MAX_MSGPACK_DEPTH)).toThrow(/deeper/);
    expect(() => checkMsgpackShape(bytes(0x80, 0x00), 4)).toThrow(/after the msgpack packet/);
    expect(() => checkMsgpackShape(bytes(0x82, 0x01), 4)).toThrow(RejectedFrame);
    expect(() => checkMsgpackShape(bytes(0xcb, 0x00), 4)).toThrow(/past the end/);
    expect(() => checkMsgpackShape(bytes(0xc1), 4)).toThrow(/not a value/);
  });
});

describe('admitPacket', () => {
  it('rebuilds valid packets from their checked fields only', () => {
    expect(decode({ type: 0, nsp: '/' })).toEqual({ type: 0, nsp: '/' });
    expect(decode({ type: 0, nsp: '/', data: { token: 'abc', n: 1 } })).toEqual({
      type: 0,
      nsp: '/',
      data: { token: 'abc', n: 1 },
    });
    expect(decode({ type: 1, nsp: '/', data: null })).toEqual({ type: 1, nsp: '/' });
    expect(
      decode({ type: 2, nsp: '/', data: ['info'], id: 3, options: { compress: true }, extra: 1 }),
    ).toEqual({
      type: 2,
      nsp: '/',
      data: ['info'],
      id: 3,
    });
    const infer = decode({ type: 2, nsp: '/', data: ['infer', new Uint8Array([1, 2, 3])] });
    expect(infer.id).toBeUndefined();
    expect(infer.data).toEqual(['infer', new Uint8Array([1, 2, 3])]);
  });

  it('turns a bad event with an ack id into a typed rejection for that id', () => {
    const cases: [unknown, string][] = [
      [[], 'bad-frame'],
      [[{ toString: 1 }], 'bad-frame'],
      [['__proto__'], 'bad-frame'],
      [[[[{ toString: 1 }]]], 'bad-frame'],
      [['error', { toString: 1 }], 'bad-frame'],
      [['disconnect', 'x'], 'bad-frame'],
      [['bad-frame', { code: 'busy', message: 'forged' }], 'bad-frame'],
      [['hasOwnProperty'], 'bad-frame'],
      [['infer'], 'bad-payload'],
      [['infer', 'text'], 'bad-payload'],
      [['infer', new Uint8Array(1), new Uint8Array(1)], 'bad-payload'],
      [['probe', { toString: 1 }], 'bad-payload'],
      [['info', 1], 'bad-payload'],
    ];
    for (const [data, code] of cases) {
      const packet = admitPacket({ type: 2, nsp: '/', data, id: 77 });
      expect(packet, JSON.stringify(data)).toMatchObject({
        type: PACKET_EVENT,
        id: 77,
        data: ['bad-frame', { code }],
      });
      // The message names kinds, never a client's value through String().
      const message = (packet.data as [string, { message: string }])[1].message;
      expect(typeof message).toBe('string');
    }
  });

  it('throws (close) for what cannot be answered', () => {
    const bad: unknown[] = [
      [1, 2],
      'text',
      { type: 2, nsp: '/admin', data: ['info'], id: 1 },
      { type: 2, data: ['info'], id: 1 },
      { type: 3, nsp: '/', data: [], id: 1 },
      { type: 4, nsp: '/', data: 'x' },
      { type: 5, nsp: '/', data: ['info'] },
      { type: '2', nsp: '/', data: ['info'] },
      { type: 2, nsp: '/', data: ['info'], id: -1 },
      { type: 2, nsp: '/', data: ['info'], id: 1.5 },
      { type: 2, nsp: '/', data: ['info'], id: 2 ** 32 },
      { type: 2, nsp: '/', data: ['info'], id: 'x' },
      { type: 2, nsp: '/', data: [] },
      { type: 2, nsp: '/', data: ['nope'] },
      { type: 2, nsp: '/', data: ['infer', 'x'] },
      { type: 1, nsp: '/', data: 'x' },
      { type: 0, nsp: '/', data: { nested: { a: 1 } } },
      { type: 0, nsp: '/', data: [1] },
    ];
    for (const packet of bad)
      expect(() => admitPacket(packet), JSON.stringify(packet)).toThrow(RejectedFrame);
  });

  it('describes client values by kind', () => {
    expect(describeValue({ toString: 1 })).toBe('a map');
    expect(describeValue('x'.repeat(100))).toMatch(/^the string "x{32}"…$/);
    expect(describeValue(new Uint8Array(3))).toBe('3 bytes of binary');
    expect(describeValue([1])).toBe('an array of 1');
  });
});

describe('createInboundGuard', () => {
  it('enforces the decode limits', () => {
    expect(() => decode({ type: 2, nsp: '/', data: ['infer', new Uint8Array(1025)], id: 1 })).toThrow(
      /bin length/,
    );
    expect(() => decode({ type: 2, nsp: '/', data: ['x'.repeat(300)], id: 1 })).toThrow(/UTF-8 byte length/);
    expect(() =>
      decode({ type: 2, nsp: '/', data: ['infer', ...new Array<number>(20).fill(0)], id: 1 }),
    ).toThrow(/array length/);
    const protoKey = bytes(0x82, 0xa4, ...Buffer.from('type'), 0x02, 0xa9, ...Buffer.from('__proto__'), 0x01);
    expect(() => guard.decodeMsgpack(protoKey)).toThrow(/__proto__/);
  });

  it('reads what socket.io-msgpack-parser (notepack) writes: undefined, Buffer as bin, typed arrays as ext 0', () => {
    const notepack = (packet: object): Uint8Array =>
      (new msgpackParser.Encoder().encode(packet as never) as unknown as Uint8Array[])[0]!;
    expect(guard.decodeMsgpack(notepack({ type: 0, nsp: '/', data: undefined }))).toEqual({
      type: 0,
      nsp: '/',
    });
    const payload = (packet: SocketPacket): number[] => {
      const value = (packet.data as unknown[])[1];
      expect(value).toBeInstanceOf(Uint8Array);
      return Array.from(value as Uint8Array);
    };
    const buffer = guard.decodeMsgpack(
      notepack({ type: 2, nsp: '/', data: ['probe', Buffer.from([1, 2])], id: 1 }),
    );
    expect(payload(buffer)).toEqual([1, 2]);
    const typed = guard.decodeMsgpack(
      notepack({ type: 2, nsp: '/', data: ['probe', new Uint8Array([3, 4, 5])], id: 2 }),
    );
    expect(payload(typed)).toEqual([3, 4, 5]);
  });

  it('sits in the wire parser: compact frames unchanged, msgpack through the guard', () => {
    const decoder = new (createWireParser({}, guard).Decoder)();
    const decoded: SocketPacket[] = [];
    decoder.on('decoded', (packet) => decoded.push(packet));
    decoder.add(bytes(0x01, 0x05, 0x02, 9, 9));
    decoder.add(encode({ type: 2, nsp: '/', data: [{ toString: 1 }], id: 6 }));
    expect(decoded[0]).toMatchObject({ type: 2, id: 5, data: ['probe', bytes(9, 9)] });
    expect(decoded[1]).toMatchObject({ type: 2, id: 6, data: ['bad-frame', { code: 'bad-frame' }] });
    expect(() => decoder.add(bytes(0x81, 0xdd, 0x01, 0xc9, 0xc3, 0x80))).toThrow(RejectedFrame);
  });
});
