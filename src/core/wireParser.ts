/**
 * A socket.io parser (the { Encoder, Decoder } pair that `new Server({ parser })` and
 * `io(url, { parser })` take) that sends each inference request as ONE compact binary
 * WebSocket message:
 *
 *   u8 kind (0x01 event with ack, 0x02 event without ack) | [varint ack id] | u8 event code | payload
 *
 * for EVENT packets on namespace "/" whose data is [name from WIRE_EVENT_CODES, one Uint8Array].
 * Everything else (CONNECT, acks, errors, non-binary events) is socket.io-msgpack-parser's
 * msgpack encoding. A msgpack packet is a map, whose first byte is 0x80-0x8f, 0xde or 0xdf,
 * so the first byte tells the two apart; any other first byte is not ours.
 *
 * Why not just msgpack: msgpack spends ~25 bytes per request on map keys ("type", "data", "nsp",
 * "id") and the event name; this frame spends 3-7 (see docs/protocol.md for measurements).
 *
 * Garbage: Decoder.add throws on anything it cannot map to a packet (unknown first byte,
 * truncated compact header, invalid msgpack); socket.io catches that and closes that one
 * connection, which is right for bytes that are not socket.io at all. A compact frame whose
 * header is intact but whose event code is unknown still decodes, to the 'bad-frame' event, so
 * the sender gets a typed error; a bad request *body* is the protocol decoder's job and is
 * answered with a typed error too.
 *
 * The server passes an InboundGuard (server/packetGuard.ts): msgpack is then decoded with bounded
 * lengths and every packet is checked before socket.io sees it. Clients trust their server and
 * decode its replies with notepack, as socket.io-msgpack-parser does.
 */
import * as msgpackParser from 'socket.io-msgpack-parser';
import { WIRE_EVENT_CODES, type WireEventName } from './events';
import {
  MAX_VARINT_BYTES,
  maxInferBodyBytes,
  readVarint,
  varintLength,
  writeVarint,
  type ServerLimits,
} from './protocol';

/** socket.io-parser's packet shape (socket.io-parser is not a direct dependency). */
export interface SocketPacket {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

export const PACKET_EVENT = 2;
export const PACKET_ACK = 3;
const PACKET_BINARY_EVENT = 5;

export const KIND_EVENT_ACK = 0x01;
export const KIND_EVENT = 0x02;

const EVENT_BY_CODE = new Map<number, WireEventName>(
  (Object.entries(WIRE_EVENT_CODES) as [WireEventName, number][]).map(([name, code]) => [code, name]),
);

export interface WireParserHooks {
  /** Called for every encoded packet with the byte length of what goes on the wire. */
  onEncoded?(packet: SocketPacket, bytes: number, compact: boolean): void;
  /** Called for every decoded packet with the byte length of the message it came from. */
  onDecoded?(packet: SocketPacket, bytes: number, compact: boolean): void;
}

/** Replaces the msgpack fallback's decoding: returns a checked packet or throws (closes the connection). */
export interface InboundGuard {
  decodeMsgpack(bytes: Uint8Array): SocketPacket;
}

/** Bytes a msgpack envelope may add around a request payload: map keys, event name, id, options. */
export const MSGPACK_ENVELOPE_BYTES = 128;

export interface WireParser {
  Encoder: new () => { encode(packet: SocketPacket): unknown[] };
  Decoder: new () => {
    add(chunk: unknown): void;
    destroy(): void;
    on(event: 'decoded', listener: (packet: SocketPacket) => void): unknown;
    off(event?: string, listener?: (packet: SocketPacket) => void): unknown;
  };
}

/** Compact frame length for a payload: what the WebSocket message of that emit will carry. */
export function compactFrameLength(payloadBytes: number, ackId?: number): number {
  return 1 + (ackId === undefined ? 0 : varintLength(ackId)) + 1 + payloadBytes;
}

type PayloadLimits = Pick<ServerLimits, 'maxImagesPerRequest' | 'maxImageBytes' | 'maxProbeBytes'>;

/** Largest binary argument of any request: the largest legal infer body or probe payload. */
export function maxLegalPayloadBytes(limits: PayloadLimits, levelElements: readonly number[]): number {
  return Math.max(maxInferBodyBytes(limits, levelElements), limits.maxProbeBytes);
}

/** Largest legal compact frame for these limits: kind, ack id varint, event code, payload. */
export function maxLegalFrameBytes(limits: PayloadLimits, levelElements: readonly number[]): number {
  return 2 + MAX_VARINT_BYTES + maxLegalPayloadBytes(limits, levelElements);
}

/**
 * Largest legal message in any encoding the server accepts, used as maxHttpBufferSize: the same
 * payload in a msgpack packet (a stock socket.io-msgpack-parser client) costs up to
 * MSGPACK_ENVELOPE_BYTES around it, more than the compact frame's 7.
 */
export function maxLegalMessageBytes(limits: PayloadLimits, levelElements: readonly number[]): number {
  return maxLegalPayloadBytes(limits, levelElements) + MSGPACK_ENVELOPE_BYTES;
}

function compactEventOf(packet: SocketPacket): { code: number; payload: Uint8Array } | null {
  if ((packet.type !== PACKET_EVENT && packet.type !== PACKET_BINARY_EVENT) || packet.nsp !== '/')
    return null;
  const data = packet.data;
  if (!Array.isArray(data) || data.length !== 2) return null;
  const [name, payload] = data as [unknown, unknown];
  if (typeof name !== 'string' || !(payload instanceof Uint8Array)) return null;
  const code = (WIRE_EVENT_CODES as Record<string, number>)[name];
  return code === undefined ? null : { code, payload };
}

function asBytes(chunk: unknown): Uint8Array | null {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return null;
}

function byteLengthOf(chunk: unknown): number {
  if (typeof chunk === 'string') return chunk.length;
  return asBytes(chunk)?.byteLength ?? 0;
}

type Listener = (packet: SocketPacket) => void;

/**
 * Builds a parser; hooks let TailClient learn the exact bytes of each message (tests use it too);
 * the server passes its inbound guard.
 */
export function createWireParser(hooks: WireParserHooks = {}, guard?: InboundGuard): WireParser {
  class Encoder {
    private readonly fallback = new msgpackParser.Encoder();

    encode(packet: SocketPacket): unknown[] {
      const compact = compactEventOf(packet);
      if (!compact) {
        const encoded = this.fallback.encode(packet) as unknown as unknown[];
        hooks.onEncoded?.(packet, byteLengthOf(encoded[0]), false);
        return encoded;
      }
      const frame = new Uint8Array(compactFrameLength(compact.payload.length, packet.id));
      let at = 0;
      if (packet.id === undefined) {
        frame[at++] = KIND_EVENT;
      } else {
        frame[at++] = KIND_EVENT_ACK;
        at = writeVarint(frame, at, packet.id);
      }
      frame[at++] = compact.code;
      frame.set(compact.payload, at);
      hooks.onEncoded?.(packet, frame.length, true);
      return [frame];
    }
  }

  class Decoder {
    private listeners: Listener[] = [];
    private fallback: InstanceType<typeof msgpackParser.Decoder> | null = null;
    private pendingBytes = 0;

    on(event: string, listener: Listener): this {
      if (event === 'decoded') this.listeners.push(listener);
      return this;
    }

    off(event?: string, listener?: Listener): this {
      if (event === undefined) this.listeners = [];
      else if (event === 'decoded')
        this.listeners = listener ? this.listeners.filter((l) => l !== listener) : [];
      return this;
    }

    // socket.io's server Client.destroy() calls removeListener (the component-emitter name).
    removeListener(event?: string, listener?: Listener): this {
      return this.off(event, listener);
    }

    removeAllListeners(): this {
      return this.off();
    }

    private emitDecoded(packet: SocketPacket, bytes: number, compact: boolean): void {
      hooks.onDecoded?.(packet, bytes, compact);
      for (const listener of [...this.listeners]) listener(packet);
    }

    add(chunk: unknown): void {
      const bytes = asBytes(chunk);
      // We never send text; a string is another parser's client (or junk) and is rejected.
      if (!bytes || bytes.length === 0) throw new Error('wire parser: expected a non-empty binary message');
      const kind = bytes[0]!;
      if (kind === KIND_EVENT_ACK || kind === KIND_EVENT) {
        this.emitDecoded(decodeCompact(bytes), bytes.length, true);
        return;
      }
      if ((kind >= 0x80 && kind <= 0x8f) || kind === 0xde || kind === 0xdf) {
        this.decodeMsgpack(chunk, bytes.length);
        return;
      }
      throw new Error(`wire parser: unknown frame kind 0x${kind.toString(16)}`);
    }

    private decodeMsgpack(chunk: unknown, bytes: number): void {
      if (guard) {
        this.emitDecoded(guard.decodeMsgpack(asBytes(chunk)!), bytes, false);
        return;
      }
      if (!this.fallback) {
        this.fallback = new msgpackParser.Decoder();
        this.fallback.on('decoded', (packet: SocketPacket) =>
          this.emitDecoded(packet, this.pendingBytes, false),
        );
      }
      this.pendingBytes = bytes;
      // notepack's browser build wants an ArrayBuffer; Node's wants a Buffer: pass what the transport gave.
      this.fallback.add(chunk);
    }

    destroy(): void {
      this.listeners = [];
      this.fallback?.destroy();
      this.fallback = null;
    }
  }

  return { Encoder, Decoder } as unknown as WireParser;
}

function decodeCompact(bytes: Uint8Array): SocketPacket {
  let at = 1;
  let id: number | undefined;
  if (bytes[0] === KIND_EVENT_ACK) {
    const ack = readVarint(bytes, at);
    if (!ack) throw new Error('wire parser: truncated ack id');
    id = ack.value;
    at = ack.next;
  }
  if (at >= bytes.length) throw new Error('wire parser: truncated frame (no event code)');
  const code = bytes[at++]!;
  const name = EVENT_BY_CODE.get(code);
  // A view, not a copy: the request decoder only reads it.
  const payload = bytes.subarray(at);
  if (!name) {
    if (id === undefined) throw new Error(`wire parser: unknown event code ${code}`);
    const rejection = { code: 'bad-frame', message: `unknown event code ${code}` };
    return { type: PACKET_EVENT, nsp: '/', id, data: ['bad-frame', rejection] };
  }
  const packet: SocketPacket = { type: PACKET_EVENT, nsp: '/', data: [name, payload] };
  if (id !== undefined) packet.id = id;
  return packet;
}

/** The parser without hooks, for `new Server({ parser: wireParser })` and plain clients. */
export const wireParser: WireParser = createWireParser();
