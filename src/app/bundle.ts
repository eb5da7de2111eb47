/**
 * The model bundle in the page: the manifest, the files the device runs (full model and one head
 * per level; tails stay on the server), downloaded once with progress and kept in Cache Storage,
 * and the ORT sessions on the chosen backend, warmed up before anyone calls the bundle ready.
 */
import { validateMeasuredConfigs, type ModelManifest } from '../core/manifest';
import { createLogger } from '../core/log';
import type { Capabilities } from '../backend/capabilities';
import {
  createModelSession,
  describeBackend,
  type BackendInfo,
  type BackendKind,
  type ModelSession,
} from '../backend/ort';
import { download, type DownloadProgress } from './download';

const log = createLogger('bundle');

export const BUNDLE_BASE = `${import.meta.env.BASE_URL}models/fmnist/`;

/**
 * 16-image runs of the full model before "ready" on WASM (each head gets 3). V8 first runs
 * WebAssembly through its baseline compiler and recompiles the functions that get hot with its
 * optimising one, in the background. With one warm-up run, ORT's kernels got hot only once a
 * stream had started: measured on a 2-core machine, ~2.8 s of background compilation in the first
 * 5 s of a 50-image/s stream, which held the page's main thread to long tasks of up to ~350 ms and
 * ran the first measured images on unoptimised code. Warmed like this, the compilation happens
 * while loading, and no task of a 22 s stream went over 87 ms (three runs). The heads run the same
 * kernels as the full model, so they need only a few runs. It costs about 2.5 s of loading there
 * (ready after 9.3-9.9 s instead of 6.7-7.3 s); 30 runs of every session cost 4-7 s, 10 runs left
 * tasks of 250-370 ms. WebGPU keeps one run: its first run compiles the shaders, and SwiftShader's
 * software WebGPU would take seconds per run.
 */
const WASM_FULL_WARM_UP_RUNS = 30;
/** One run at the first size, the runs above at the second (the app's default images per request). */
const LOAD_WARM_UP_BATCH_SIZES = [1, 16] as const;
const WASM_HEAD_WARM_UP_RUNS = 3;

export interface DeviceBundle {
  manifest: ModelManifest;
  backend: BackendInfo;
  full: ModelSession;
  heads: Map<string, ModelSession>;
  /** Early-exit classifiers by level id: they read that level's float bottleneck. */
  exits: Map<string, ModelSession>;
  /**
   * One timed run per session at the warm-up batch size, after its warm-up, at real device speed:
   * the cost model's first device-compute figures.
   */
  calibration: readonly DeviceCalibration[];
  /** Batch sizes every session has already run while loading, so a stream need not warm them again. */
  warmedBatchSizes: readonly number[];
  dispose(): Promise<void>;
}

export interface DeviceCalibration {
  /** Session name: "full", "head-c4", "exit-c4". */
  model: string;
  batch: number;
  ms: number;
}

export async function fetchManifest(): Promise<ModelManifest> {
  const response = await fetch(`${BUNDLE_BASE}manifest.json`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  const manifest = (await response.json()) as ModelManifest;
  if (manifest.schemaVersion !== 1)
    throw new Error(`manifest.json: unsupported schema ${manifest.schemaVersion}`);
  validateMeasuredConfigs(manifest);
  return manifest;
}

/** Model bytes already downloaded this page load, so a backend switch does not fetch again. */
const fileBytes = new Map<string, Uint8Array>();

async function modelBytes(
  manifest: ModelManifest,
  file: string,
  bytes: number,
  onProgress: (progress: DownloadProgress) => void,
): Promise<Uint8Array> {
  const url = `${BUNDLE_BASE}${file}`;
  const known = fileBytes.get(url);
  if (known) return known;
  const data = await download(url, { version: manifest.training.commit, expectedBytes: bytes, onProgress });
  fileBytes.set(url, data);
  return data;
}

/** Every file the device downloads, with its size: what the page shows before loading. */
export function deviceFiles(manifest: ModelManifest): { name: string; file: string; bytes: number }[] {
  return [
    { name: 'full', file: manifest.full.file, bytes: manifest.full.bytes },
    ...manifest.levels.map((level) => ({
      name: `head ${level.id}`,
      file: level.head.file,
      bytes: level.head.bytes,
    })),
    ...manifest.earlyExits.map((exit) => ({
      name: `exit ${exit.level}`,
      file: exit.file,
      bytes: exit.bytes,
    })),
  ];
}

export async function loadDeviceBundle(
  manifest: ModelManifest,
  kind: BackendKind,
  capabilities: Capabilities,
  onProgress: (progress: DownloadProgress) => void,
  onStep: (detail: string) => void,
): Promise<DeviceBundle> {
  const imageShape = manifest.input.shape.slice(1);
  const created: ModelSession[] = [];
  try {
    const fullBytes = await modelBytes(manifest, manifest.full.file, manifest.full.bytes, onProgress);
    const headBytes = await Promise.all(
      manifest.levels.map((level) => modelBytes(manifest, level.head.file, level.head.bytes, onProgress)),
    );
    const exitBytes = await Promise.all(
      manifest.earlyExits.map((exit) => modelBytes(manifest, exit.file, exit.bytes, onProgress)),
    );
    onStep(`creating ${kind} sessions`);
    const full = await createModelSession('full', fullBytes, kind, capabilities, imageShape);
    created.push(full);
    const heads = new Map<string, ModelSession>();
    for (const [i, level] of manifest.levels.entries()) {
      const head = await createModelSession(
        `head-${level.id}`,
        headBytes[i]!,
        kind,
        capabilities,
        imageShape,
      );
      created.push(head);
      heads.set(level.id, head);
    }
    const exits = new Map<string, ModelSession>();
    const inputShapes = new Map<ModelSession, readonly number[]>();
    for (const [i, exit] of manifest.earlyExits.entries()) {
      const level = manifest.levels.find((entry) => entry.id === exit.level);
      if (!level) throw new Error(`manifest: early exit ${exit.file} reads unknown level ${exit.level}`);
      const session = await createModelSession(
        `exit-${exit.level}`,
        exitBytes[i]!,
        kind,
        capabilities,
        level.bottleneckShape,
      );
      created.push(session);
      exits.set(exit.level, session);
      inputShapes.set(session, level.bottleneckShape);
    }
    // The first run compiles shaders / allocates buffers; do it now, not in the first measurement.
    onStep('warming up');
    const warmUpStarted = performance.now();
    const [single, batch] = LOAD_WARM_UP_BATCH_SIZES;
    const calibration: DeviceCalibration[] = [];
    for (const session of created) {
      const elements = (inputShapes.get(session) ?? imageShape).reduce((a, b) => a * b, 1);
      const batchRuns =
        kind !== 'wasm' ? 1 : session === full ? WASM_FULL_WARM_UP_RUNS : WASM_HEAD_WARM_UP_RUNS;
      await session.run(new Float32Array(single * elements), single);
      // A fresh input each run: ORT's proxy worker takes ownership of (transfers) the buffer.
      for (let run = 0; run < batchRuns; run++) await session.run(new Float32Array(batch * elements), batch);
      // Timed after the warm-up (on WebGPU the warm-up run compiled the shaders, so one more).
      const input = new Float32Array(batch * elements);
      const timedFrom = performance.now();
      await session.run(input, batch);
      calibration.push({ model: session.name, batch, ms: performance.now() - timedFrom });
    }
    log.info(
      `bundle ready on ${kind}: full + ${heads.size} heads, warmed up in ${(performance.now() - warmUpStarted).toFixed(0)} ms`,
    );
    return {
      manifest,
      backend: describeBackend(kind, capabilities),
      full,
      heads,
      exits,
      calibration,
      warmedBatchSizes: LOAD_WARM_UP_BATCH_SIZES,
      async dispose() {
        await Promise.all(created.map((session) => session.dispose()));
      },
    };
  } catch (error) {
    await Promise.allSettled(created.map((session) => session.dispose()));
    throw error;
  }
}
