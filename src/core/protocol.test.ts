import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  RAW_IMAGE_BYTES,
  decodeInferRequest,
  encodeOffloadRequest,
  encodeSplitRequest,
  maxInferBodyBytes,
  packedBytesPerImage,
  peekRequestId,
  readVarint,
  splitHeaderLength,
  topK,
  varintLength,
  writeSplitHeader,
  writeVarint,
  type DecodeContext,
  type ServerErrorCode,
} from './protocol';

const ctx: DecodeContext = {
  levelElements: [98, 196, 392],
  maxImagesPerRequest: 64,
  maxImageBytes: DEFAULT_LIMITS.maxImageBytes,
};

function codeOf(fn: () => unknown): ServerErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

describe('varint', () => {
  it('round-trips the u32 range and reports lengths', () => {
    for (const value of [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      const buf = new Uint8Array(8);
      const end = writeVarint(buf, 1, value);
      expect(end - 1).toBe(varintLength(value));
      expect(readVarint(buf, 1)).toEqual({ value, next: end });
    }
  });
  it('rejects truncated, over-long and out-of-range varints', () => {
    expect(readVarint(new Uint8Array([0x80]), 0)).toBeNull();
    expect(readVarint(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0)).toBeNull();
    expect(readVarint(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]), 0)).toBeNull();
    expect(() => writeVarint(new Uint8Array(8), 0, 2 ** 32)).toThrow(ProtocolError);
    expect(() => writeVarint(new Uint8Array(8), 0, -1)).toThrow(ProtocolError);
  });
});

describe('split requests', () => {
  it('round-trips every level, bit-width and count 1..64 with a tiny header', () => {
    for (const [levelIndex, elements] of ctx.levelElements.entries()) {
      for (let bits = 1; bits <= 8; bits++) {
        for (const count of [1, 2, 16, 64]) {
          const codes = Uint8Array.from(
            { length: count * packedBytesPerImage(elements, bits) },
            (_, i) => (i * 31 + bits) & 0xff,
          );
          const requestId = (levelIndex * 1000 + bits * 100 + count) * 1009;
          const frame = encodeSplitRequest({ requestId, levelIndex, bits, count, codes });
          expect(frame.length - codes.length).toBe(splitHeaderLength(requestId));
          expect(frame.length - codes.length).toBeLessThanOrEqual(10);
          const decoded = decodeInferRequest(frame, ctx);
          expect(decoded).toMatchObject({
            version: PROTOCOL_VERSION,
            mode: 'split',
            requestId,
            levelIndex,
            bits,
            count,
          });
          expect(decoded.mode === 'split' && Array.from(decoded.codes)).toEqual(Array.from(codes));
          expect(peekRequestId(frame)).toBe(requestId);
        }
      }
    }
  });

  it('writeSplitHeader matches encodeSplitRequest', () => {
    const codes = new Uint8Array(25).fill(9);
    const frame = encodeSplitRequest({ requestId: 5000, levelIndex: 1, bits: 1, count: 1, codes });
    const out = new Uint8Array(frame.length);
    const at = writeSplitHeader(out, { requestId: 5000, levelIndex: 1, bits: 1, count: 1 });
    out.set(codes, at);
    expect(out).toEqual(frame);
  });

  it('rejects each malformation with its typed code', () => {
    const good = (): Uint8Array =>
      encodeSplitRequest({ requestId: 3, levelIndex: 0, bits: 2, count: 2, codes: new Uint8Array(50) });
    const mutate = (i: number, v: number): Uint8Array => {
      const f = good();
      f[i] = v;
      return f;
    };
    expect(codeOf(() => decodeInferRequest(good(), ctx))).toBe('no error');
    expect(codeOf(() => decodeInferRequest(new Uint8Array(0), ctx))).toBe('bad-frame');
    expect(codeOf(() => decodeInferRequest(mutate(0, 2), ctx))).toBe('bad-version');
    expect(codeOf(() => decodeInferRequest(mutate(0, 0), ctx))).toBe('bad-version');
    expect(codeOf(() => decodeInferRequest(mutate(1, 3), ctx))).toBe('unknown-config');
    expect(codeOf(() => decodeInferRequest(mutate(3, 3), ctx))).toBe('unknown-config');
    expect(codeOf(() => decodeInferRequest(mutate(4, 0), ctx))).toBe('bad-bits');
    expect(codeOf(() => decodeInferRequest(mutate(4, 9), ctx))).toBe('bad-bits');
    expect(codeOf(() => decodeInferRequest(mutate(5, 0), ctx))).toBe('bad-count');
    expect(codeOf(() => decodeInferRequest(mutate(5, 65), ctx))).toBe('bad-count');
    expect(codeOf(() => decodeInferRequest(mutate(5, 3), ctx))).toBe('bad-length');
    expect(codeOf(() => decodeInferRequest(good().subarray(0, 55), ctx))).toBe('bad-length');
    expect(codeOf(() => decodeInferRequest(Uint8Array.of(...good(), 0), ctx))).toBe('bad-length');
    for (let cut = 1; cut < 6; cut++)
      expect(codeOf(() => decodeInferRequest(good().subarray(0, cut), ctx))).toBe('bad-frame');
    expect(codeOf(() => decodeInferRequest(new Uint8Array([1, 1, 0x80, 0x80, 0x80, 0x80, 0x80]), ctx))).toBe(
      'bad-frame',
    );
  });

  it('never throws anything but ProtocolError on random bytes', () => {
    let state = 42;
    for (let i = 0; i < 5000; i++) {
      const frame = new Uint8Array(i % 64);
      for (let b = 0; b < frame.length; b++)
        frame[b] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
      if (i % 3 === 0 && frame.length > 1) frame[0] = 1;
      try {
        decodeInferRequest(frame, ctx);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }
  });
});

describe('offload requests', () => {
  it('round-trips png/webp/raw with per-image lengths', () => {
    const images = [new Uint8Array(500).fill(1), new Uint8Array(130).fill(2), new Uint8Array(1).fill(3)];
    for (const format of ['png', 'webp'] as const) {
      const decoded = decodeInferRequest(encodeOffloadRequest({ requestId: 99, format, images }), ctx);
      expect(decoded.mode).toBe('offload');
      if (decoded.mode !== 'offload') return;
      expect(decoded.format).toBe(format);
      expect(decoded.images.map((i) => Array.from(i))).toEqual(images.map((i) => Array.from(i)));
    }
    const raw = decodeInferRequest(
      encodeOffloadRequest({ requestId: 1, format: 'raw', images: [new Uint8Array(RAW_IMAGE_BYTES)] }),
      ctx,
    );
    expect(raw.mode === 'offload' && raw.images[0]!.length).toBe(RAW_IMAGE_BYTES);
  });

  it('rejects bad formats, counts, lengths and trailing bytes', () => {
    const frame = encodeOffloadRequest({ requestId: 1, format: 'png', images: [new Uint8Array(10)] });
    expect(codeOf(() => decodeInferRequest(Object.assign(frame.slice(), { 3: 0 }), ctx))).toBe(
      'unknown-config',
    );
    expect(codeOf(() => decodeInferRequest(Object.assign(frame.slice(), { 4: 0 }), ctx))).toBe('bad-count');
    expect(codeOf(() => decodeInferRequest(Object.assign(frame.slice(), { 4: 2 }), ctx))).toBe('bad-frame');
    expect(codeOf(() => decodeInferRequest(frame.subarray(0, frame.length - 1), ctx))).toBe('bad-length');
    expect(codeOf(() => decodeInferRequest(Uint8Array.of(...frame, 7), ctx))).toBe('bad-length');
    expect(
      codeOf(() =>
        decodeInferRequest(
          encodeOffloadRequest({ requestId: 1, format: 'png', images: [new Uint8Array(0)] }),
          ctx,
        ),
      ),
    ).toBe('bad-length');
    expect(
      codeOf(() =>
        decodeInferRequest(
          encodeOffloadRequest({ requestId: 1, format: 'raw', images: [new Uint8Array(100)] }),
          ctx,
        ),
      ),
    ).toBe('bad-length');
    const huge = encodeOffloadRequest({
      requestId: 1,
      format: 'png',
      images: [new Uint8Array(ctx.maxImageBytes + 1)],
    });
    expect(codeOf(() => decodeInferRequest(huge, ctx))).toBe('bad-length');
  });
});

describe('limits and replies', () => {
  it('sizes the largest legal body', () => {
    const max = maxInferBodyBytes(DEFAULT_LIMITS, [98, 392]);
    const biggestSplit = encodeSplitRequest({
      requestId: 2 ** 32 - 1,
      levelIndex: 1,
      bits: 8,
      count: 64,
      codes: new Uint8Array(64 * 392),
    });
    expect(biggestSplit.length).toBeLessThanOrEqual(max);
    const biggestOffload = encodeOffloadRequest({
      requestId: 2 ** 32 - 1,
      format: 'png',
      images: Array.from({ length: 64 }, () => new Uint8Array(DEFAULT_LIMITS.maxImageBytes)),
    });
    expect(biggestOffload.length).toBeLessThanOrEqual(max);
  });

  it('topK is a softmax, sorted, ties to the lower class', () => {
    const p = topK(Float32Array.from([0, 2, 1, 2]), 0, 4);
    expect(p.argmax).toBe(1);
    expect(p.topk.map(([c]) => c)).toEqual([1, 3, 2]);
    const sum = [0, 2, 1, 2].reduce((s, v) => s + Math.exp(v), 0);
    expect(p.topk[0]![1]).toBeCloseTo(Math.exp(2) / sum, 12);
  });
});
