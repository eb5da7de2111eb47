import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelManifest } from '../core/manifest';
import type { BandwidthEstimate } from '../core/uplinkEstimator';
import { decodeInferRequest, type InferResult, type Response } from '../core/protocol';
import type { ModelSession } from '../backend/ort';
import type { DeviceBundle } from './bundle';
import type { TestSet } from './dataset';
import { Engine } from './engine';
import { DEFAULT_SETTINGS } from './settings';
import { useAppStore } from './store';
import type { ConnectionState, InferOutcome, ProbeOutcome, TailLink } from './tailLink';

const CLASSES = 10;
const ELEMENTS = 4 * 7 * 7;

const manifest = {
  input: { shape: [-1, 1, 28, 28] },
  classes: Array.from({ length: CLASSES }, (_, i) => `class ${i}`),
  full: { output: 'logits' },
  quantization: { minBits: 1, maxBits: 8 },
  levels: [{ id: 'c4', elements: ELEMENTS, bottleneckShape: [4, 7, 7], head: { output: 'bottleneck' } }],
  earlyExits: [
    {
      level: 'c4',
      bottleneck: 'float',
      outputs: { logits: 'logits', confidence: 'confidence' },
      thresholds: [
        { threshold: 0.9, coverage: 0.5, accuracy: 1 },
        { threshold: 0.4, coverage: 1, accuracy: 0.9 },
      ],
    },
  ],
} as unknown as ModelManifest;

/** The manifest with the accuracies a policy reads: c4 at 2 bits beats the full model here. */
const autoManifest = {
  ...manifest,
  full: { output: 'logits', accuracy: { correct: 900, total: 1000, accuracy: 0.9 } },
  levels: [
    {
      ...manifest.levels[0]!,
      bits: [
        { bits: 2, accuracy: 0.95, payloadBytes: 49 },
        { bits: 4, accuracy: 0.85, payloadBytes: 98 },
      ],
    },
  ],
} as unknown as ModelManifest;

/** An uplink estimate of `bps`, as the estimator would state a settled one. */
const estimateOf = (bps: number): BandwidthEstimate => ({
  uplinkBps: bps,
  uplinkLowBps: bps * 0.95,
  uplinkHighBps: bps * 1.05,
  uplinkRelativeUncertainty: 0.05,
  quantumMs: (1500 * 8 * 1000) / bps,
  method: 'quantum-clock',
  rttMs: 1,
  samples: 10,
});

/** Every run a fake session was asked for: its batch and how many times it was to repeat. */
const runsOf = new Map<string, { batch: number; repeats: number }[]>();

/**
 * A model that answers class (first pixel % 10) for every image, instantly. A head passes the
 * first pixel through as its first bottleneck value, so the fake exit can tell images apart.
 */
function fakeSession(name: string, output: string, perItem: number): ModelSession {
  return {
    name,
    backend: 'wasm',
    async run(input, batch, repeats = 1) {
      runsOf.set(name, [...(runsOf.get(name) ?? []), { batch, repeats }]);
      const out = new Float32Array(batch * perItem);
      const inputPerItem = input.length / batch;
      if (output === 'logits')
        for (let i = 0; i < batch; i++)
          out[i * perItem + (Math.round(input[i * inputPerItem]! * 255) % 10)] = 5;
      else {
        out.fill(0.5);
        for (let i = 0; i < batch; i++) out[i * perItem] = input[i * inputPerItem]!;
      }
      return { [output]: out };
    },
    async dispose() {},
  };
}

/** An exit that is sure (0.95) of images with an odd first pixel, unsure (0.5) of the rest; its answer is the pixel % 10. */
function fakeExit(): ModelSession {
  return {
    name: 'exit-c4',
    backend: 'wasm',
    async run(input, batch, repeats = 1) {
      runsOf.set('exit-c4', [...(runsOf.get('exit-c4') ?? []), { batch, repeats }]);
      const logits = new Float32Array(batch * CLASSES);
      const confidence = new Float32Array(batch);
      for (let i = 0; i < batch; i++) {
        const pixel = Math.round(input[i * ELEMENTS]! * 255);
        logits[i * CLASSES + (pixel % 10)] = 5;
        confidence[i] = pixel % 2 === 1 ? 0.95 : 0.5;
      }
      return { logits, confidence };
    },
    async dispose() {},
  };
}

function testSet(count: number): TestSet {
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    pixels[i * 784] = i % 10;
    labels[i] = i % 10;
  }
  return { count, width: 28, height: 28, pixels, labels };
}

/** A tail that answers when the test says so, and remembers how many requests overlapped. */
class FakeTail implements TailLink {
  connected = true;
  maxConcurrent = 0;
  readonly pending: { frame: Uint8Array; resolve: (outcome: InferOutcome) => void; sentAt: number }[] = [];
  private listeners = new Set<(state: ConnectionState, detail: string) => void>();
  autoReply = true;

  connect(): void {}

  infer(frame: Uint8Array): Promise<InferOutcome> {
    const sentAt = performance.now();
    return new Promise((resolve) => {
      if (!this.connected) {
        resolve({
          response: { ok: false, error: { code: 'disconnected', message: 'down' } },
          wireBytes: 0,
          sentAt,
          receivedAt: sentAt,
          deliveredAt: sentAt,
        });
        return;
      }
      this.pending.push({ frame, resolve, sentAt });
      this.maxConcurrent = Math.max(this.maxConcurrent, this.pending.length);
      if (this.autoReply) setTimeout(() => this.replyAll(), 1);
    });
  }

  replyAll(): void {
    for (const request of this.pending.splice(0)) {
      const decoded = decodeInferRequest(request.frame, {
        levelElements: [ELEMENTS],
        maxImagesPerRequest: 64,
        maxImageBytes: 8192,
      });
      const count = decoded.mode === 'split' ? decoded.count : decoded.images.length;
      const now = performance.now();
      const data: InferResult = {
        requestId: decoded.requestId,
        mode: decoded.mode,
        predictions: Array.from({ length: count }, () => ({
          argmax: 0,
          topk: [[0, 0.9]] as [number, number][],
        })),
        timings: { queuedMs: 0.1, decodeMs: 0.1, computeMs: 0.3, totalMs: 0.5 },
        batchSize: count,
        batchRequests: 1,
        serverReceivedAt: performance.timeOrigin + request.sentAt,
        serverSentAt: performance.timeOrigin + now,
      };
      const response: Response<InferResult> = { ok: true, data };
      request.resolve({
        response,
        wireBytes: request.frame.length + 3,
        sentAt: request.sentAt,
        receivedAt: now,
        deliveredAt: now,
      });
    }
  }

  failAll(): void {
    for (const request of this.pending.splice(0)) {
      const now = performance.now();
      request.resolve({
        response: { ok: false, error: { code: 'disconnected', message: 'connection lost' } },
        wireBytes: request.frame.length + 3,
        sentAt: request.sentAt,
        receivedAt: now,
        deliveredAt: now,
      });
    }
  }

  /** Bandwidth probes sent, each answered when the test resolves it (null: none answered at all). */
  readonly probes: { bytes: number; answer: () => void }[] = [];
  answerProbes = false;

  probe(payloadBytes: number): Promise<ProbeOutcome | null> {
    if (!this.answerProbes) return Promise.resolve(null);
    const sentAt = performance.now();
    return new Promise((resolve) =>
      this.probes.push({
        bytes: payloadBytes,
        answer: () => {
          const now = performance.now();
          resolve({
            wireBytes: payloadBytes + 3,
            sentAt,
            receivedAt: now,
            serverReceivedAt: performance.timeOrigin + now,
          });
        },
      }),
    );
  }

  onConnectionChange(listener: (state: ConnectionState, detail: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function bundle(): DeviceBundle {
  return {
    manifest,
    backend: { kind: 'wasm', label: 'wasm: test', wasmThreads: 1 },
    full: fakeSession('full', 'logits', CLASSES),
    heads: new Map([['c4', fakeSession('head-c4', 'bottleneck', ELEMENTS)]]),
    exits: new Map([['c4', fakeExit()]]),
    calibration: [{ model: 'full', batch: 4, ms: 2 }],
    warmedBatchSizes: [],
    async dispose() {},
  };
}

const until = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('Engine', () => {
  let tail: FakeTail;
  let engine: Engine;

  beforeEach(() => {
    useAppStore.setState({
      settings: { ...DEFAULT_SETTINGS, format: 'raw' },
      running: false,
      busy: false,
      errors: { models: null, dataset: null, server: null },
    });
    runsOf.clear();
    tail = new FakeTail();
    engine = new Engine(tail);
    engine.useLoaded(bundle(), testSet(100));
  });

  afterEach(() => engine.stop());

  it('runs compare mode one request at a time, with every mode on the same images', async () => {
    useAppStore
      .getState()
      .updateSettings({ mode: 'compare', imagesPerRequest: 4, stopAfterImages: 12, maxInFlight: 1 });
    engine.start();
    await until(() => !useAppStore.getState().running && engine.feed.records.size === 9);
    expect(tail.maxConcurrent).toBe(1);
    const records = engine.feed.records.toArray();
    for (const mode of ['on-device', 'offload', 'split'] as const) {
      const images = records
        .filter((record) => record.mode === mode)
        .flatMap((record) => record.images.map((image) => image.index));
      expect(images).toEqual(Array.from({ length: 12 }, (_, i) => i));
    }
    const { counters } = engine.feed.snapshot();
    expect(counters.sent).toBe(6);
    expect(counters.answered + counters.failed).toBe(counters.sent);
    expect(counters.local).toBe(3);
  });

  it('counts requests lost to a disconnect as failed with the reason, and balances', async () => {
    tail.autoReply = false;
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 2, maxInFlight: 3 });
    engine.start();
    await until(() => tail.pending.length === 3);
    engine.stop();
    tail.failAll();
    await until(() => engine.feed.records.size === 3);
    const { counters } = engine.feed.snapshot();
    expect(counters).toMatchObject({ sent: 3, answered: 0, failed: 3, failedByReason: { disconnected: 3 } });
    for (const record of engine.feed.records.toArray()) {
      expect(record.ok).toBe(false);
      expect(record.phases.networkMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('drops replies that arrive after the session was cleared', async () => {
    tail.autoReply = false;
    useAppStore.getState().updateSettings({ mode: 'offload', imagesPerRequest: 1, maxInFlight: 2 });
    engine.start();
    await until(() => tail.pending.length === 2);
    engine.stop();
    engine.resetSession();
    tail.replyAll();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(engine.feed.records.size).toBe(0);
    const { counters } = engine.feed.snapshot();
    expect(counters.sent).toBe(0);
    expect(counters.answered).toBe(0);
  });

  it('steps once per mode and reports accuracy against the labels', async () => {
    useAppStore.getState().updateSettings({ mode: 'compare', imagesPerRequest: 10 });
    await engine.step();
    const perMode = engine.feed.snapshot().perMode;
    // The fake full model answers every label right; the fake tail always says class 0.
    expect(perMode['on-device'].accuracy).toBe(1);
    expect(perMode.split.accuracy).toBe(0.1);
    expect(perMode.offload.accuracy).toBe(0.1);
    expect(useAppStore.getState().busy).toBe(false);
  });

  it('warms a session once per new batch size, untimed, and not at sizes the bundle warmed', async () => {
    const loaded = { ...bundle(), warmedBatchSizes: [4] };
    const batches: number[] = [];
    const head = loaded.heads.get('c4')!;
    const run = head.run.bind(head);
    head.run = (input, batch, repeats) => {
      batches.push(batch);
      return run(input, batch, repeats);
    };
    engine.useLoaded(loaded, testSet(100));
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 4 });
    await engine.step();
    await engine.step();
    useAppStore.getState().updateSettings({ imagesPerRequest: 2 });
    await engine.step();
    await engine.step();
    // Size 4 was warmed while loading; size 2 gets one untimed warm-up run and one timed run that
    // calibrates the cost model, before its first request only.
    expect(batches).toEqual([4, 4, 2, 2, 2, 2]);
  });

  it('runs every device model k times at slowdown k and says so on the record', async () => {
    useAppStore
      .getState()
      .updateSettings({ mode: 'compare', imagesPerRequest: 4, slowdown: 8, exitThreshold: 0.9 });
    await engine.step();
    const timed = (name: string) => runsOf.get(name)!.filter((run) => run.repeats !== 1);
    expect(timed('full')).toEqual([{ batch: 4, repeats: 8 }]);
    expect(timed('head-c4')).toEqual([{ batch: 4, repeats: 8 }]);
    expect(timed('exit-c4')).toEqual([{ batch: 4, repeats: 8 }]);
    const records = engine.feed.records.toArray();
    expect(records.map((record) => record.slowdown)).toEqual([8, 8, 8]);
  });

  it('answers the images the exit is sure of on the device and sends only the rest', async () => {
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 4, exitThreshold: 0.9 });
    await engine.step();
    const [record] = engine.feed.records.toArray();
    // Images 0..3: 1 and 3 have odd first pixels, so the exit answers them (right: pixel % 10 = label).
    expect(record!.config).toBe('c4-b2-x0.9');
    expect(record!.images.map((image) => image.earlyExit === true)).toEqual([false, true, false, true]);
    expect(record!.images.map((image) => image.predicted)).toEqual([0, 1, 0, 3]);
    expect(record!.images.map((image) => image.index)).toEqual([0, 1, 2, 3]);
    // Two images' codes went out, 2 bits × 196 values each.
    expect(record!.payloadBytes).toBe(2 * 49);
    const { counters } = engine.feed.snapshot();
    expect(counters.sent).toBe(1);
  });

  it('sends no message for a request whose images all exit, and counts its bytes as 0', async () => {
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 2, startIndex: 1, seed: 0 });
    useAppStore.getState().updateSettings({ exitThreshold: 0.4 });
    await engine.step();
    const [record] = engine.feed.records.toArray();
    expect(record!.ok).toBe(true);
    expect(record!.images.every((image) => image.earlyExit)).toBe(true);
    expect(record!.wireBytes).toBe(0);
    expect(record!.requestId).toBe(0);
    expect(tail.pending).toHaveLength(0);
    const { counters, perMode } = engine.feed.snapshot();
    expect(counters.sent).toBe(0);
    expect(perMode.split.wireBytesPerImage).toBe(0);
  });

  it('ignores a threshold the manifest does not list, rather than inventing an exit', async () => {
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 4, exitThreshold: 0.77 });
    await engine.step();
    const [record] = engine.feed.records.toArray();
    expect(record!.config).toBe('c4-b2');
    expect(record!.images.some((image) => image.earlyExit)).toBe(false);
  });

  it('puts the prediction made before each request on its record', async () => {
    useAppStore.getState().updateSettings({ mode: 'on-device', imagesPerRequest: 4 });
    await engine.step();
    const [record] = engine.feed.records.toArray();
    expect(record!.prediction?.candidate).toBe('full');
    expect(record!.prediction!.medianMs).toBeGreaterThanOrEqual(0);
    expect(record!.prediction!.p90Ms).toBeGreaterThanOrEqual(record!.prediction!.medianMs);
    const view = engine.predictions()!;
    const row = view.rows.find((entry) => entry.candidate === 'full')!;
    expect(row.prediction.ok).toBe(true);
    expect(row.measured?.requests).toBe(1);
  });

  it('starts the next request only once the stream probe sent after a reply is answered', async () => {
    // An ambiguous fit on a fast link asks for a probe after a reply; a request queued behind it
    // on the throttle would wait for its quanta too.
    vi.spyOn(engine.feed.uplink, 'estimate').mockImplementation(() => ({
      ...estimateOf(2_000_000),
      uplinkLowBps: 1_000_000,
      uplinkHighBps: 3_000_000,
    }));
    vi.spyOn(engine.feed.clock, 'get').mockImplementation(() => ({ offsetMs: 0, uncertaintyMs: 1 }));
    tail.answerProbes = true;
    useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 4 });
    engine.start();
    await until(() => tail.probes.length === 1);
    const recordsAtProbe = engine.feed.records.size;
    expect(recordsAtProbe).toBe(1);
    expect(tail.probes[0]!.bytes).toBeGreaterThan(1500);
    // Held: nothing else goes while the probe is on the wire.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(engine.feed.records.size).toBe(recordsAtProbe);
    expect(tail.pending).toHaveLength(0);
    tail.probes[0]!.answer();
    await until(() => engine.feed.records.size > recordsAtProbe);
    engine.stop();
  });

  describe('auto mode', () => {
    beforeEach(() => engine.useLoaded({ ...bundle(), manifest: autoManifest }, testSet(1000)));

    it('decides every request by the policy over every candidate and puts the decision on the record', async () => {
      // No uplink estimate (the fake link measures none): only the device can be priced.
      useAppStore
        .getState()
        .updateSettings({ mode: 'auto', imagesPerRequest: 4, sloMs: 300, stopAfterImages: 12 });
      engine.start();
      await until(() => !useAppStore.getState().running && engine.feed.records.size === 3);
      const records = engine.feed.records.toArray();
      for (const record of records) {
        expect(record.mode).toBe('on-device');
        expect(record.config).toBe('full');
        expect(record.decision).toMatchObject({
          policy: 'auto',
          candidate: 'full',
          sloMs: 300,
          exploring: false,
        });
        expect(record.decision!.reason).toMatch(/uplink unknown/i);
        expect(record.prediction).toEqual({ candidate: 'full', ...record.decision!.predicted });
        // Every candidate of the bundle: on-device, PNG, WebP, 8 bit-widths × (no exit, 2 exits).
        expect(record.decision!.candidates).toHaveLength(3 + 8 * 3);
        const split = record.decision!.candidates.find((entry) => entry.id === 'c4-b2')!;
        expect(split).toEqual({ id: 'c4-b2', medianMs: null, p90Ms: null, expectedAccuracy: 0.95 });
        // This test manifest has no splitWithExit table, so the exit has no figure: none is invented.
        expect(
          record.decision!.candidates.find((entry) => entry.id === 'c4-b2-x0.9')!.expectedAccuracy,
        ).toBeNull();
      }
      const snapshot = engine.feed.snapshot();
      expect(snapshot.auto.requests).toBe(3);
      expect(snapshot.rows.map((row) => [row.mode, row.config])).toEqual([['auto', 'auto']]);
      expect(snapshot.decisions.map((point) => point.candidate)).toEqual(['full', 'full', 'full']);
      expect(snapshot.lastDecision?.candidate).toBe('full');
    });

    it('explores the split it cannot price, takes it on a fast link and leaves it when the link slows', async () => {
      let bps = 2_000_000;
      vi.spyOn(engine.feed.uplink, 'estimate').mockImplementation(() => estimateOf(bps));
      useAppStore.getState().updateSettings({ mode: 'auto', imagesPerRequest: 16, sloMs: 250 });
      engine.start();
      // The first request measures the tail's server time (the split's prediction lacks it).
      await until(() => engine.feed.records.size >= 1);
      const first = engine.feed.records.toArray()[0]!;
      expect(first.decision).toMatchObject({ candidate: 'c4-b2', exploring: true });
      expect(first.decision!.reason).toMatch(/^Measuring split c4 at 2 bits once/);
      expect(first.prediction).toBeUndefined();
      // Then c4-b2, the most accurate, is priced and chosen: 16 × 49 B fit one quantum (6 ms).
      await until(() =>
        engine.feed.records
          .toArray()
          .some((record) => record.decision?.candidate === 'c4-b2' && !record.decision.exploring),
      );
      const chosen = engine.feed.records.toArray().find((record) => record.decision?.predicted)!;
      expect(chosen.mode).toBe('split');
      expect(chosen.config).toBe('c4-b2');
      expect(chosen.decision!.meetsSlo).toBe(true);
      expect(chosen.decision!.uplinkBps).toBe(2_000_000);
      // At 10 kbit/s one quantum takes 1.2 s: over the target, so the device (90%, fast) takes over.
      bps = 10_000;
      const stepAt = engine.feed.records.size;
      await until(() => engine.feed.records.toArray().at(-1)?.config === 'full', 5000);
      engine.stop();
      const after = engine.feed.records.toArray().slice(stepAt);
      const firstDevice = after.findIndex((record) => record.config === 'full');
      // Re-priced within 250 ms: only requests already decided ran on the old choice.
      expect(after.slice(firstDevice).every((record) => record.config === 'full')).toBe(true);
      const last = engine.feed.records.toArray().at(-1)!;
      expect(last.decision!.reason).toMatch(
        /split c4 at 2 bits needs ~\d+ ms \(p90\), over the 250 ms target; on-device meets it at 90.0%/,
      );
      expect(engine.feed.snapshot().lastDecision?.candidate).toBe('full');
    });

    it('re-prices at once when the slowdown changes', async () => {
      vi.spyOn(engine.feed.uplink, 'estimate').mockImplementation(() => estimateOf(2_000_000));
      useAppStore.getState().updateSettings({ mode: 'auto', imagesPerRequest: 4, sloMs: 250 });
      await engine.step();
      await engine.step();
      useAppStore.getState().updateSettings({ slowdown: 8 });
      await engine.step();
      const records = engine.feed.records.toArray();
      expect(records.map((record) => record.slowdown)).toEqual([1, 1, 8]);
      // A new round of predictions (a new shared array) for the new slowdown.
      expect(records[2]!.decision!.candidates).not.toBe(records[1]!.decision!.candidates);
      expect(records[2]!.decision!.sloMs).toBe(250);
    });

    it('keeps streaming on the device alone while the server is away', async () => {
      vi.spyOn(engine.feed.uplink, 'estimate').mockImplementation(() => estimateOf(2_000_000));
      tail.connected = false;
      useAppStore.getState().updateSettings({ mode: 'auto', imagesPerRequest: 4, stopAfterImages: 8 });
      engine.start();
      await until(() => !useAppStore.getState().running && engine.feed.records.size === 2);
      const records = engine.feed.records.toArray();
      expect(records.map((record) => record.config)).toEqual(['full', 'full']);
      expect(records[0]!.decision!.candidates.map((entry) => entry.id)).toEqual(['full']);
      expect(tail.pending).toHaveLength(0);
    });

    it('keeps the fixed modes on static policies over their own candidate', async () => {
      useAppStore.getState().updateSettings({ mode: 'split', imagesPerRequest: 4, sloMs: 100 });
      await engine.step();
      const [record] = engine.feed.records.toArray();
      expect(record!.decision).toMatchObject({
        policy: 'static c4-b2',
        candidate: 'c4-b2',
        reason: 'split c4 at 2 bits is fixed.',
        sloMs: 100,
        expectedAccuracy: 0.95,
      });
      expect(record!.decision!.candidates.map((entry) => entry.id)).toEqual(['c4-b2']);
      expect(engine.feed.snapshot().perMode.split.requests).toBe(1);
      expect(engine.feed.snapshot().decisions).toEqual([]);
    });
  });
});
