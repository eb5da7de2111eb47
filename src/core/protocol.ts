/**
 * SplitScope wire protocol, version 1: the binary body of an `infer` request and the typed
 * reply. Framework-free; the browser encodes, the tail server decodes. See docs/protocol.md.
 *
 * Request body (all integers unsigned; varint = LEB128, at most 5 bytes, value < 2^32):
 *   u8 version (=1) | u8 mode (1 split, 2 offload) | varint requestId
 *   split:   u8 levelIndex | u8 bits | u8 count (1..64) | count × ceil(elements·bits/8) code bytes
 *   offload: u8 format (1 png, 2 webp, 3 raw) | u8 count | count × (varint length | image bytes)
 * No per-image lengths in split mode: the server knows elements from the manifest, so the
 * payload length must be exactly count × per-image bytes, which doubles as an integrity check.
 */

export const PROTOCOL_VERSION = 1;

export const MODE_SPLIT = 1;
export const MODE_OFFLOAD = 2;
export type Mode = 'split' | 'offload';

export const IMAGE_FORMATS = { png: 1, webp: 2, raw: 3 } as const;
export type ImageFormat = keyof typeof IMAGE_FORMATS;
const FORMAT_BY_CODE: Record<number, ImageFormat> = { 1: 'png', 2: 'webp', 3: 'raw' };

/** Raw offload images are 28×28 8-bit grey, row-major. */
export const RAW_IMAGE_BYTES = 28 * 28;
export const TOP_K = 3;

/** Errors the server can reply with. Client-side failures ('timeout', 'disconnected') are added by TailClient. */
export type ServerErrorCode =
  | 'bad-version'
  | 'unknown-config'
  | 'bad-length'
  | 'bad-count'
  | 'bad-bits'
  | 'bad-payload'
  | 'bad-frame'
  | 'bad-image'
  | 'busy'
  | 'internal';
export type ClientErrorCode = 'timeout' | 'disconnected';
export type ErrorCode = ServerErrorCode | ClientErrorCode;

export interface WireError<C extends string = ErrorCode> {
  code: C;
  message: string;
}

/** Every ack: a result or a typed error, never silence. */
export type Response<T, C extends string = ErrorCode> =
  { ok: true; data: T } | { ok: false; error: WireError<C> };

export interface ServerLimits {
  maxImagesPerRequest: number;
  /** Per-socket in-flight `infer` requests; past it the reply is 'busy'. */
  maxInFlight: number;
  /** Largest single offload image (encoded bytes). */
  maxImageBytes: number;
  /** Largest `probe` payload. */
  maxProbeBytes: number;
  batchWindowMs: number;
  maxBatch: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxImagesPerRequest: 64,
  maxInFlight: 16,
  // A 28×28 RGBA PNG stored without compression is ~3.3 KB; 8 KiB leaves room for any sane encoder.
  maxImageBytes: 8192,
  maxProbeBytes: 256 * 1024,
  batchWindowMs: 2,
  maxBatch: 64,
};

export interface SplitRequest {
  version: number;
  mode: 'split';
  requestId: number;
  levelIndex: number;
  bits: number;
  count: number;
  /** count × bytesPerImage packed codes (a view into the frame, not a copy). */
  codes: Uint8Array;
}

export interface OffloadRequest {
  version: number;
  mode: 'offload';
  requestId: number;
  format: ImageFormat;
  /** One view per image into the frame. */
  images: Uint8Array[];
}

export type InferRequest = SplitRequest | OffloadRequest;

export interface Prediction {
  /** Index of the most probable class. */
  argmax: number;
  /** Top-k (k = 3) [classIndex, probability] pairs, most probable first. */
  topk: [number, number][];
}

export interface ServerTimings {
  /** Waiting for the batch window / a free model. */
  queuedMs: number;
  /** Protocol parse + unpack/dequantize, or image decoding. */
  decodeMs: number;
  /** The ONNX session run of the batch this request was part of. */
  computeMs: number;
  /** Receive to reply, as seen by the server. */
  totalMs: number;
}

export interface InferResult {
  requestId: number;
  mode: Mode;
  predictions: Prediction[];
  timings: ServerTimings;
  /** Images in the ONNX run this request was part of. */
  batchSize: number;
  /** Requests in that run. */
  batchRequests: number;
  /** High-resolution epoch ms (performance.timeOrigin + performance.now()) at receive and at reply. */
  serverReceivedAt: number;
  serverSentAt: number;
}

export interface LevelSummary {
  index: number;
  id: string;
  elements: number;
  bottleneckShape: [number, number, number];
  /** Bytes per image for bits 1..8 (index 0 = 1 bit). */
  bytesPerImage: number[];
}

export interface ServerInfo {
  protocolVersion: number;
  bundleId: string | null;
  classes: string[];
  levels: LevelSummary[];
  limits: ServerLimits;
  serverTime: number;
}

export interface ProbeResult {
  receivedBytes: number;
  serverTime: number;
}

// ---------------------------------------------------------------------------------------------
// varint (unsigned LEB128, up to 2^32 - 1)

export const MAX_VARINT_BYTES = 5;

export function varintLength(value: number): number {
  let n = 1;
  let v = value >>> 0;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Writes `value` at `offset`, returns the offset after it. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new ProtocolError('bad-frame', `varint out of range: ${value}`);
  let v = value;
  while (v >= 0x80) {
    out[offset++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[offset++] = v;
  return offset;
}

/** Reads a varint; returns null when it is truncated or longer than 5 bytes / over 2^32 - 1. */
export function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= bytes.length) return null;
    const byte = bytes[offset + i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value > 0xffffffff ? null : { value, next: offset + i + 1 };
    scale *= 128;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------

export class ProtocolError extends Error {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function packedBytesPerImage(elements: number, bits: number): number {
  return Math.ceil((elements * bits) / 8);
}

export const SPLIT_HEADER_MAX_BYTES = 2 + MAX_VARINT_BYTES + 3;

export interface SplitEncodeInput {
  requestId: number;
  levelIndex: number;
  bits: number;
  count: number;
  /** Already packed codes of all images, back to back. */
  codes: Uint8Array;
}

export function splitHeaderLength(requestId: number): number {
  return 2 + varintLength(requestId) + 3;
}

export function encodeSplitRequest(input: SplitEncodeInput): Uint8Array {
  const { requestId, levelIndex, bits, count, codes } = input;
  checkByte('levelIndex', levelIndex);
  checkByte('bits', bits);
  checkByte('count', count);
  const out = new Uint8Array(splitHeaderLength(requestId) + codes.length);
  let at = 0;
  out[at++] = PROTOCOL_VERSION;
  out[at++] = MODE_SPLIT;
  at = writeVarint(out, at, requestId);
  out[at++] = levelIndex;
  out[at++] = bits;
  out[at++] = count;
  out.set(codes, at);
  return out;
}

/**
 * Writes the split header into the front of a caller-owned buffer, so the device can pack codes
 * straight after it without a copy; returns the header length.
 */
export function writeSplitHeader(out: Uint8Array, input: Omit<SplitEncodeInput, 'codes'>): number {
  checkByte('levelIndex', input.levelIndex);
  checkByte('bits', input.bits);
  checkByte('count', input.count);
  let at = 0;
  out[at++] = PROTOCOL_VERSION;
  out[at++] = MODE_SPLIT;
  at = writeVarint(out, at, input.requestId);
  out[at++] = input.levelIndex;
  out[at++] = input.bits;
  out[at++] = input.count;
  return at;
}

export interface OffloadEncodeInput {
  requestId: number;
  format: ImageFormat;
  images: Uint8Array[];
}

export function encodeOffloadRequest(input: OffloadEncodeInput): Uint8Array {
  const { requestId, format, images } = input;
  checkByte('count', images.length);
  let length = 2 + varintLength(requestId) + 2;
  for (const image of images) length += varintLength(image.length) + image.length;
  const out = new Uint8Array(length);
  let at = 0;
  out[at++] = PROTOCOL_VERSION;
  out[at++] = MODE_OFFLOAD;
  at = writeVarint(out, at, requestId);
  out[at++] = IMAGE_FORMATS[format];
  out[at++] = images.length;
  for (const image of images) {
    at = writeVarint(out, at, image.length);
    out.set(image, at);
    at += image.length;
  }
  return out;
}

function checkByte(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255)
    throw new ProtocolError('bad-frame', `${name} must fit in a byte, got ${value}`);
}

/** What the decoder needs to know about the served bundle. */
export interface DecodeContext {
  /** elements per level, by level index. */
  levelElements: readonly number[];
  maxImagesPerRequest: number;
  maxImageBytes: number;
}

/**
 * The request id, if the frame is long enough to contain one, so that even a rejected request
 * can be answered with its id.
 */
export function peekRequestId(frame: Uint8Array): number | null {
  if (frame.length < 3) return null;
  return readVarint(frame, 2)?.value ?? null;
}

/** Decodes and validates a request body; throws ProtocolError with the typed code on any defect. */
export function decodeInferRequest(frame: Uint8Array, ctx: DecodeContext): InferRequest {
  if (frame.length < 1) throw new ProtocolError('bad-frame', 'empty frame');
  const version = frame[0]!;
  if (version !== PROTOCOL_VERSION)
    throw new ProtocolError(
      'bad-version',
      `protocol version ${version} is not supported (server speaks ${PROTOCOL_VERSION})`,
    );
  if (frame.length < 2) throw new ProtocolError('bad-frame', 'truncated frame: no mode');
  const mode = frame[1]!;
  const id = readVarint(frame, 2);
  if (!id) throw new ProtocolError('bad-frame', 'truncated or invalid request id');
  let at = id.next;
  if (mode === MODE_SPLIT) {
    if (frame.length < at + 3) throw new ProtocolError('bad-frame', 'truncated split header');
    const levelIndex = frame[at++]!;
    const bits = frame[at++]!;
    const count = frame[at++]!;
    if (levelIndex >= ctx.levelElements.length)
      throw new ProtocolError(
        'unknown-config',
        `unknown level index ${levelIndex} (server has ${ctx.levelElements.length})`,
      );
    if (bits < 1 || bits > 8) throw new ProtocolError('bad-bits', `bits must be 1..8, got ${bits}`);
    checkCount(count, ctx);
    const perImage = packedBytesPerImage(ctx.levelElements[levelIndex]!, bits);
    const expected = count * perImage;
    const actual = frame.length - at;
    if (actual !== expected) {
      throw new ProtocolError(
        'bad-length',
        `payload is ${actual} bytes; ${count} image(s) × ${perImage} bytes = ${expected} expected`,
      );
    }
    return {
      version,
      mode: 'split',
      requestId: id.value,
      levelIndex,
      bits,
      count,
      codes: frame.subarray(at),
    };
  }
  if (mode === MODE_OFFLOAD) {
    if (frame.length < at + 2) throw new ProtocolError('bad-frame', 'truncated offload header');
    const formatCode = frame[at++]!;
    const format = FORMAT_BY_CODE[formatCode];
    if (!format) throw new ProtocolError('unknown-config', `unknown image format ${formatCode}`);
    const count = frame[at++]!;
    checkCount(count, ctx);
    const images: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const length = readVarint(frame, at);
      if (!length) throw new ProtocolError('bad-frame', `truncated length of image ${i}`);
      at = length.next;
      if (length.value === 0 || length.value > ctx.maxImageBytes) {
        throw new ProtocolError(
          'bad-length',
          `image ${i} is ${length.value} bytes (1..${ctx.maxImageBytes} allowed)`,
        );
      }
      if (format === 'raw' && length.value !== RAW_IMAGE_BYTES) {
        throw new ProtocolError(
          'bad-length',
          `raw image ${i} is ${length.value} bytes, ${RAW_IMAGE_BYTES} expected`,
        );
      }
      if (at + length.value > frame.length) throw new ProtocolError('bad-length', `image ${i} is truncated`);
      images.push(frame.subarray(at, at + length.value));
      at += length.value;
    }
    if (at !== frame.length)
      throw new ProtocolError('bad-length', `${frame.length - at} trailing bytes after ${count} image(s)`);
    return { version, mode: 'offload', requestId: id.value, format, images };
  }
  throw new ProtocolError('unknown-config', `unknown mode ${mode}`);
}

function checkCount(count: number, ctx: DecodeContext): void {
  if (count < 1 || count > ctx.maxImagesPerRequest) {
    throw new ProtocolError('bad-count', `image count must be 1..${ctx.maxImagesPerRequest}, got ${count}`);
  }
}

/** Largest legal `infer` body for these limits and levels (sizes maxHttpBufferSize). */
export function maxInferBodyBytes(
  limits: Pick<ServerLimits, 'maxImagesPerRequest' | 'maxImageBytes'>,
  levelElements: readonly number[],
): number {
  const header = 2 + MAX_VARINT_BYTES + 3;
  const maxElements = levelElements.reduce((a, b) => Math.max(a, b), 0);
  const split = header + limits.maxImagesPerRequest * packedBytesPerImage(maxElements, 8);
  const offload =
    header + limits.maxImagesPerRequest * (varintLength(limits.maxImageBytes) + limits.maxImageBytes);
  return Math.max(split, offload);
}

/** Softmax + top-k of one row of logits. */
export function topK(
  logits: Float32Array | readonly number[],
  offset: number,
  classes: number,
  k = TOP_K,
): Prediction {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c]!);
  let sum = 0;
  const probs = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    const e = Math.exp(logits[offset + c]! - max);
    probs[c] = e;
    sum += e;
  }
  const order = Array.from({ length: classes }, (_, c) => c);
  // Ties break toward the lower class index, like argmax in PyTorch/NumPy.
  order.sort((a, b) => logits[offset + b]! - logits[offset + a]! || a - b);
  const top = order.slice(0, Math.min(k, classes)).map((c) => [c, probs[c]! / sum] as [number, number]);
  return { argmax: top[0]![0], topk: top };
}
