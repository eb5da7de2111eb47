/**
 * The engine runs the experiment: it loads the bundle and the test set, streams images through
 * the chosen mode(s), and turns every request into one InferenceRecord for the live feed. It is
 * plain TypeScript: React only reads the store it writes, and only `backend/ort.ts` and the tail
 * client touch ORT and the socket.
 */
import { encodeBottleneck, quantize } from '../core/codec';
import {
  allCandidates,
  candidateId,
  CostModel,
  DEVICE_COST_MAX_AGE_MS,
  DEVICE_REFRESH_BUDGET,
  PRICING_DRAWS,
  quantaOf,
  splitCandidateId,
  type Candidate,
  type MeasuredLatency,
  type PredictionResult,
  type UplinkInput,
  uplinkInputOf,
} from '../core/costModel';
import { createLogger } from '../core/log';
import {
  payloadBytesPerImage,
  type EarlyExitEntry,
  type LevelEntry,
  type ModelManifest,
} from '../core/manifest';
import { autoPolicy, expectedAccuracies, staticPolicy } from '../core/policy';
import { PolicyLoop, mayPrefetch, type DecideContext, type Decided } from '../core/policyLoop';
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
import {
  IDLE_PROBE_AFTER_MS,
  STREAM_PROBE_EVERY_MS,
  idleProbeGapMs,
  idleProbeQuanta,
  probePayloadBytes,
  refreshProbeQuanta,
  streamProbeQuanta,
} from '../core/uplinkEstimator';
import { defaultBackend, detectCapabilities } from '../backend/capabilities';
import type { BackendKind, ModelSession } from '../backend/ort';
import { fetchManifest, loadDeviceBundle, type DeviceBundle } from './bundle';
import { batchInput, imagePixels, loadTestSet, type TestSet } from './dataset';
import { encodeGreyPng, encodeImage } from './imageEncode';
import { LiveFeed } from './liveFeed';
import type { LastImage } from './liveSnapshot';
import { offloadConfigName, type RunMode, type RunSettings } from './settings';
import { useAppStore } from './store';
import type { TailLink } from './tailLink';

const log = createLogger('engine');

/** A request that waits longer than this for its reply is failed with 'timeout'. */
export const REQUEST_TIMEOUT_MS = 30_000;
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

/**
 * What one request runs: a cost-model candidate, or raw offload (which the cost model does not
 * price). Each kind has its own runner.
 */
type Execution = Candidate | { kind: 'offload'; format: 'raw' };

/** One request's plan: what runs, the decision that chose it, and the loop to tell how it went. */
interface Plan {
  execution: Execution;
  /** Null only for raw offload, which no policy can price. */
  decided: Decided | null;
  loop: PolicyLoop | null;
}

/** What a run streams per batch of images: one policy (compare: one static policy per mode). */
type Lane = Mode | 'auto';

/** Expected accuracy per candidate from the manifest; none when the manifest lacks the figures. */
function accuraciesOf(manifest: ModelManifest): Map<string, number> {
  try {
    return expectedAccuracies(manifest);
  } catch (error) {
    log.warn(`no expected accuracies: ${(error as Error).message}`);
    return new Map();
  }
}

/** What the runners of one request share. */
interface DeviceRequest {
  bundle: DeviceBundle;
  testSet: TestSet;
  /** The feed session the request belongs to. */
  session: number;
  indices: number[];
  labels: number[];
  settings: RunSettings;
  /** Emulated slowdown: each device model runs this many times. */
  slowdown: number;
  start: number;
  /** Time spent in device model runs so far (ms), the rest of the device phase being the page's work. */
  modelMs: number;
  /** In step with the throttle's clock: ms since the tick that released the previous message. */
  tickOffsetMs: number | null;
  plan: Plan;
  base: Pick<
    InferenceRecord,
    'seq' | 'mode' | 'backend' | 'slowdown' | 'startedAt' | 'epochMs' | 'prediction' | 'decision'
  >;
}

/** One row of the predictions table: a candidate's predicted and measured latency. */
export interface CandidateLatency {
  candidate: string;
  prediction: PredictionResult;
  measured: MeasuredLatency | null;
}

export interface PredictionsView {
  images: number;
  slowdown: number;
  uplink: UplinkInput;
  rows: CandidateLatency[];
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
  /** Requests whose message is on its way or awaits its reply. */
  private messagesInFlight = 0;
  /** Batch sizes each device session has already run once (the first run compiles shaders). */
  /** Batch sizes each session has run since it was created, beyond those the bundle warmed. */
  private readonly warmedBatchSizes = new WeakMap<ModelSession, Set<number>>();
  private imagesThisRun = 0;
  /** Prices every candidate from live measurements; one per loaded bundle (device times are per backend). */
  private costModel: CostModel | null = null;
  /** Whether the newest record's request sent a message and got its reply. */
  private previousSentMessage = false;
  /** Device clock when the server received the newest answered message. */
  private lastMessageArrivedAt: number | null = null;
  private runStartedAt = 0;
  private refreshSpentMs = 0;
  private idleProbeTimer: ReturnType<typeof setInterval> | null = null;
  /** One bandwidth probe at a time, so that no probe queues behind another. */
  private probeInFlight = false;
  private nextIdleProbeAt = 0;
  private lastStreamProbeAt = Number.NEGATIVE_INFINITY;
  /**
   * The stream probe on the wire, which the next request that sends a message waits for before
   * it starts: a message queued behind it on the throttle waits its quanta too (live at 8× and
   * 250 ms after the step to 64 kbit/s, the request after each probe took ~280 ms where the
   * others took ~165-190 ms: two of that run's misses). The probe measures the link for the
   * estimate, not for any one request, so no request's latency carries its time.
   */
  private streamProbe: Promise<unknown> | null = null;
  /** How long the last pricing of more than one candidate took (ms) on the page's thread. */
  private lastRoundPricingMs = Number.POSITIVE_INFINITY;
  /** When a message of two quanta or more (request or probe) last crossed: a lower bound's age. */
  private lastBoundingMessageAt = Number.NEGATIVE_INFINITY;
  /** Auto mode's policy and its state: one per run (and one for the steps between runs). */
  private autoLoop: PolicyLoop | null = null;
  private accuracyTable: Map<string, number> | null = null;

  constructor(private readonly tail: TailLink) {}

  /**
   * Uses sessions and a test set that are already loaded, instead of boot()'s downloads: for
   * tests, and for embedding the engine where the files come from elsewhere.
   */
  useLoaded(bundle: DeviceBundle, testSet: TestSet): void {
    this.bundle = bundle;
    this.attachCostModel(bundle);
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
    // A software WebGPU adapter (SwiftShader) is slower than WASM: WASM is the default there.
    const kind = preferred ?? defaultBackend(capabilities).kind;
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
      this.attachCostModel(this.bundle);
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

  /** A fresh cost model for a new bundle, calibrated with the bundle's own timed warm-up runs. */
  private attachCostModel(bundle: DeviceBundle): void {
    const model = new CostModel(bundle.manifest, { draws: PRICING_DRAWS });
    for (const run of bundle.calibration ?? []) model.addDeviceRun(run.model, run.batch, 1, run.ms, now());
    this.costModel = model;
    this.accuracyTable = null;
    this.autoLoop = null;
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
    // made while nothing streams. One-byte probes cannot measure it (a one-quantum message waits
    // for whatever is left of the throttle's current quantum), so each probe is a few quanta, at
    // times drawn at random so that they do not lock onto the throttle's clock.
    this.idleProbeTimer = setInterval(() => {
      // Only on a quiet link: a probe queued behind a request (or a request behind a probe) would
      // distort the very times it measures. Device work alone leaves the link quiet (on-device, or
      // auto on the device while the uplink is unknown, which only a probe can change).
      if (
        !this.tail.connected ||
        this.probeInFlight ||
        this.messagesInFlight > 0 ||
        now() - this.lastTrafficAt < IDLE_PROBE_AFTER_MS ||
        now() < this.nextIdleProbeAt
      )
        return;
      const quanta = idleProbeQuanta(this.feed.uplink.estimate());
      void this.sendProbe(quanta).then((linkMs) => {
        this.nextIdleProbeAt = now() + idleProbeGapMs(linkMs, Math.random());
      });
    }, 250);
  }

  /** Sends one probe of `quanta` quanta and feeds it to the estimators; resolves with its link time. */
  private async sendProbe(quanta: number): Promise<number> {
    this.probeInFlight = true;
    try {
      const outcome = await this.tail.probe(probePayloadBytes(quanta), 10_000);
      if (!outcome) return 0;
      this.feed.clock.add(outcome.sentAt, outcome.serverReceivedAt, outcome.receivedAt);
      // The newest message the throttle released, on its tick: a request that waited for this
      // probe starts in step with it, not with the reply before.
      const clock = this.feed.clock.get();
      if (clock) this.lastMessageArrivedAt = outcome.serverReceivedAt - clock.offsetMs;
      this.addUplinkSample(
        outcome.sentAt,
        outcome.serverReceivedAt,
        outcome.wireBytes,
        outcome.receivedAt - outcome.sentAt,
        true,
      );
      return outcome.receivedAt - outcome.sentAt;
    } finally {
      this.probeInFlight = false;
    }
  }

  private addUplinkSample(
    sentAt: number,
    serverReceivedAt: number,
    wireBytes: number,
    networkMs: number,
    probe = false,
    exitAnsweredPart = false,
  ): void {
    const clock = this.feed.clock.get();
    if (!clock) return;
    this.feed.addUplinkSample({ sentAt, arrivedAt: serverReceivedAt - clock.offsetMs, wireBytes, networkMs });
    if (quantaOf(wireBytes) >= 2) this.lastBoundingMessageAt = now();
    // A request's reply that leaves nothing else in flight finds the link idle: the moment for a
    // probe, when the estimate needs one (at most one every 3 s). The next request starts when
    // its reply is back (`streamProbe`).
    if (probe || this.probeInFlight || this.inFlight > 1 || !this.running) return;
    if (now() - this.lastStreamProbeAt < STREAM_PROBE_EVERY_MS) return;
    const estimate = this.feed.uplink.estimate();
    const quanta =
      streamProbeQuanta(estimate) ??
      refreshProbeQuanta(now() - this.lastBoundingMessageAt, exitAnsweredPart, estimate);
    if (quanta === null) return;
    this.lastStreamProbeAt = now();
    const sending = (this.streamProbe = this.sendProbe(quanta).finally(() => {
      if (this.streamProbe === sending) this.streamProbe = null;
    }));
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
    this.runStartedAt = now();
    this.previousSentMessage = false;
    this.refreshSpentMs = 0;
    this.autoLoop = null;
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
      for (const lane of this.lanesOf(settings))
        await (
          await this.launch(lane, indices, settings)
        ).completion;
    } finally {
      this.store.setBusy(false);
    }
  }

  /**
   * Position in the test-image order where the next Start or Step continues (null before the
   * first): the Start index field is set to it when a run ends, so the field and Start agree.
   */
  get nextStartIndex(): number | null {
    return this.cursor?.offset ?? null;
  }

  resetSession(): void {
    this.feed.reset();
    this.seq = 0;
    this.cursorKey = '';
    this.autoLoop = null;
  }

  private lanesOf(settings: RunSettings): readonly Lane[] {
    return settings.mode === 'compare' ? MODES : [settings.mode satisfies Exclude<RunMode, 'compare'>];
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
      const lanes = this.lanesOf(settings);
      // Auto keeps going on the device alone while the server is away.
      const needsServer = lanes.some((lane) => lane !== 'on-device' && lane !== 'auto');
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
      for (const lane of lanes) {
        // Wait for a free slot before each request: in compare mode this keeps one mode's
        // transfer from sharing the link with the next mode's.
        await this.waitForSlot(settings.maxInFlight, token);
        if (token !== this.runToken) break;
        if (lane === lanes[0]) await this.refreshStaleDeviceCost(settings);
        if (token !== this.runToken) break;
        const { completion } = await this.launch(lane, indices, settings);
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
   * The lane's policy decides what runs; the runner for that kind of execution runs it.
   */
  private async launch(
    lane: Lane,
    indices: number[],
    settings: RunSettings,
  ): Promise<{ completion: Promise<void> }> {
    const bundle = this.bundle;
    const testSet = this.testSet;
    // A backend switch or a failed reload can leave no sessions: nothing to run.
    if (!bundle || !testSet) return { completion: Promise.resolve() };
    // Records of a cleared session must not land in the new one.
    const session = this.feed.session;
    let plan = await this.plan(lane, bundle, settings, indices.length);
    // A message queued behind the stream probe on the throttle waits out the probe's quanta too:
    // a request that sends one starts when the probe is answered, decided again on what the probe
    // measured (live, a probe sent just before the step to 64 kbit/s took 3 s, and the PNG decided
    // before it took 1.1 s after it). One answered on the device has no need to wait.
    if (this.streamProbe && plan.execution.kind !== 'on-device') {
      await this.streamProbe;
      plan = await this.plan(lane, bundle, settings, indices.length);
    }
    const { execution, decided } = plan;
    const predicted = decided?.record.predicted ?? null;
    const seq = ++this.seq;
    const start = now();
    const request: DeviceRequest = {
      bundle,
      testSet,
      session,
      indices,
      labels: indices.map((index) => testSet.labels[index]!),
      settings,
      slowdown: settings.slowdown,
      start,
      modelMs: 0,
      tickOffsetMs:
        this.tickAligned(settings) && this.lastMessageArrivedAt !== null
          ? start - this.lastMessageArrivedAt
          : null,
      plan,
      base: {
        seq,
        mode: execution.kind,
        backend: bundle.backend.label,
        slowdown: settings.slowdown,
        startedAt: start,
        epochMs: performance.timeOrigin + start,
        ...(decided && predicted
          ? { prediction: { candidate: decided.record.candidate, ...predicted } }
          : {}),
        ...(decided ? { decision: decided.record } : {}),
      },
    };
    switch (execution.kind) {
      case 'on-device':
        return this.runOnDevice(request);
      case 'offload':
        return this.runOffload(request, execution);
      case 'split':
        return this.runSplit(request, execution);
    }
  }

  /**
   * The decision for the next request of `lane`: auto asks its run's policy over every candidate;
   * a fixed mode is a static policy over its own candidate. Either way the models it runs are
   * warmed up before it is priced or timed.
   */
  private async plan(lane: Lane, bundle: DeviceBundle, settings: RunSettings, images: number): Promise<Plan> {
    const context = this.pricingContext(settings, images);
    if (lane === 'auto') {
      this.autoLoop ??= new PolicyLoop(autoPolicy(), this.accuracy);
      const decided = this.autoLoop.decide({ ...context, candidates: this.autoCandidates(bundle, settings) });
      await this.warmUp(bundle, decided.decision.candidate, images);
      return { execution: decided.decision.candidate, decided, loop: this.autoLoop };
    }
    const execution = this.executionOf(lane, bundle, settings);
    await this.warmUp(bundle, execution, images);
    if (execution.kind === 'offload' && execution.format === 'raw')
      return { execution, decided: null, loop: null };
    // Priced afresh for every request, as the fixed modes always were.
    const loop = new PolicyLoop(staticPolicy(execution), this.accuracy, 0);
    return { execution, decided: loop.decide({ ...context, candidates: [execution] }), loop };
  }

  /** What a decision prices with now: the uplink estimate, the slowdown, the lock to the clock. */
  private pricingContext(settings: RunSettings, images: number): Omit<DecideContext, 'candidates'> {
    const model = this.costModel;
    const uplink = this.uplinkNow();
    const tickAligned = this.lockable(settings);
    const price = (candidates: readonly Candidate[]) => {
      if (!model)
        return candidates.map((candidate) => ({
          ok: false as const,
          candidate: candidateId(candidate),
          missing: ['cost model'],
        }));
      this.syncOffloadSizes(model);
      const pricingStart = now();
      const predictions = model.predictAll(candidates, {
        images,
        slowdown: settings.slowdown,
        uplink,
        tickAligned,
      });
      if (candidates.length > 1) this.lastRoundPricingMs = now() - pricingStart;
      return predictions;
    };
    return {
      now: now(),
      sloMs: settings.sloMs,
      pricingKey: `${images}|${settings.slowdown}|${tickAligned ? 'locked' : 'free'}`,
      price,
      uplinkBps: uplink.bps,
    };
  }

  private autoCandidates(bundle: DeviceBundle, settings: RunSettings): Candidate[] {
    return this.tail.connected
      ? allCandidates(bundle.manifest, settings.webpQuality)
      : [{ kind: 'on-device' }];
  }

  /**
   * Prices auto's next round while this request's message waits for the link, where the page's
   * thread has nothing to do until the reply: priced when the next decision is due, the round
   * delays that request's start (see PolicyLoop). Not during the device work: the model runs are
   * timed on this thread, and a run whose reply waited for the pricing was timed longer (live at
   * 8×, where the slowdown multiplies the typical run: device phases of ~250 ms instead of ~110).
   * Only when the wait is predicted to outlast the pricing, and when a reply held up by the
   * pricing would still meet the target at this request's predicted p90.
   */
  private prefetchNextRound(request: DeviceRequest): void {
    const { plan, bundle, settings, indices } = request;
    const { loop, decided } = plan;
    const prediction = decided?.prediction;
    if (!loop || loop !== this.autoLoop || !prediction?.ok) return;
    if (!mayPrefetch(prediction, settings.sloMs, this.lastRoundPricingMs)) return;
    const token = this.runToken;
    setTimeout(() => {
      if (token !== this.runToken || loop !== this.autoLoop) return;
      loop.prefetch(
        {
          ...this.pricingContext(settings, indices.length),
          candidates: this.autoCandidates(bundle, settings),
        },
        // The next decision comes with this request's reply.
        Math.max(0, request.start + prediction.medianMs - now()),
      );
    }, 0);
  }

  private get accuracy(): ReadonlyMap<string, number> {
    this.accuracyTable ??= this.bundle ? accuraciesOf(this.bundle.manifest) : new Map<string, number>();
    return this.accuracyTable;
  }

  /** The full model on the device: nothing is sent. */
  private async runOnDevice(request: DeviceRequest): Promise<{ completion: Promise<void> }> {
    const { bundle, testSet, indices, labels, start } = request;
    try {
      const logits = (await this.runModel(bundle.full, batchInput(testSet, indices), request))[
        bundle.manifest.full.output
      ]!;
      const computeEnd = await this.endDeviceWork(request, { kind: 'on-device' });
      const classes = bundle.manifest.classes.length;
      const images = indices.map((index, i) => ({
        index,
        label: labels[i]!,
        ...softmaxTop(logits, i * classes, classes),
      }));
      const end = now();
      this.addRecord(
        request,
        {
          ...request.base,
          requestId: 0,
          config: 'full',
          images,
          payloadBytes: 0,
          wireBytes: 0,
          phases: computePhases({ start, computeEnd, encodeEnd: computeEnd, end }),
          ok: true,
        },
        this.lastImage(images[0]!, 'on-device', 'full', null),
      );
    } catch (error) {
      const end = now();
      this.failRecord(request, 'full', 'device-error', (error as Error).message, {
        start,
        computeEnd: end,
        encodeEnd: end,
        end,
      });
    }
    return { completion: Promise.resolve() };
  }

  /** The images, encoded, to the server's full model. */
  private async runOffload(
    request: DeviceRequest,
    execution: Extract<Execution, { kind: 'offload' }>,
  ): Promise<{ completion: Promise<void> }> {
    const { testSet, indices, settings, start } = request;
    const format = execution.format;
    const quality = execution.format === 'webp' ? execution.quality : settings.webpQuality;
    const config = offloadConfigName(format, quality);
    const requestId = this.nextRequestId++;
    let frame: Uint8Array;
    let payloadBytes: number;
    try {
      const images = await Promise.all(
        indices.map((index) => encodeImage(imagePixels(testSet, index), format, quality)),
      );
      payloadBytes = images.reduce((sum, image) => sum + image.length, 0);
      frame = encodeOffloadRequest({ requestId, format, images });
    } catch (error) {
      const end = now();
      this.failRecord(request, format, 'encode-error', (error as Error).message, {
        start,
        computeEnd: start,
        encodeEnd: end,
        end,
      });
      return { completion: Promise.resolve() };
    }
    return this.send(request, {
      requestId,
      frame,
      payloadBytes,
      config,
      computeEnd: start,
      codes: null,
      exited: [],
    });
  }

  /**
   * The head on the device, then (with an exit) the level's exit classifier on the float
   * bottleneck: images it is confident enough about are answered here and send nothing; the codes
   * of the rest go to the tail. A request whose images all exit sends no message at all.
   */
  private async runSplit(
    request: DeviceRequest,
    execution: Extract<Candidate, { kind: 'split' }>,
  ): Promise<{ completion: Promise<void> }> {
    const { bundle, testSet, indices, labels, start } = request;
    const { bits } = execution;
    const level = this.level(execution.levelId);
    const exit = this.exitOf(bundle, level.id, execution.exitThreshold);
    const config = splitCandidateId(level.id, bits, exit?.threshold ?? null);
    let computeEnd: number;
    let exited: { position: number; outcome: ImageOutcome }[] = [];
    let bottleneck: Float32Array;
    try {
      const head = bundle.heads.get(level.id)!;
      bottleneck = (await this.runModel(head, batchInput(testSet, indices), request))[level.head.output]!;
      if (exit) {
        // The exit reads the float bottleneck, as the manifest's coverage and accuracy were measured.
        const outputs = await this.runModel(exit.session, bottleneck.slice(), request);
        const logits = outputs[exit.entry.outputs.logits]!;
        const confidence = outputs[exit.entry.outputs.confidence]!;
        const classes = bundle.manifest.classes.length;
        exited = indices.flatMap((index, i) => {
          if (!(confidence[i]! >= exit.threshold)) return [];
          const predicted = softmaxTop(logits, i * classes, classes).predicted;
          return [
            {
              position: i,
              outcome: { index, label: labels[i]!, predicted, confidence: confidence[i]!, earlyExit: true },
            },
          ];
        });
      }
      computeEnd = await this.endDeviceWork(request, execution);
    } catch (error) {
      const end = now();
      this.failRecord(request, config, 'device-error', (error as Error).message, {
        start,
        computeEnd: end,
        encodeEnd: end,
        end,
      });
      return { completion: Promise.resolve() };
    }
    const exitedAt = new Set(exited.map((entry) => entry.position));
    const sentPositions = indices.map((_, i) => i).filter((i) => !exitedAt.has(i));
    if (sentPositions.length === 0) {
      const end = now();
      const images = exited.map((entry) => entry.outcome);
      this.addRecord(
        request,
        {
          ...request.base,
          requestId: 0,
          config,
          images,
          payloadBytes: 0,
          wireBytes: 0,
          phases: computePhases({ start, computeEnd, encodeEnd: computeEnd, end }),
          ok: true,
        },
        this.lastImage(images[0]!, 'split', config, null),
      );
      return { completion: Promise.resolve() };
    }
    const requestId = this.nextRequestId++;
    let frame: Uint8Array;
    let payloadBytes: number;
    let codes: LastImage['codes'];
    try {
      const perImage = payloadBytesPerImage(level.elements, bits);
      payloadBytes = perImage * sentPositions.length;
      const buffer = new Uint8Array(SPLIT_HEADER_MAX_BYTES + payloadBytes);
      const headerLength = writeSplitHeader(buffer, {
        requestId,
        levelIndex: bundle.manifest.levels.indexOf(level),
        bits,
        count: sentPositions.length,
      });
      for (const [slot, i] of sentPositions.entries()) {
        const values = bottleneck.subarray(i * level.elements, (i + 1) * level.elements);
        encodeBottleneck(values, bits, buffer, headerLength + slot * perImage);
      }
      frame = buffer.subarray(0, headerLength + payloadBytes);
      const first = sentPositions[0]!;
      codes = {
        values: Array.from(
          quantize(bottleneck.subarray(first * level.elements, (first + 1) * level.elements), bits),
        ),
        shape: level.bottleneckShape,
        bits,
      };
    } catch (error) {
      const end = now();
      this.failRecord(request, config, 'encode-error', (error as Error).message, {
        start,
        computeEnd,
        encodeEnd: end,
        end,
      });
      return { completion: Promise.resolve() };
    }
    return this.send(request, {
      requestId,
      frame,
      payloadBytes,
      config,
      computeEnd,
      codes,
      exited,
      sentPositions,
    });
  }

  /** Hands one encoded request to the socket; the completion turns the reply into the record. */
  private send(
    request: DeviceRequest,
    message: {
      requestId: number;
      frame: Uint8Array;
      payloadBytes: number;
      config: string;
      computeEnd: number;
      codes: LastImage['codes'];
      /** Images the exit answered on the device, by their position in the request. */
      exited: { position: number; outcome: ImageOutcome }[];
      /** Positions of the images sent, in frame order (default: all). */
      sentPositions?: number[];
    },
  ): { completion: Promise<void> } {
    const { indices, labels, start, session } = request;
    const mode = request.base.mode;
    const { requestId, frame, payloadBytes, config, computeEnd, codes, exited } = message;
    const sentPositions = message.sentPositions ?? indices.map((_, i) => i);
    const encodeEnd = now();
    this.lastTrafficAt = encodeEnd;
    const uplinkAtSend = this.uplinkNow().bps;
    const sending = this.tail.infer(frame, REQUEST_TIMEOUT_MS);
    this.prefetchNextRound(request);
    this.messagesInFlight++;
    void sending.finally(() => this.messagesInFlight--);
    this.feed.noteSent();
    const failedImages = (): ImageOutcome[] =>
      indices.map((index, i) => ({ index, label: labels[i]!, predicted: -1, confidence: 0 }));
    const completion = sending.then((outcome) => {
      this.lastTrafficAt = now();
      if (session !== this.feed.session) return;
      // The socket's thread and the page convert epoch time to the page clock separately; clamp the
      // sub-millisecond disagreement so that no phase goes negative.
      const sent = Math.max(outcome.sentAt, encodeEnd);
      const end = Math.max(outcome.deliveredAt, outcome.receivedAt, sent);
      const received = Math.min(Math.max(outcome.receivedAt, sent), end);
      const timestamps: RequestTimestamps = { start, computeEnd, encodeEnd, sent, received, end };
      const common = { ...request.base, requestId, config, payloadBytes, wireBytes: outcome.wireBytes };
      if (!outcome.response.ok) {
        const { code, message: text } = outcome.response.error;
        const reason: FailureReason = code === 'timeout' || code === 'disconnected' ? code : 'server-error';
        this.addRecord(request, {
          ...common,
          images: failedImages(),
          phases: computePhases(timestamps),
          ok: false,
          failure: { reason, message: `${code}: ${text}` },
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
      const images: ImageOutcome[] = new Array<ImageOutcome>(indices.length);
      for (const { position, outcome: answered } of exited) images[position] = answered;
      for (const [slot, i] of sentPositions.entries()) {
        const prediction = result.predictions[slot];
        images[i] = {
          index: indices[i]!,
          label: labels[i]!,
          predicted: prediction?.argmax ?? -1,
          confidence: prediction?.topk[0]?.[1] ?? 0,
        };
      }
      this.addUplinkSample(
        outcome.sentAt,
        result.serverReceivedAt,
        outcome.wireBytes,
        phases.networkMs,
        false,
        exited.length > 0,
      );
      if (clock) {
        // What the lock to the throttle's clock turns on: how long after the tick that released the
        // previous message this request started, and how long its own message took to be handed over.
        const arrivedAt = result.serverReceivedAt - clock.offsetMs;
        if (request.tickOffsetMs !== null)
          this.costModel?.observeTickLock(request.tickOffsetMs, Math.max(0, sent - encodeEnd), arrivedAt);
        this.lastMessageArrivedAt = arrivedAt;
      }
      this.addRecord(
        request,
        { ...common, images, phases, serverBatch: result.batchSize, ok: true },
        this.lastImage(images[sentPositions[0]!]!, mode, config, codes),
        uplinkAtSend,
      );
    });
    return { completion };
  }

  /** Runs a device model at the request's emulated slowdown and tells the cost model how long it took. */
  private async runModel(
    model: ModelSession,
    input: Float32Array,
    request: DeviceRequest,
  ): Promise<Record<string, Float32Array>> {
    const batch = request.indices.length;
    const startedAt = now();
    const outputs = await model.run(input, batch, request.slowdown);
    const ms = now() - startedAt;
    request.modelMs += ms;
    this.costModel?.addDeviceRun(model.name, batch, request.slowdown, ms, now());
    return outputs;
  }

  /**
   * The end of the device phase: a device k times slower does its work around the models (inputs,
   * copies, the exit's gate) k times slower too, so that work is padded to k times what it took;
   * its time goes to the cost model as the candidate's device work.
   */
  private async endDeviceWork(request: DeviceRequest, candidate: Candidate): Promise<number> {
    const workMs = Math.max(0, now() - request.start - request.modelMs);
    if (request.slowdown > 1 && workMs > 0) await sleep((request.slowdown - 1) * workMs);
    const end = now();
    this.costModel?.addDeviceWork(
      candidate,
      request.indices.length,
      request.slowdown,
      Math.max(0, end - request.start - request.modelMs),
      end,
    );
    return end;
  }

  private addRecord(
    request: DeviceRequest,
    record: InferenceRecord,
    lastImage?: LastImage,
    uplinkAtSend: number | null = null,
  ): void {
    if (request.session !== this.feed.session) return;
    this.previousSentMessage = record.ok && record.requestId !== 0 && record.wireBytes > 0;
    this.feed.add(record, lastImage);
    this.costModel?.observeRecord(record, uplinkAtSend);
    // The predictor's error feeds the policy's margin, as in the simulator (answered requests only:
    // a failure's time says nothing about the prediction).
    const { decided, loop } = request.plan;
    if (decided && loop && record.ok) loop.observe(decided.decision, record.phases.totalMs);
  }

  private failRecord(
    request: DeviceRequest,
    config: string,
    reason: FailureReason,
    message: string,
    t: RequestTimestamps,
  ): void {
    this.addRecord(request, {
      ...request.base,
      requestId: 0,
      config,
      images: request.indices.map((index, i) => ({
        index,
        label: request.labels[i]!,
        predicted: -1,
        confidence: 0,
      })),
      payloadBytes: 0,
      wireBytes: 0,
      phases: computePhases(t),
      ok: false,
      failure: { reason, message },
    });
  }

  /** The level's early exit at `threshold`, when the manifest has one there (null: no exit). */
  private exitOf(
    bundle: DeviceBundle,
    levelId: string,
    threshold: number | null,
  ): { session: ModelSession; entry: EarlyExitEntry; threshold: number } | null {
    if (threshold === null) return null;
    const entry = bundle.manifest.earlyExits.find((candidate) => candidate.level === levelId);
    const session = bundle.exits.get(levelId);
    if (!entry || !session || !entry.thresholds.some((row) => row.threshold === threshold)) return null;
    return { session, entry, threshold };
  }

  /**
   * The first run of a session at a new batch size compiles shaders and allocates buffers
   * (WebGPU especially); do it untimed so it never shows up as device compute. One more run,
   * timed at real speed, calibrates the cost model for that size.
   */
  private async warmUp(bundle: DeviceBundle, execution: Execution, batch: number): Promise<void> {
    if (execution.kind === 'offload') return;
    let models = [bundle.full];
    if (execution.kind === 'split') {
      const level = this.level(execution.levelId);
      const exit = this.exitOf(bundle, level.id, execution.exitThreshold);
      models = [bundle.heads.get(level.id)!, ...(exit ? [exit.session] : [])];
    }
    for (const model of models) await this.warmUpModel(bundle, model, batch);
  }

  private async warmUpModel(bundle: DeviceBundle, model: ModelSession, batch: number): Promise<void> {
    if (bundle.warmedBatchSizes.includes(batch)) return;
    const warmed = this.warmedBatchSizes.get(model) ?? new Set<number>();
    if (warmed.has(batch)) return;
    const elements = this.inputElements(bundle, model);
    await model.run(new Float32Array(batch * elements), batch);
    const timedFrom = now();
    await model.run(new Float32Array(batch * elements), batch);
    this.costModel?.addDeviceRun(model.name, batch, 1, now() - timedFrom, now());
    warmed.add(batch);
    this.warmedBatchSizes.set(model, warmed);
  }

  private inputElements(bundle: DeviceBundle, model: ModelSession): number {
    for (const [levelId, exit] of bundle.exits) if (exit === model) return this.level(levelId).elements;
    return bundle.manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  /** What a fixed mode runs with these settings (split's exit only when the manifest has it). */
  private executionOf(mode: Mode, bundle: DeviceBundle, settings: RunSettings): Execution {
    if (mode === 'on-device') return { kind: 'on-device' };
    if (mode === 'split') {
      const levelId = this.level(settings.levelId).id;
      const exit = this.exitOf(bundle, levelId, settings.exitThreshold);
      return { kind: 'split', levelId, bits: settings.bits, exitThreshold: exit?.threshold ?? null };
    }
    if (settings.format === 'webp') return { kind: 'offload', format: 'webp', quality: settings.webpQuality };
    return { kind: 'offload', format: settings.format };
  }

  /**
   * One request at a time, back to back: after a request the throttle released on a tick, the next
   * message leaves on the first tick after its device work (the cost model prices that).
   */
  private lockable(settings: RunSettings): boolean {
    return settings.maxInFlight === 1 && settings.rateKind === 'max' && this.lanesOf(settings).length === 1;
  }

  /** The next request starts in step with the throttle's clock: its offset to the tick is measured. */
  private tickAligned(settings: RunSettings): boolean {
    return this.lockable(settings) && this.previousSentMessage;
  }

  /** The cost model's samples by key (copies): what its predictions rest on. */
  costSamples(prefix = ''): Record<string, number[]> {
    return this.costModel?.samplesOf(prefix) ?? {};
  }

  private uplinkNow(): UplinkInput {
    return uplinkInputOf(this.feed.uplink.estimate());
  }

  private syncOffloadSizes(model: CostModel): void {
    const sizes = this.store.offloadSizes;
    if (!sizes) return;
    model.setOffloadImageBytes('png', sizes.png);
    if (sizes.webp) model.setOffloadImageBytes(`webp-q${sizes.webp.quality}`, sizes.webp.bytes);
  }

  /**
   * Every candidate's predicted latency for the next request at the current settings, next to
   * the measured latency of its recent requests: what the predictions table shows.
   */
  predictions(include: (candidate: string) => boolean = () => true): PredictionsView | null {
    const model = this.costModel;
    const manifest = this.bundle?.manifest;
    if (!model || !manifest) return null;
    const { imagesPerRequest: images, slowdown, webpQuality } = this.store.settings;
    this.syncOffloadSizes(model);
    const uplink = this.uplinkNow();
    const tickAligned = this.lockable(this.store.settings);
    const rows = allCandidates(manifest, webpQuality).flatMap((candidate) => {
      const id = candidateId(candidate);
      const measured = model.measured(id, images, slowdown);
      // Candidates that ran keep their row; the others are priced only when asked for.
      if (!measured && !include(id)) return [];
      return {
        candidate: id,
        prediction: model.predict(candidate, { images, slowdown, uplink, tickAligned }),
        measured,
      };
    });
    return { images, slowdown, uplink, rows };
  }

  /**
   * Device models that no running candidate keeps current are run now and then at the current
   * size and slowdown, timed, so their predictions follow the device; within a small share of the
   * run's time, so the measurement never crowds out the stream.
   */
  private async refreshStaleDeviceCost(settings: RunSettings): Promise<void> {
    const bundle = this.bundle;
    const model = this.costModel;
    if (!bundle || !model) return;
    const startedAt = now();
    if (this.refreshSpentMs > DEVICE_REFRESH_BUDGET * (startedAt - this.runStartedAt)) return;
    const batch = settings.imagesPerRequest;
    const stale = model.staleDeviceModels(
      allCandidates(bundle.manifest),
      batch,
      settings.slowdown,
      startedAt,
      DEVICE_COST_MAX_AGE_MS,
    )[0];
    const session = stale === undefined ? undefined : this.sessionNamed(bundle, stale);
    if (!session) return;
    try {
      await this.warmUpModel(bundle, session, batch);
      const elements = this.inputElements(bundle, session);
      const timedFrom = now();
      await session.run(new Float32Array(batch * elements), batch, settings.slowdown);
      model.addDeviceRun(session.name, batch, settings.slowdown, now() - timedFrom, now());
    } catch (error) {
      log.warn(`re-measuring ${stale}: ${(error as Error).message}`);
    } finally {
      this.refreshSpentMs += now() - startedAt;
    }
  }

  private sessionNamed(bundle: DeviceBundle, name: string): ModelSession | undefined {
    if (bundle.full.name === name) return bundle.full;
    for (const session of [...bundle.heads.values(), ...bundle.exits.values()])
      if (session.name === name) return session;
    return undefined;
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
