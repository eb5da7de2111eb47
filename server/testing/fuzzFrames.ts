/**
 * What a hostile client sends, as fast-check arbitraries: frames from the grammar of both
 * encodings (compact frames, msgpack packets), msgpack headers that claim huge lengths, random
 * bytes, engine.io text frames, and mutations of valid frames. Plus the runner that sends them
 * one by one over a raw session and classifies what came back.
 */
import { Decoder, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import {
  encodeOffloadRequest,
  encodeSplitRequest,
  readVarint,
  type ErrorCode,
  type InferResult,
  type Response,
} from '../../src/core/protocol';
import { TailClient } from '../../src/core/tailClient';
import { connectRaw } from './helpers';
import { fromHex, hex, msgpackFrame, RawSession, replyCode, type ChildServer } from './hostile';

export type FrameClass = 'compact' | 'msgpack' | 'headers' | 'bytes' | 'text' | 'mutation';
export const FRAME_CLASSES: readonly FrameClass[] = [
  'compact',
  'msgpack',
  'headers',
  'bytes',
  'text',
  'mutation',
];

export interface Frame {
  cls: FrameClass;
  bytes: Uint8Array | string;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Valid request bodies for a bundle whose levels have these element counts. */
export function validBody(levelElements: readonly number[]): fc.Arbitrary<Uint8Array> {
  const split = fc
    .record({
      requestId: u32,
      levelIndex: fc.integer({ min: 0, max: Math.max(0, levelElements.length - 1) }),
      bits: fc.integer({ min: 1, max: 8 }),
      count: fc.integer({ min: 1, max: 4 }),
      seed: fc.integer(),
    })
    .map(({ requestId, levelIndex, bits, count, seed }) => {
      const perImage = Math.ceil(((levelElements[levelIndex] ?? 98) * bits) / 8);
      const codes = new Uint8Array(count * perImage);
      let state = seed >>> 0 || 1;
      for (let i = 0; i < codes.length; i++)
        codes[i] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
      return encodeSplitRequest({ requestId, levelIndex, bits, count, codes });
    });
  const offload = fc
    .record({ requestId: u32, count: fc.integer({ min: 1, max: 2 }), fill: fc.integer({ min: 0, max: 255 }) })
    .map(({ requestId, count, fill }) =>
      encodeOffloadRequest({
        requestId,
        format: 'raw',
        images: Array.from({ length: count }, () => new Uint8Array(784).fill(fill)),
      }),
    );
  return fc.oneof(split, offload);
}

function compactFrame(ack: number | null, code: number, payload: Uint8Array): Uint8Array {
  const head = ack === null ? [0x02] : [0x01, ...varint(ack)];
  const out = new Uint8Array(head.length + 1 + payload.length);
  out.set(head);
  out[head.length] = code;
  out.set(payload, head.length + 1);
  return out;
}

/** Values that have tripped servers: own toString/valueOf keys, nesting, odd numbers. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ toString: 1 }),
  fc.constant({ valueOf: 'x', toJSON: 2 }),
  fc.constant([[{ toString: 1 }]]),
  fc.constant({ constructor: { prototype: 1 } }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.integer(), { maxLength: 8 }),
);

const eventName: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'infer',
      'probe',
      'info',
      'bad-frame',
      'error',
      'disconnect',
      'disconnecting',
      'connect',
      'newListener',
      'removeListener',
      '__proto__',
      'toString',
      'constructor',
      'hasOwnProperty',
    ),
    weight: 4,
  },
  { arbitrary: fc.string({ maxLength: 300 }), weight: 1 },
  { arbitrary: hostileValue, weight: 1 },
);

function msgpackPacket(levelElements: readonly number[]): fc.Arbitrary<Uint8Array> {
  const args = fc.array(fc.oneof(validBody(levelElements), hostileValue), { maxLength: 4 });
  const data = fc.oneof(
    { arbitrary: fc.tuple(eventName, args).map(([name, rest]) => [name, ...rest]), weight: 6 },
    { arbitrary: fc.constant([]), weight: 1 },
    { arbitrary: hostileValue, weight: 1 },
  );
  const id = fc.oneof(
    { arbitrary: u32, weight: 6 },
    { arbitrary: fc.constantFrom(-1, 1.5, 2 ** 40, Number.MAX_SAFE_INTEGER, 'x'), weight: 1 },
  );
  const type = fc.oneof(
    { arbitrary: fc.constant(2), weight: 8 },
    { arbitrary: fc.integer({ min: 0, max: 6 }), weight: 4 },
    { arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), weight: 1 },
  );
  const nsp = fc.oneof(
    { arbitrary: fc.constant('/'), weight: 8 },
    { arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null)), weight: 1 },
  );
  return fc
    .record(
      {
        type,
        nsp,
        data,
        id,
        options: fc.constant({ compress: true }),
        protoKey: fc.integer({ min: 0, max: 9 }),
      },
      { requiredKeys: ['type', 'nsp', 'data', 'protoKey'] },
    )
    .map((fields) => {
      const { protoKey, ...packet } = fields;
      // Now and then an own "__proto__" key, as a hostile encoder can write one.
      if (protoKey === 0) Object.defineProperty(packet, '__proto__', { value: 1, enumerable: true });
      return msgpackFrame(packet);
    });
}

/** Container/string/bin/ext headers that claim far more than the frame holds. */
const lengthHeaders = fc
  .record({
    head: fc.constantFrom<number>(
      0xc4,
      0xc5,
      0xc6,
      0xc7,
      0xc8,
      0xc9,
      0xd9,
      0xda,
      0xdb,
      0xdc,
      0xdd,
      0xde,
      0xdf,
    ),
    length: fc.oneof(u32, fc.constantFrom(0xffffffff, 0x10000000, 0x01c9c380)),
    atTop: fc.boolean(),
    tail: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ head, length, atTop, tail }) => {
    const width = [0xc4, 0xc7, 0xd9].includes(head)
      ? 1
      : [0xc5, 0xc8, 0xda, 0xdc, 0xde].includes(head)
        ? 2
        : 4;
    const bytes = [head];
    for (let i = width - 1; i >= 0; i--) bytes.push(Math.floor(length / 256 ** i) & 0xff);
    // As the value of "data" in a one-entry map (the shape of the issue's packets), or as the key.
    const prefix = atTop ? [0x81] : [0x81, 0xa4, 0x64, 0x61, 0x74, 0x61];
    return new Uint8Array([...prefix, ...bytes, ...tail]);
  });

/** Deeply nested arrays/maps: cheap to send, costly to decode recursively. */
const nesting = fc
  .record({ depth: fc.integer({ min: 5, max: 20_000 }), map: fc.boolean() })
  .map(({ depth, map }) => {
    const prefix = [0x81, 0xa4, 0x64, 0x61, 0x74, 0x61];
    const out = new Uint8Array(prefix.length + depth * (map ? 2 : 1) + 1);
    out.set(prefix);
    let at = prefix.length;
    for (let i = 0; i < depth; i++) {
      if (map) {
        out[at++] = 0x81;
        out[at++] = 0x00;
      } else out[at++] = 0x91;
    }
    out[at] = 0xc0;
    return out;
  });

const engineText = fc.oneof(
  fc.constantFrom('1', '2', '3', '5', '6', '2probe', '40', '41', '42["info"]', '4'),
  fc.string({ maxLength: 64 }).map((s) => `4${s}`),
  fc.string({ maxLength: 64 }),
);

function mutate(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      frame: valid,
      edits: fc.array(
        fc.record({
          op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'duplicate'),
          at: fc.nat(),
          value: fc.integer({ min: 0, max: 255 }),
          length: fc.integer({ min: 1, max: 16 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map(({ frame, edits }) => {
      let bytes = Array.from(frame);
      for (const edit of edits) {
        const at = bytes.length === 0 ? 0 : edit.at % bytes.length;
        if (edit.op === 'flip' && bytes.length) bytes[at] = bytes[at]! ^ (1 << (edit.value % 8));
        else if (edit.op === 'set' && bytes.length) bytes[at] = edit.value;
        else if (edit.op === 'insert')
          bytes.splice(at, 0, ...new Array<number>(edit.length).fill(edit.value));
        else if (edit.op === 'delete') bytes.splice(at, edit.length);
        else if (edit.op === 'truncate') bytes = bytes.slice(0, at);
        else if (edit.op === 'duplicate') bytes.splice(at, 0, ...bytes.slice(at, at + edit.length));
      }
      return new Uint8Array(bytes);
    });
}

export function frameArbitrary(cls: FrameClass, levelElements: readonly number[]): fc.Arbitrary<Frame> {
  const body = validBody(levelElements);
  const compact = fc
    .record({
      ack: fc.option(u32, { nil: null }),
      code: fc.oneof(
        { arbitrary: fc.constantFrom(1, 2), weight: 4 },
        { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 },
      ),
      payload: fc.oneof(body, fc.uint8Array({ maxLength: 600 })),
    })
    .map(({ ack, code, payload }) => compactFrame(ack, code, payload));
  const validFrames = fc.oneof(
    compact,
    body.map((b) => msgpackFrame({ type: 2, nsp: '/', data: ['infer', b], id: 3 })),
    fc.constant(msgpackFrame({ type: 2, nsp: '/', data: ['info'], id: 5, options: { compress: true } })),
  );
  const arbitraries: Record<FrameClass, fc.Arbitrary<Uint8Array | string>> = {
    compact,
    msgpack: msgpackPacket(levelElements),
    headers: fc.oneof(lengthHeaders, nesting),
    bytes: fc.uint8Array({ maxLength: 300 }),
    text: engineText,
    mutation: mutate(validFrames),
  };
  return arbitraries[cls].map((bytes) => ({ cls, bytes }));
}

/** The issue's packets, as sent by the fuzzer that found them. */
export const ISSUE_PACKETS: Readonly<Record<string, Uint8Array>> = {
  toStringData: fromHex('83a47479706502a36e7370a12fa4646174619181a8746f537472696e6701'),
  ext32Header: fromHex('81c91000000000'),
  array32Header: fromHex('81dd01c9c380'),
};

export interface TargetedPacket {
  /** The finding of issue #12 it reproduces. */
  finding: number;
  name: string;
  frame: Uint8Array;
  /** The ack id it carries (owed one reply, or a close), or null (owed a close). */
  id: number | null;
}

/** The issue's targeted packets as frames: finding 1 (process exit), 2 (silence), 3 (amplification), 8a. */
export const TARGETED_PACKETS: readonly TargetedPacket[] = [
  {
    finding: 1,
    name: 'issue hex: {toString} as data, no ack id',
    frame: ISSUE_PACKETS['toStringData']!,
    id: null,
  },
  {
    finding: 1,
    name: '{toString} as data, with an ack id',
    frame: msgpackFrame({ type: 2, nsp: '/', data: [{ toString: 1 }], id: 7 }),
    id: 7,
  },
  {
    finding: 1,
    name: "'__proto__' as event name",
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['__proto__'], id: 8 }),
    id: 8,
  },
  {
    finding: 1,
    name: '[[{toString}]] as event name',
    frame: msgpackFrame({ type: 2, nsp: '/', data: [[[{ toString: 1 }]]], id: 9 }),
    id: 9,
  },
  {
    finding: 1,
    name: "['error', {toString}]",
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['error', { toString: 1 }] }),
    id: null,
  },
  {
    finding: 1,
    name: "['error', {toString}] with an ack id",
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['error', { toString: 1 }], id: 10 }),
    id: 10,
  },
  {
    finding: 1,
    name: "['disconnect', {toString}]",
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['disconnect', { toString: 1 }] }),
    id: null,
  },
  {
    finding: 1,
    name: "['disconnect', {toString}] with an ack id",
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['disconnect', { toString: 1 }], id: 12 }),
    id: 12,
  },
  {
    finding: 1,
    name: 'an event of 60,000 arguments with an ack id',
    frame: msgpackFrame({ type: 2, nsp: '/', data: ['infer', ...new Array<number>(60_000).fill(0)], id: 11 }),
    id: 11,
  },
  {
    finding: 2,
    name: 'EVENT with empty data and an ack id',
    frame: msgpackFrame({ type: 2, nsp: '/', data: [], id: 42 }),
    id: 42,
  },
  { finding: 3, name: 'ext32 header claiming 256 MiB', frame: ISSUE_PACKETS['ext32Header']!, id: null },
  {
    finding: 3,
    name: 'array32 header claiming 30 M elements',
    frame: ISSUE_PACKETS['array32Header']!,
    id: null,
  },
  {
    finding: 8,
    name: "python-socketio's DISCONNECT (data: nil)",
    frame: msgpackFrame({ type: 1, nsp: '/', data: null }),
    id: null,
  },
];

const oracleDecoder = (length: number): Decoder =>
  new Decoder({
    maxArrayLength: length,
    maxMapLength: length,
    maxStrLength: length,
    maxBinLength: length,
    maxExtLength: length,
  });

/**
 * The ack id a lenient reader sees in a frame: a compact frame of kind 0x01 with a whole varint
 * and an event code, or a msgpack EVENT on '/' with an integer id in u32 range. The server owes
 * such a frame one reply, or it closes the socket. (Our oracle, independent of the server's code.)
 */
export function expectedAckId(bytes: Uint8Array | string): number | null {
  if (typeof bytes === 'string' || bytes.length === 0) return null;
  if (bytes[0] === 0x01) {
    const id = readVarint(bytes, 1);
    return id && id.next < bytes.length ? id.value : null;
  }
  let packet: unknown;
  try {
    // Depth is bounded by the frame; a lenient decode of a hostile nesting can overflow the stack.
    packet = oracleDecoder(bytes.length).decode(bytes);
  } catch {
    return null;
  }
  if (!packet || typeof packet !== 'object') return null;
  const { type, nsp, id } = packet as { type?: unknown; nsp?: unknown; id?: unknown };
  if (type !== 2 || nsp !== '/') return null;
  return Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0xffffffff ? (id as number) : null;
}

export type Verdict = 'replied' | 'closed' | 'no-reply-needed' | 'silent' | 'duplicate' | 'exited';

export interface FrameResult {
  verdict: Verdict;
  code: string | null;
}

/** An `info` request with an id no fuzz frame is likely to use: proves the server got past the frame. */
let sentinelId = 0xfffff000;
function sentinel(): { id: number; frame: Uint8Array } {
  sentinelId = sentinelId >= 0xffffffff ? 0xfffff000 : sentinelId + 1;
  return { id: sentinelId, frame: encode({ type: 2, nsp: '/', data: ['info'], id: sentinelId }) };
}

/**
 * Sends frames one at a time over one raw session (a new one after each close) and judges each:
 * a frame with an ack id must get exactly one reply or close the socket; any frame must be
 * followed by the server answering the sentinel or closing (never a hang); the process must live.
 */
export class FuzzRunner {
  private session: RawSession | null = null;
  readonly verdicts = new Map<FrameClass, Record<Verdict, number>>();
  readonly failures: { frame: Frame; verdict: Verdict; detail: string }[] = [];
  sent = 0;

  constructor(
    private readonly server: ChildServer,
    private readonly replyTimeoutMs = 5000,
  ) {}

  private async open(): Promise<RawSession> {
    if (this.session && !this.session.closed) return this.session;
    this.session?.close();
    const session = new RawSession(this.server.port);
    await session.connect();
    this.session = session;
    return session;
  }

  private count(cls: FrameClass, verdict: Verdict): void {
    const row =
      this.verdicts.get(cls) ??
      ({ replied: 0, closed: 0, 'no-reply-needed': 0, silent: 0, duplicate: 0, exited: 0 } as Record<
        Verdict,
        number
      >);
    row[verdict]++;
    this.verdicts.set(cls, row);
  }

  async send(frame: Frame): Promise<FrameResult> {
    const result = await this.judge(frame);
    this.sent++;
    this.count(frame.cls, result.verdict);
    if (result.verdict === 'silent' || result.verdict === 'duplicate' || result.verdict === 'exited') {
      this.failures.push({
        frame,
        verdict: result.verdict,
        detail: `${hex(frame.bytes)} ${result.code ?? ''}`,
      });
    }
    return result;
  }

  private async judge(frame: Frame): Promise<FrameResult> {
    if (this.server.exit()) return { verdict: 'exited', code: null };
    const session = await this.open();
    const ackId = expectedAckId(frame.bytes);
    const probe = sentinel();
    session.send(frame.bytes);
    session.send(probe.frame);
    const settled = await session.until(
      () => session.repliesTo(probe.id).length > 0 && (ackId === null || session.repliesTo(ackId).length > 0),
      this.replyTimeoutMs,
    );
    // Give a double reply the time to show up behind the first.
    if (ackId !== null && settled) await session.until(() => session.repliesTo(ackId).length > 1, 2);
    if (this.server.exit()) return { verdict: 'exited', code: null };
    const replies = ackId === null ? [] : session.repliesTo(ackId);
    const code = replies[0] ? replyCode(replies[0]) : null;
    let verdict: Verdict;
    if (ackId !== null && ackId !== probe.id && replies.length > 1) verdict = 'duplicate';
    else if (!settled && !session.closed) verdict = 'silent';
    else if (ackId !== null && replies.length > 0) verdict = 'replied';
    else if (session.closed) verdict = 'closed';
    else verdict = 'no-reply-needed';
    if (verdict === 'silent' || verdict === 'duplicate' || session.closed) {
      session.close();
      this.session = null;
    } else {
      // Ids are per socket: forget this frame's replies so a reused id is judged afresh.
      session.clearReplies();
    }
    return { verdict, code };
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }
}

/** A breath between a neighbour's requests: a steady stream, not a busy loop on a shared CPU. */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

/**
 * Well-formed clients next to the fuzzer, on their own connections: TailClient (compact frames)
 * and a stock socket.io-msgpack-parser client, each sending the same request over and over and
 * comparing every answer with the first one.
 */
export class WellFormedNeighbours {
  total = 0;
  wrong: string[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private tail: TailClient | null = null;
  private stock: Socket | null = null;

  constructor(
    private readonly url: string,
    private readonly frame: Uint8Array,
  ) {}

  async start(): Promise<void> {
    this.tail = new TailClient({ reconnection: false });
    await this.tail.connect(this.url);
    this.stock = await connectRaw(this.url, 'msgpack');
    const tail = this.tail;
    const stock = this.stock;
    const reference = await tail.request(this.frame, 10_000);
    if (!reference.ok) throw new Error(`reference request failed: ${reference.error.code}`);
    const expected = reference.data.predictions.map((p) => p.argmax).join();
    this.running = true;
    const check = (label: string, response: Response<InferResult, ErrorCode>): void => {
      this.total++;
      const got = response.ok ? response.data.predictions.map((p) => p.argmax).join() : response.error.code;
      if (got !== expected && this.wrong.length < 20)
        this.wrong.push(`${label}: ${got} (expected ${expected})`);
      else if (got !== expected) this.wrong.push('…');
    };
    this.loops = [
      (async () => {
        while (this.running) {
          check('TailClient', await tail.request(this.frame, 10_000));
          await pause();
        }
      })(),
      (async () => {
        while (this.running) {
          try {
            const reply = (await stock
              .timeout(10_000)
              .emitWithAck('infer', Buffer.from(this.frame))) as Response<InferResult, ErrorCode>;
            check('msgpack client', reply);
          } catch (error) {
            check('msgpack client', { ok: false, error: { code: 'timeout', message: String(error) } });
          }
          await pause();
        }
      })(),
    ];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.tail?.close();
    this.stock?.close();
  }
}
