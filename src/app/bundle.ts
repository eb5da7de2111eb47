/**
 * The model bundle in the page: the manifest, the files the device runs (full model and one head
 * per level; tails stay on the server), downloaded once with progress and kept in Cache Storage,
 * and the ORT sessions on the chosen backend, warmed up before anyone calls the bundle ready.
 */
import type { ModelManifest } from '../core/manifest';
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

export interface DeviceBundle {
  manifest: ModelManifest;
  backend: BackendInfo;
  full: ModelSession;
  heads: Map<string, ModelSession>;
  dispose(): Promise<void>;
}

export async function fetchManifest(): Promise<ModelManifest> {
  const response = await fetch(`${BUNDLE_BASE}manifest.json`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  const manifest = (await response.json()) as ModelManifest;
  if (manifest.schemaVersion !== 1)
    throw new Error(`manifest.json: unsupported schema ${manifest.schemaVersion}`);
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
    // The first run compiles shaders / allocates buffers; do it now, not in the first measurement.
    onStep('warming up');
    const elements = imageShape.reduce((a, b) => a * b, 1);
    for (const session of created) {
      for (const batch of [1, 16]) await session.run(new Float32Array(batch * elements), batch);
    }
    log.info(`bundle ready on ${kind}: full + ${heads.size} heads`);
    return {
      manifest,
      backend: describeBackend(kind, capabilities),
      full,
      heads,
      async dispose() {
        await Promise.all(created.map((session) => session.dispose()));
      },
    };
  } catch (error) {
    await Promise.allSettled(created.map((session) => session.dispose()));
    throw error;
  }
}
