/**
 * The socket.io side of the tail: `info`, `probe` and `infer`. Every request that carries an ack
 * callback gets exactly one reply, a result or a typed error; nothing a client sends can throw
 * out of a handler (the process and the other clients keep going).
 */
import sharp from 'sharp';
import type { Server, Socket } from 'socket.io';
import { decodeBottleneck } from '../src/core/codec';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/core/events';
import type { Logger } from '../src/core/log';
import {
  PROTOCOL_VERSION,
  ProtocolError,
  RAW_IMAGE_BYTES,
  decodeInferRequest,
  packedBytesPerImage,
  topK,
  type ImageFormat,
  type InferResult,
  type LevelSummary,
  type OffloadRequest,
  type Response,
  type ServerErrorCode,
  type ServerInfo,
  type ServerLimits,
  type SplitRequest,
} from '../src/core/protocol';
import { BatcherClosedError, type BatchOutcome, type Batcher } from './batcher';
import type { LoadedBundle } from './bundle';
import type { Metrics } from './metrics';

export interface HandlerContext {
  bundle: LoadedBundle | null;
  batcher: Batcher;
  metrics: Metrics;
  limits: ServerLimits;
  log: Logger;
}

/** High-resolution epoch milliseconds, comparable across machines up to clock offset. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

type AnyAck = (response: Response<unknown, ServerErrorCode>) => void;

function errorReply(code: ServerErrorCode, message: string): Response<never, ServerErrorCode> {
  return { ok: false, error: { code, message } };
}

/** Text for a log line about a thrown value, without calling String() on what a client sent. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : `a thrown ${typeof error}`;
}

/**
 * The server's parser (server/packetGuard.ts) has already checked every packet against
 * CLIENT_EVENT_ARGS, so a listener sees [payload?, ack?] of the right kinds; the ack is the last
 * argument when the packet carried an id. Wrapped so it can be called once only.
 */
function splitArgs(args: unknown[]): { payload: unknown; ack: AnyAck | null } {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return { payload: args[0], ack: null };
  let replied = false;
  const ack = last as AnyAck;
  return {
    payload: args.length > 1 ? args[0] : undefined,
    ack: (response) => {
      if (replied) return;
      replied = true;
      ack(response);
    },
  };
}

export function attachInferenceHandlers(
  io: Server<ClientToServerEvents, ServerToClientEvents>,
  ctx: HandlerContext,
): void {
  const { metrics, limits, log } = ctx;
  const levelElements = ctx.bundle?.manifest.levels.map((level) => level.elements) ?? [];
  const decodeContext = {
    levelElements,
    maxImagesPerRequest: limits.maxImagesPerRequest,
    maxImageBytes: limits.maxImageBytes,
  };

  const info = (): ServerInfo => ({
    protocolVersion: PROTOCOL_VERSION,
    bundleId: ctx.bundle?.manifest.bundleId ?? null,
    classes: ctx.bundle?.manifest.classes ?? [],
    levels: (ctx.bundle?.manifest.levels ?? []).map((level, index): LevelSummary => ({
      index,
      id: level.id,
      elements: level.elements,
      bottleneckShape: level.bottleneckShape,
      bytesPerImage: Array.from({ length: 8 }, (_, b) => packedBytesPerImage(level.elements, b + 1)),
    })),
    limits,
    serverTime: epochNow(),
  });

  io.on('connection', (typedSocket) => {
    const socket = typedSocket as unknown as Socket;
    let inFlight = 0;
    log.debug(`connect ${socket.id} from ${socket.handshake.address}`);

    const fail = (ack: AnyAck, code: ServerErrorCode, message: string): void => {
      metrics.recordError(code);
      ack(errorReply(code, message));
    };

    /**
     * Every listener runs inside this: socket.io calls listeners from process.nextTick, where a
     * throw would end the process. A bug becomes a log line and a typed 'internal' reply.
     */
    const on = (event: string, listener: (payload: unknown, ack: AnyAck | null) => void): void => {
      socket.on(event, (...args: unknown[]) => {
        const { payload, ack } = splitArgs(args);
        try {
          listener(payload, ack);
        } catch (error) {
          log.error(`${event} handler on ${socket.id} failed: ${describeError(error)}`);
          if (ack) fail(ack, 'internal', 'internal server error');
        }
      });
    };

    // Without a listener socket.io prints parse errors with console.error; route them to the log.
    socket.on('error', (error: unknown) => log.warn(`socket ${socket.id}: ${describeError(error)}`));
    socket.on('disconnect', (reason: unknown) => {
      log.debug(`disconnect ${socket.id}: ${typeof reason === 'string' ? reason : 'unknown reason'}`);
      // The client left '/', the only namespace: end the connection too, or a request that arrived
      // behind its DISCONNECT would be dropped by socket.io without a reply and without a close.
      if (reason === 'client namespace disconnect') socket.conn.close();
    });

    on('info', (_payload, ack) => {
      ack?.({ ok: true, data: info() });
    });

    on('probe', (payload, ack) => {
      if (!ack) return;
      if (!(payload instanceof Uint8Array)) return fail(ack, 'bad-payload', 'probe payload must be binary');
      if (payload.length > limits.maxProbeBytes)
        return fail(ack, 'bad-length', `probe is ${payload.length} bytes, max ${limits.maxProbeBytes}`);
      metrics.recordProbe(payload.length);
      ack({ ok: true, data: { receivedBytes: payload.length, serverTime: epochNow() } });
    });

    // Made by the server's parser, never by a client (events.ts): the rejection is ours.
    on('bad-frame', (payload, ack) => {
      const rejection = payload as { code?: ServerErrorCode; message?: string } | undefined;
      if (ack) fail(ack, rejection?.code ?? 'bad-frame', rejection?.message ?? 'bad frame');
      else metrics.recordError('bad-frame');
    });

    on('infer', (payload, ack) => {
      const serverReceivedAt = epochNow();
      const t0 = performance.now();
      if (!ack) {
        // Nothing to answer to; count it so a broken client shows up in /metrics.
        metrics.recordError('no-ack');
        return;
      }
      if (!(payload instanceof Uint8Array))
        return fail(ack, 'bad-payload', 'infer payload must be one binary frame (Uint8Array)');
      if (!ctx.bundle) return fail(ack, 'unknown-config', 'this server has no model bundle loaded');
      if (inFlight >= limits.maxInFlight)
        return fail(ack, 'busy', `more than ${limits.maxInFlight} requests in flight on this connection`);
      inFlight++;
      metrics.inFlight++;
      const bundle = ctx.bundle;
      void handleInfer(payload, bundle, serverReceivedAt, t0)
        .then((data) => {
          const totalMs = performance.now() - t0;
          data.timings.totalMs = totalMs;
          metrics.recordRequest(data.mode, data.predictions.length, totalMs);
          data.serverSentAt = epochNow();
          ack({ ok: true, data });
        })
        .catch((error: unknown) => {
          if (error instanceof ProtocolError) {
            fail(ack, error.code, error.message);
          } else if (error instanceof BatcherClosedError) {
            fail(ack, 'internal', error.message);
          } else {
            log.error(`infer from ${socket.id} failed: ${describeError(error)}`);
            fail(ack, 'internal', 'internal server error');
          }
        })
        .finally(() => {
          inFlight--;
          metrics.inFlight--;
        });
    });
  });

  async function handleInfer(
    frame: Uint8Array,
    bundle: LoadedBundle,
    serverReceivedAt: number,
    t0: number,
  ): Promise<InferResult> {
    const request = decodeInferRequest(frame, decodeContext);
    let outcome: BatchOutcome;
    let count: number;
    let decodedAt: number;
    if (request.mode === 'split') {
      const { input, images } = dequantizeSplit(request, bundle);
      count = images;
      decodedAt = performance.now();
      outcome = await ctx.batcher.submit(bundle.tails[request.levelIndex]!, input, count);
    } else {
      const input = await decodeImages(request);
      count = request.images.length;
      decodedAt = performance.now();
      outcome = await ctx.batcher.submit(bundle.full, input, count);
    }
    const classes = bundle.manifest.classes.length;
    const predictions = [];
    for (let i = 0; i < count; i++) predictions.push(topK(outcome.logits, i * classes, classes));
    return {
      requestId: request.requestId,
      mode: request.mode,
      predictions,
      timings: {
        queuedMs: outcome.queuedMs,
        decodeMs: decodedAt - t0,
        computeMs: outcome.computeMs,
        totalMs: 0,
      },
      batchSize: outcome.batchSize,
      batchRequests: outcome.batchRequests,
      serverReceivedAt,
      serverSentAt: 0,
    };
  }

  function dequantizeSplit(
    request: SplitRequest,
    bundle: LoadedBundle,
  ): { input: Float32Array; images: number } {
    const elements = bundle.manifest.levels[request.levelIndex]!.elements;
    const perImage = packedBytesPerImage(elements, request.bits);
    const input = new Float32Array(request.count * elements);
    for (let i = 0; i < request.count; i++) {
      decodeBottleneck(request.codes, elements, request.bits, i * perImage, input, i * elements);
    }
    return { input, images: request.count };
  }

  async function decodeImages(request: OffloadRequest): Promise<Float32Array> {
    const pixels = new Float32Array(request.images.length * RAW_IMAGE_BYTES);
    await Promise.all(
      request.images.map(async (bytes, i) => {
        const grey = request.format === 'raw' ? bytes : await decodeImage(bytes, request.format, i);
        const offset = i * RAW_IMAGE_BYTES;
        // Pixels are byte/255 (the manifest's input convention); normalisation is inside the graph.
        for (let p = 0; p < RAW_IMAGE_BYTES; p++) pixels[offset + p] = grey[p]! / 255;
      }),
    );
    return pixels;
  }
}

/**
 * PNG/WebP → 28×28 8-bit grey with sharp (libvips); anything else is a typed 'bad-image'. Exported
 * for the evaluator (server/eval), which measures offload accuracy through this same decode.
 */
export async function decodeImage(
  bytes: Uint8Array,
  format: Exclude<ImageFormat, 'raw'>,
  index: number,
): Promise<Uint8Array> {
  try {
    // limitInputPixels guards against decompression bombs; 28×28 inputs are tiny.
    const image = sharp(bytes, { limitInputPixels: 1 << 20, failOn: 'error' });
    const meta = await image.metadata();
    if (meta.format !== format)
      throw new ProtocolError('bad-image', `image ${index} is ${meta.format ?? 'unknown'}, not ${format}`);
    let pipeline = image.removeAlpha().greyscale();
    if (meta.width !== 28 || meta.height !== 28) pipeline = pipeline.resize(28, 28, { fit: 'fill' });
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || data.length !== RAW_IMAGE_BYTES) {
      throw new ProtocolError(
        'bad-image',
        `image ${index} decoded to ${info.width}×${info.height}×${info.channels}`,
      );
    }
    return data;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(
      'bad-image',
      `image ${index} is not a decodable ${format}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
