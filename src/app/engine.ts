/**
 * The engine runs the experiment: it loads the bundle and the test set, streams images through
 * the chosen mode(s), and turns every request into one InferenceRecord for the live feed. It is
 * plain TypeScript: React only reads the store it writes, and only `backend/ort.ts` and the tail
 * client touch ORT and the socket.
 */
import { encodeBottleneck, quantize } from '../core/codec';
import { createLogger } from '../core/log';
import { payloadBytesPerImage, splitConfigId, type LevelEntry } from '../core/manifest';
import {
  encodeOffloadRequest,
  writeSplitHeader,
  SPLIT_HEADER_MAX_BYTES,
  type InferResult,
} from '../core/protocol';
import {
  computePhases,
  MODES,
  type FailureReason,
  type ImageOutcome,
  type InferenceRecord,
  type Mode,
  type RequestTimestamps,
} from '../core/record';
import { ImageCursor } from '../core/sampling';
import { detectCapabilities } from '../backend/capabilities';
import type { BackendKind, ModelSession } from '../backend/ort';
import { fetchManifest, loadDeviceBundle, type DeviceBundle } from './bundle';
import { batchInput, imagePixels, loadTestSet, type TestSet } from './dataset';
import { encodeGreyPng, encodeImage } from './imageEncode';
import { LiveFeed } from './liveFeed';
import type { LastImage } from './liveSnapshot';
import { offloadConfigName, type RunSettings } from './settings';
import { useAppStore } from './store';
import type { TailLink } from './tailLink';

const log = createLogger('engine');

/** A request that waits longer than this for its reply is failed with 'timeout'. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** With no request sent for this long, a small probe keeps the bandwidth estimate current. */
const IDLE_PROBE_AFTER_MS = 1000;
const CLOCK_PROBES = 5;

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function softmaxTop(
  logits: Float32Array,
  offset: number,
  classes: number,
): { predicted: number; confidence: number } {
  let best = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < classes; c++) {
    const value = logits[offset + c]!;
    if (value > max) {
      max = value;
      best = c;
    }
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c]! - max);
  return { predicted: best, confidence: 1 / sum };
}

/** Lossless offload formats send the exact pixels, so their accuracy is the full model's; only size differs. */
function measureOffloadSizes(testSet: TestSet, images = 500): { png: number; raw: number; images: number } {
  const count = Math.min(images, testSet.count);
  let png = 0;
  for (let index = 0; index < count; index++) png += encodeGreyPng(imagePixels(testSet, index)).length;
  return { png: png / count, raw: testSet.width * testSet.height, images: count };
}

export class Engine {
  readonly feed = new LiveFeed((snapshot) => useAppStore.getState().publishLive(snapshot));
  private bundle: DeviceBundle | null = null;
  private testSet: TestSet | null = null;
  private cursor: ImageCursor | null = null;
  private cursorKey = '';
  private runToken = 0;
  private seq = 0;
  private nextRequestId = 1;
  private inFlight = 0;
  private inFlightChanged: (() => void) | null = null;
  /** Last time a request was sent or answered, or a probe sent. */
  private lastTrafficAt = 0;
  /** Batch sizes each device session has already run once (the first run compiles shaders). */
  /** Batch sizes each session has run since it was created, beyond those the bundle warmed. */
  private readonly warmedBatchSizes = new WeakMap<ModelSession, Set<number>>();
  private imagesThisRun = 0;
  private idleProbeTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly tail: TailLink) {}

  /**
   * Uses sessions and a test set that are already loaded, instead of boot()'s downloads: for
   * tests, and for embedding the engine where the files come from elsewhere.
   */
  useLoaded(bundle: DeviceBundle, testSet: TestSet): void {
    this.bundle = bundle;
    this.testSet = testSet;
    this.store.setSystem({
      manifest: bundle.manifest,
      backend: bundle.backend,
      datasetImages: testSet.count,
    });
    this.updatePhase();
  }

  private get store() {
    return useAppStore.getState();
  }

  /** Detect, download, warm up, connect: the page says "ready" only after all of it. */
  async boot(preferred?: BackendKind): Promise<void> {
    const capabilities = await detectCapabilities();
    this.store.setSystem({ capabilities });
    this.tail.onConnectionChange((status, detail) => this.onConnection(status, detail));
    this.tail.connect();
    this.startIdleProbes();
    const datasetLoad = this.loadDataset();
    const kind = preferred ?? (capabilities.webgpu.available ? 'webgpu' : 'wasm');
    await this.loadModels(kind);
    await datasetLoad;
    this.updatePhase();
  }

  private async loadDataset(): Promise<void> {
    try {
      this.store.setError('dataset', null);
      this.testSet = await loadTestSet((progress) => this.store.setFileProgress(progress));
      this.store.setSystem({
        datasetImages: this.testSet.count,
        offloadSizes: measureOffloadSizes(this.testSet),
      });
      void this.measureWebpSize(this.testSet);
    } catch (error) {
      this.store.setError('dataset', (error as Error).message);
      log.error(`test set: ${(error as Error).message}`);
    }
  }

  /**
   * WebP is lossy and comes from the browser's own encoder, so its size is measured here, in the
   * background; its accuracy is whatever an offload WebP run measures.
   */
  private async measureWebpSize(testSet: TestSet, images = 200, quality = 50): Promise<void> {
    if (typeof OffscreenCanvas === 'undefined') return;
    const count = Math.min(images, testSet.count);
    let total = 0;
    try {
      for (let index = 0; index < count; index++)
        total += (await encodeImage(imagePixels(testSet, index), 'webp', quality)).length;
    } catch (error) {
      log.warn(`WebP size not measured: ${(error as Error).message}`);
      return;
    }
    const sizes = this.store.offloadSizes;
    if (sizes && this.testSet === testSet)
      this.store.setSystem({
        offloadSizes: { ...sizes, webp: { bytes: total / count, quality, images: count } },
      });
  }

  async retryDataset(): Promise<void> {
    await this.loadDataset();
    this.updatePhase();
  }

  /** Loads (or reloads, on a backend switch) every device session on `kind`. */
  async loadModels(kind: BackendKind): Promise<void> {
    if (this.store.busy) return;
    this.stop();
    const capabilities = await detectCapabilities();
    if (kind === 'webgpu' && !capabilities.webgpu.available) {
      this.store.setError('models', `WebGPU unavailable: ${capabilities.webgpu.reason}`);
      return;
    }
    this.store.setSystem({ requestedBackend: kind, phase: 'loading', phaseDetail: 'loading models' });
    this.store.setError('models', null);
    const previous = this.bundle;
    this.bundle = null;
    if (previous) await previous.dispose();
    try {
      const manifest = this.store.manifest ?? (await fetchManifest());
      this.store.setSystem({ manifest });
      this.bundle = await loadDeviceBundle(
        manifest,
        kind,
        capabilities,
        (progress) => this.store.setFileProgress(progress),
        (detail) => this.store.setSystem({ phaseDetail: detail }),
      );
      this.store.setSystem({ backend: this.bundle.backend });
    } catch (error) {
      const message = (error as Error).message;
      this.store.setError('models', message);
      this.store.setSystem({ phase: 'error', phaseDetail: message });
      log.error(`models: ${message}`);
      return;
    }
    this.updatePhase();
  }

  private updatePhase(): void {
    const { errors } = this.store;
    if (errors.models || errors.dataset) {
      this.store.setSystem({ phase: 'error', phaseDetail: errors.models ?? errors.dataset ?? '' });
    } else if (this.bundle && this.testSet) {
      this.store.setSystem({ phase: 'ready', phaseDetail: `ready on ${this.bundle.backend.label}` });
    }
  }

  get ready(): boolean {
    return this.bundle !== null && this.testSet !== null;
  }

  private onConnection(status: 'connected' | 'disconnected' | 'connecting', detail: string): void {
    const previous = this.store.connection;
    this.store.setSystem({
      connection: {
        status,
        detail,
        reconnects:
          previous.reconnects + (status === 'connected' && previous.status === 'disconnected' ? 1 : 0),
      },
    });
    if (status === 'connected') {
      this.store.setError('server', null);
      // A restarted server may run on another clock.
      this.feed.clock.reset();
      void this.measureClock();
    } else if (status === 'disconnected') {
      this.store.setError('server', `tail server unreachable: ${detail}`);
    }
  }

  /** Clock offset to the server from a few tiny probes; the fastest round trip wins. */
  private async measureClock(): Promise<void> {
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const outcome = await this.tail.probe(1, 5000);
      if (!outcome) return;
      this.feed.clock.add(outcome.sentAt, outcome.serverReceivedAt, outcome.receivedAt);
    }
  }

  private startIdleProbes(): void {
    if (this.idleProbeTimer) return;
    // An idle link still has a bandwidth: probe it so the estimate follows a throttle change
    // made while nothing streams.
    this.idleProbeTimer = setInterval(() => {
      // Only on a quiet link: a probe queued behind a request (or a request behind a probe) would
      // distort the very times it measures.
      if (!this.tail.connected || this.inFlight > 0 || now() - this.lastTrafficAt < IDLE_PROBE_AFTER_MS)
        return;
      this.lastTrafficAt = now();
      void this.tail.probe(1, 10_000).then((outcome) => {
        if (!outcome) return;
        this.feed.clock.add(outcome.sentAt, outcome.serverReceivedAt, outcome.receivedAt);
        this.addUplinkSample(
          outcome.sentAt,
          outcome.serverReceivedAt,
          outcome.wireBytes,
          outcome.receivedAt - outcome.sentAt,
        );
      });
    }, 250);
  }

  private addUplinkSample(
    sentAt: number,
    serverReceivedAt: number,
    wireBytes: number,
    networkMs: number,
  ): void {
    const clock = this.feed.clock.get();
    if (!clock) return;
    this.feed.addUplinkSample({ sentAt, arrivedAt: serverReceivedAt - clock.offsetMs, wireBytes, networkMs });
  }

  // ------------------------------------------------------------------------------------------
  // Streaming

  get running(): boolean {
    return this.store.running;
  }

  start(): void {
    if (this.running || this.store.busy || !this.ready) return;
    this.store.setRunning(true);
    this.imagesThisRun = 0;
    const token = ++this.runToken;
    void this.loop(token).catch((error: unknown) => {
      log.error(`stream stopped: ${(error as Error).message}`);
      this.feed.noteError(`stream stopped: ${(error as Error).message}`);
      this.stop();
    });
  }

  stop(): void {
    this.runToken++;
    if (this.store.running) this.store.setRunning(false);
  }

  /** One request (or, in compare mode, one per mode) and then stop. */
  async step(): Promise<void> {
    if (this.running || this.store.busy || !this.ready) return;
    this.store.setBusy(true);
    try {
      const settings = this.store.settings;
      const indices = this.takeImages(settings);
      // One mode at a time, as in a compare run: their transfers never share the link.
      for (const mode of this.modesOf(settings))
        await (
          await this.launch(mode, indices, settings)
        ).completion;
    } finally {
      this.store.setBusy(false);
    }
  }

  resetSession(): void {
    this.feed.reset();
    this.seq = 0;
    this.cursorKey = '';
  }

  private modesOf(settings: RunSettings): readonly Mode[] {
    return settings.mode === 'compare' ? MODES : [settings.mode];
  }

  private takeImages(settings: RunSettings): number[] {
    const key = `${settings.seed}:${settings.startIndex}`;
    if (!this.cursor || key !== this.cursorKey) {
      this.cursor = new ImageCursor(this.testSet!.count, settings.seed, settings.startIndex);
      this.cursorKey = key;
    }
    return this.cursor.next(settings.imagesPerRequest);
  }

  private async loop(token: number): Promise<void> {
    let nextAt = now();
    while (token === this.runToken) {
      const settings = this.store.settings;
      const modes = this.modesOf(settings);
      const needsServer = modes.some((mode) => mode !== 'on-device');
      if (needsServer && !this.tail.connected) {
        // Do not turn an outage into a flood of failures: wait, then resume by ourselves.
        await sleep(100);
        nextAt = now();
        continue;
      }
      if (settings.rateKind === 'fixed') {
        const wait = nextAt - now();
        if (wait > 0) await sleep(wait);
        nextAt =
          Math.max(nextAt, now() - 1000) + (settings.imagesPerRequest / settings.imagesPerSecond) * 1000;
      }
      const indices = this.takeImages(settings);
      for (const mode of modes) {
        // Wait for a free slot before each request: in compare mode this keeps one mode's
        // transfer from sharing the link with the next mode's.
        await this.waitForSlot(settings.maxInFlight, token);
        if (token !== this.runToken) break;
        const { completion } = await this.launch(mode, indices, settings);
        this.inFlight++;
        void completion.finally(() => {
          this.inFlight--;
          this.inFlightChanged?.();
        });
      }
      this.imagesThisRun += indices.length;
      if (settings.stopAfterImages > 0 && this.imagesThisRun >= settings.stopAfterImages) this.stop();
      // Yield so the page paints and answers input between requests.
      await sleep(0);
    }
  }

  private async waitForSlot(maxInFlight: number, token: number): Promise<void> {
    while (this.inFlight >= maxInFlight && token === this.runToken) {
      await new Promise<void>((resolve) => (this.inFlightChanged = resolve));
    }
  }

  /**
   * Runs the device part of one request (compute and encode, serialised on the device) and
   * returns a promise for the rest (the network round trip), wrapped so that awaiting the device
   * part does not also await the transfer: the next request's compute overlaps this transfer.
   */
  private async launch(
    mode: Mode,
    indices: number[],
    settings: RunSettings,
  ): Promise<{ completion: Promise<void> }> {
    const bundle = this.bundle;
    const testSet = this.testSet;
    // A backend switch or a failed reload can leave no sessions: nothing to run.
    if (!bundle || !testSet) return { completion: Promise.resolve() };
    // Records of a cleared session must not land in the new one.
    const session = this.feed.session;
    await this.warmUp(bundle, mode, settings, indices.length);
    const seq = ++this.seq;
    const start = now();
    const base = {
      seq,
      mode,
      backend: bundle.backend.label,
      startedAt: start,
      epochMs: performance.timeOrigin + start,
    };
    const labels = indices.map((index) => testSet.labels[index]!);
    const failedImages = (): ImageOutcome[] =>
      indices.map((index, i) => ({ index, label: labels[i]!, predicted: -1, confidence: 0 }));
    const fail = (
      config: string,
      reason: FailureReason,
      message: string,
      t: RequestTimestamps,
      extra: Partial<InferenceRecord> = {},
    ) => {
      if (session !== this.feed.session) return;
      this.feed.add({
        ...base,
        requestId: 0,
        config,
        images: failedImages(),
        payloadBytes: 0,
        wireBytes: 0,
        phases: computePhases(t),
        ok: false,
        failure: { reason, message },
        ...extra,
      });
    };

    if (mode === 'on-device') {
      try {
        const logits = (await bundle.full.run(batchInput(testSet, indices), indices.length))[
          bundle.manifest.full.output
        ]!;
        const computeEnd = now();
        const classes = bundle.manifest.classes.length;
        const images = indices.map((index, i) => ({
          index,
          label: labels[i]!,
          ...softmaxTop(logits, i * classes, classes),
        }));
        const end = now();
        if (session !== this.feed.session) return { completion: Promise.resolve() };
        this.feed.add(
          {
            ...base,
            requestId: 0,
            config: 'full',
            images,
            payloadBytes: 0,
            wireBytes: 0,
            phases: computePhases({ start, computeEnd, encodeEnd: computeEnd, end }),
            ok: true,
          },
          this.lastImage(images[0]!, mode, 'full', null),
        );
      } catch (error) {
        const end = now();
        fail('full', 'device-error', (error as Error).message, {
          start,
          computeEnd: end,
          encodeEnd: end,
          end,
        });
      }
      return { completion: Promise.resolve() };
    }

    let frame: Uint8Array;
    let payloadBytes: number;
    let config: string;
    let computeEnd = start;
    let codesPreview: LastImage['codes'] = null;
    const requestId = this.nextRequestId++;
    try {
      if (mode === 'split') {
        const level = this.level(settings.levelId);
        config = splitConfigId(level.id, settings.bits);
        const head = bundle.heads.get(level.id)!;
        const bottleneck = (await head.run(batchInput(testSet, indices), indices.length))[level.head.output]!;
        computeEnd = now();
        const perImage = payloadBytesPerImage(level.elements, settings.bits);
        payloadBytes = perImage * indices.length;
        const buffer = new Uint8Array(SPLIT_HEADER_MAX_BYTES + payloadBytes);
        const headerLength = writeSplitHeader(buffer, {
          requestId,
          levelIndex: bundle.manifest.levels.indexOf(level),
          bits: settings.bits,
          count: indices.length,
        });
        for (let i = 0; i < indices.length; i++) {
          const values = bottleneck.subarray(i * level.elements, (i + 1) * level.elements);
          encodeBottleneck(values, settings.bits, buffer, headerLength + i * perImage);
        }
        frame = buffer.subarray(0, headerLength + payloadBytes);
        codesPreview = {
          values: Array.from(quantize(bottleneck.subarray(0, level.elements), settings.bits)),
          shape: level.bottleneckShape,
          bits: settings.bits,
        };
      } else {
        config = offloadConfigName(settings.format, settings.webpQuality);
        const images = await Promise.all(
          indices.map((index) =>
            encodeImage(imagePixels(testSet, index), settings.format, settings.webpQuality),
          ),
        );
        payloadBytes = images.reduce((sum, image) => sum + image.length, 0);
        frame = encodeOffloadRequest({ requestId, format: settings.format, images });
      }
    } catch (error) {
      const end = now();
      const failedConfig =
        mode === 'split' ? splitConfigId(settings.levelId, settings.bits) : settings.format;
      fail(failedConfig, computeEnd === start ? 'device-error' : 'encode-error', (error as Error).message, {
        start,
        computeEnd: computeEnd === start ? end : computeEnd,
        encodeEnd: end,
        end,
      });
      return { completion: Promise.resolve() };
    }
    const encodeEnd = now();
    this.lastTrafficAt = encodeEnd;
    const sending = this.tail.infer(frame, REQUEST_TIMEOUT_MS);
    this.feed.noteSent();
    const completion = sending.then((outcome) => {
      this.lastTrafficAt = now();
      if (session !== this.feed.session) return;
      // The socket's thread and the page convert epoch time to the page clock separately; clamp the
      // sub-millisecond disagreement so that no phase goes negative.
      const sent = Math.max(outcome.sentAt, encodeEnd);
      const end = Math.max(outcome.deliveredAt, outcome.receivedAt, sent);
      const received = Math.min(Math.max(outcome.receivedAt, sent), end);
      const timestamps: RequestTimestamps = { start, computeEnd, encodeEnd, sent, received, end };
      const common = { ...base, requestId, config, payloadBytes, wireBytes: outcome.wireBytes };
      if (!outcome.response.ok) {
        const { code, message } = outcome.response.error;
        const reason: FailureReason = code === 'timeout' || code === 'disconnected' ? code : 'server-error';
        this.feed.add({
          ...common,
          images: failedImages(),
          phases: computePhases(timestamps),
          ok: false,
          failure: { reason, message: `${code}: ${message}` },
        });
        return;
      }
      const result: InferResult = outcome.response.data;
      const clock = this.feed.clock.get();
      const phases = computePhases(
        timestamps,
        result.timings,
        clock
          ? {
              offsetMs: clock.offsetMs,
              serverReceivedAt: result.serverReceivedAt,
              serverSentAt: result.serverSentAt,
            }
          : undefined,
      );
      const images = indices.map((index, i) => {
        const prediction = result.predictions[i];
        return {
          index,
          label: labels[i]!,
          predicted: prediction?.argmax ?? -1,
          confidence: prediction?.topk[0]?.[1] ?? 0,
        };
      });
      this.addUplinkSample(outcome.sentAt, result.serverReceivedAt, outcome.wireBytes, phases.networkMs);
      this.feed.add(
        { ...common, images, phases, serverBatch: result.batchSize, ok: true },
        this.lastImage(images[0]!, mode, config, codesPreview),
      );
    });
    return { completion };
  }

  /**
   * The first run of a session at a new batch size compiles shaders and allocates buffers
   * (WebGPU especially); do it untimed so it never shows up as device compute.
   */
  private async warmUp(
    bundle: DeviceBundle,
    mode: Mode,
    settings: RunSettings,
    batch: number,
  ): Promise<void> {
    if (mode === 'offload') return;
    const model = mode === 'split' ? bundle.heads.get(this.level(settings.levelId).id)! : bundle.full;
    if (bundle.warmedBatchSizes.includes(batch)) return;
    const warmed = this.warmedBatchSizes.get(model) ?? new Set<number>();
    if (warmed.has(batch)) return;
    const elements = bundle.manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
    await model.run(new Float32Array(batch * elements), batch);
    warmed.add(batch);
    this.warmedBatchSizes.set(model, warmed);
  }

  private lastImage(image: ImageOutcome, mode: Mode, config: string, codes: LastImage['codes']): LastImage {
    return { ...image, mode, config, codes };
  }

  private level(levelId: string): LevelEntry {
    const levels = this.bundle!.manifest.levels;
    return levels.find((level) => level.id === levelId) ?? levels[0]!;
  }

  pixelsOf(index: number): Uint8Array | null {
    return this.testSet ? imagePixels(this.testSet, index) : null;
  }
}
