/**
 * The tail server's inbound guard: every msgpack message is decoded with limits sized from the
 * protocol's own, and every packet is checked (type, namespace, event name from the table,
 * arguments per event, ack id range) before socket.io sees it. socket.io dispatches events in
 * process.nextTick, outside the parser's try/catch, so a value that reaches a listener unchecked
 * can end the process; here nothing unchecked gets that far.
 *
 * Outcomes (docs/protocol.md §1.3):
 * - a valid packet passes, rebuilt from its checked fields only;
 * - an EVENT with a usable ack id but a bad name or arguments becomes the server-internal
 *   `bad-frame` event, which the handlers answer with a typed error for that id;
 * - anything else throws, and socket.io closes that one connection.
 */
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { CLIENT_EVENT_ARGS, type ArgKind, type ClientEventName } from '../src/core/events';
import type { ServerErrorCode } from '../src/core/protocol';
import { PACKET_EVENT, type InboundGuard, type SocketPacket } from '../src/core/wireParser';

const PACKET_CONNECT = 0;
const PACKET_DISCONNECT = 1;

/** Ack ids are u32 (the compact frame's varint range); socket.io-client counts up from 0. */
export const MAX_ACK_ID = 0xffffffff;

/**
 * How deep a legal packet nests: the packet map (1), its data array or auth map (2). Two levels of
 * headroom; anything deeper is not ours and cannot be decoded recursively by accident.
 */
export const MAX_MSGPACK_DEPTH = 4;
/** Entries in any array or map: a packet has ≤ 5 keys, an event ≤ 2 elements, auth a few. */
export const MAX_MSGPACK_ENTRIES = 16;
/** Any string: event names are ≤ 5 characters, the namespace 1, auth values short tokens. */
export const MAX_MSGPACK_STRING_BYTES = 256;
/** Keys in a CONNECT auth map. */
const MAX_AUTH_KEYS = 16;

export class RejectedFrame extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedFrame';
  }
}

/** The kind of a client value, for messages: never the value itself (no String() on client data). */
export function describeValue(value: unknown): string {
  if (value === null) return 'nil';
  if (value === undefined) return 'nothing';
  if (value instanceof Uint8Array) return `${value.length} bytes of binary`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.slice(0, 32))}${value.length > 32 ? '…' : ''}`;
  if (typeof value === 'number')
    return Number.isFinite(value) ? `the number ${value}` : 'a non-finite number';
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

function readUint(bytes: Uint8Array, at: number, width: number): number {
  let value = 0;
  for (let i = 0; i < width; i++) value = value * 256 + bytes[at + i]!;
  return value;
}

/**
 * Walks the msgpack structure without building it: every length and count must fit in what is
 * left of the frame, and containers may nest at most maxDepth deep. O(frame) time, O(depth)
 * memory, so a 6-byte header cannot claim 30 million elements or 256 MiB.
 */
export function checkMsgpackShape(bytes: Uint8Array, maxDepth: number): void {
  // Values still expected at each open level; the top level expects exactly one.
  const open: number[] = [1];
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length) throw new RejectedFrame(`msgpack ${what} runs past the end of the frame`);
  };
  const container = (count: number): void => {
    // Each element takes at least one byte.
    if (count > bytes.length - at) throw new RejectedFrame(`msgpack container claims ${count} entries`);
    if (count === 0) return;
    if (open.length >= maxDepth) throw new RejectedFrame(`msgpack nests deeper than ${maxDepth}`);
    open.push(count);
  };
  while (open.length > 0) {
    if (open[open.length - 1] === 0) {
      open.pop();
      continue;
    }
    open[open.length - 1]!--;
    need(1, 'value');
    const head = bytes[at++]!;
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) continue;
    if (head <= 0x8f) {
      container(2 * (head & 0x0f));
      continue;
    }
    if (head <= 0x9f) {
      container(head & 0x0f);
      continue;
    }
    if (head <= 0xbf) {
      need(head & 0x1f, 'string');
      at += head & 0x1f;
      continue;
    }
    const sized = (width: number, extra: number, what: string): void => {
      need(width, `${what} length`);
      const length = readUint(bytes, at, width);
      at += width;
      need(extra + length, what);
      at += extra + length;
    };
    switch (head) {
      case 0xc4:
        sized(1, 0, 'bin');
        break;
      case 0xc5:
        sized(2, 0, 'bin');
        break;
      case 0xc6:
        sized(4, 0, 'bin');
        break;
      case 0xc7:
        sized(1, 1, 'ext');
        break;
      case 0xc8:
        sized(2, 1, 'ext');
        break;
      case 0xc9:
        sized(4, 1, 'ext');
        break;
      case 0xca:
      case 0xce:
      case 0xd2:
        need(4, 'number');
        at += 4;
        break;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        need(8, 'number');
        at += 8;
        break;
      case 0xcc:
      case 0xd0:
        need(1, 'number');
        at += 1;
        break;
      case 0xcd:
      case 0xd1:
        need(2, 'number');
        at += 2;
        break;
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        need(1 + (1 << (head - 0xd4)), 'fixext');
        at += 1 + (1 << (head - 0xd4));
        break;
      case 0xd9:
        sized(1, 0, 'string');
        break;
      case 0xda:
        sized(2, 0, 'string');
        break;
      case 0xdb:
        sized(4, 0, 'string');
        break;
      case 0xdc:
      case 0xdd: {
        const width = head === 0xdc ? 2 : 4;
        need(width, 'array length');
        const count = readUint(bytes, at, width);
        at += width;
        container(count);
        break;
      }
      case 0xde:
      case 0xdf: {
        const width = head === 0xde ? 2 : 4;
        need(width, 'map length');
        const count = readUint(bytes, at, width);
        at += width;
        container(2 * count);
        break;
      }
      default:
        throw new RejectedFrame(`msgpack byte 0x${head.toString(16)} is not a value`);
    }
  }
  if (at !== bytes.length) throw new RejectedFrame(`${bytes.length - at} bytes after the msgpack packet`);
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

function own(map: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

function matches(kind: ArgKind, value: unknown): boolean {
  return kind === 'binary' ? value instanceof Uint8Array : false;
}

/** The server-internal event an unanswerable-by-handler packet turns into (see events.ts). */
export function rejection(id: number, code: ServerErrorCode, message: string): SocketPacket {
  return { type: PACKET_EVENT, nsp: '/', id, data: ['bad-frame', { code, message }] };
}

/**
 * Checks a decoded socket.io packet and rebuilds it from its checked fields. Throws RejectedFrame
 * for what cannot be answered (close); returns a `bad-frame` event for what can.
 */
export function admitPacket(decoded: unknown): SocketPacket {
  if (!isPlainMap(decoded)) throw new RejectedFrame(`a packet is a map, not ${describeValue(decoded)}`);
  const type = own(decoded, 'type');
  const nsp = own(decoded, 'nsp');
  const rawId = own(decoded, 'id');
  const data = own(decoded, 'data');
  if (nsp !== '/') throw new RejectedFrame(`namespace must be "/", got ${describeValue(nsp)}`);
  if (type === PACKET_CONNECT) {
    if (data === undefined || data === null) return { type: PACKET_CONNECT, nsp: '/' };
    if (!isPlainMap(data)) throw new RejectedFrame(`CONNECT auth must be a map, got ${describeValue(data)}`);
    const keys = Object.keys(data);
    if (keys.length > MAX_AUTH_KEYS) throw new RejectedFrame(`CONNECT auth has ${keys.length} keys`);
    const auth: Record<string, string | number | boolean | null> = {};
    for (const key of keys) {
      const value = data[key];
      if (
        value !== null &&
        typeof value !== 'string' &&
        typeof value !== 'number' &&
        typeof value !== 'boolean'
      )
        throw new RejectedFrame(`CONNECT auth values must be scalars, got ${describeValue(value)}`);
      auth[key] = value;
    }
    return { type: PACKET_CONNECT, nsp: '/', data: auth };
  }
  if (type === PACKET_DISCONNECT) {
    // python-socketio sends data: nil; socket.io-client sends none.
    if (data !== undefined && data !== null)
      throw new RejectedFrame(`DISCONNECT carries no data, got ${describeValue(data)}`);
    return { type: PACKET_DISCONNECT, nsp: '/' };
  }
  if (type !== PACKET_EVENT) {
    // ACK: this server never asks clients for acks; CONNECT_ERROR and the binary types are server-only or not msgpack.
    throw new RejectedFrame(`packet type ${describeValue(type)} is not accepted from clients`);
  }
  let id: number | undefined;
  if (rawId !== undefined && rawId !== null) {
    if (typeof rawId !== 'number' || !Number.isInteger(rawId) || rawId < 0 || rawId > MAX_ACK_ID)
      throw new RejectedFrame(`ack id must be an integer 0..${MAX_ACK_ID}, got ${describeValue(rawId)}`);
    id = rawId;
  }
  const refuse = (code: ServerErrorCode, message: string): SocketPacket => {
    if (id === undefined) throw new RejectedFrame(message);
    return rejection(id, code, message);
  };
  if (!Array.isArray(data) || data.length === 0)
    return refuse('bad-frame', `event data must be [name, ...arguments], got ${describeValue(data)}`);
  const name: unknown = data[0];
  const schema =
    typeof name === 'string' && Object.prototype.hasOwnProperty.call(CLIENT_EVENT_ARGS, name)
      ? CLIENT_EVENT_ARGS[name as ClientEventName]
      : undefined;
  if (!schema)
    return refuse(
      'bad-frame',
      `unknown event ${describeValue(name)} (events: ${Object.keys(CLIENT_EVENT_ARGS).join(', ')})`,
    );
  const args = data.slice(1);
  const fits = args.length === schema.length && schema.every((kind, i) => matches(kind, args[i]));
  if (!fits) {
    const wanted = schema.length === 0 ? 'no arguments' : schema.join(', ');
    return refuse(
      'bad-payload',
      `${name as string} takes ${wanted}; got ${args.length === 0 ? 'none' : args.map(describeValue).join(', ')}`,
    );
  }
  const packet: SocketPacket = { type: PACKET_EVENT, nsp: '/', data: [name, ...args] };
  if (id !== undefined) packet.id = id;
  return packet;
}

/** notepack (socket.io-msgpack-parser) writes undefined as fixext 1 of type 0 and Node typed arrays as ext type 0. */
function notepackExtensions(): ExtensionCodec {
  const codec = new ExtensionCodec();
  codec.register({
    type: 0,
    encode: () => null,
    decode: (data) => (data.length === 1 && data[0] === 0 ? undefined : data),
  });
  return codec;
}

export interface GuardLimits {
  /** Largest binary argument: the largest legal infer body or probe payload. */
  maxBinaryBytes: number;
}

/** The server's inbound guard for createWireParser: bounded decoding, then admitPacket. */
export function createInboundGuard(limits: GuardLimits): InboundGuard {
  const decoder = new Decoder({
    extensionCodec: notepackExtensions(),
    maxStrLength: MAX_MSGPACK_STRING_BYTES,
    maxBinLength: limits.maxBinaryBytes,
    maxExtLength: limits.maxBinaryBytes,
    maxArrayLength: MAX_MSGPACK_ENTRIES,
    maxMapLength: MAX_MSGPACK_ENTRIES,
  });
  return {
    decodeMsgpack(bytes: Uint8Array): SocketPacket {
      checkMsgpackShape(bytes, MAX_MSGPACK_DEPTH);
      let decoded: unknown;
      try {
        decoded = decoder.decode(bytes);
      } catch (error) {
        throw new RejectedFrame(`msgpack: ${error instanceof Error ? error.message : 'undecodable'}`);
      }
      return admitPacket(decoded);
    },
  };
}
