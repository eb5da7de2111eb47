/**
 * Loads a model bundle: the manifest and full.onnx from the public folder (they are also served
 * to the browser) and one tail per level from the server-only folder. Every file must exist and
 * have exactly the size the manifest records, or start-up fails with a message naming the file:
 * a half-copied or stale bundle would otherwise answer with silently wrong classes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ModelFile, ModelManifest } from '../src/core/manifest';
import { MANIFEST_SCHEMA_VERSION, measuredConfigProblems } from '../src/core/manifest';
import type { ModelRunner } from './batcher';

export interface BundleLocation {
  /** Folder with manifest.json and full.onnx (e.g. public/models/fmnist). */
  publicDir: string;
  /** Folder with tail-<level>.onnx (e.g. server/models/fmnist). */
  serverDir: string;
}

export interface LoadedBundle {
  manifest: ModelManifest;
  location: BundleLocation;
  full: ModelRunner;
  /** By level index. */
  tails: ModelRunner[];
  close(): Promise<void>;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

export interface LoadBundleOptions {
  /** onnxruntime intra-op threads per session (0 = onnxruntime's default). */
  threads?: number;
  /**
   * Run the sessions in a worker thread instead of the main thread (default false).
   * onnxruntime-node computes synchronously on the calling thread, so main-thread sessions block
   * socket.io for everyone during a run (a batch of 64 takes ~30 ms); a worker keeps the event
   * loop free but pays a thread hand-off per run, which on our 2 shared cores cost more
   * (latency and CPU) than it saved: see bench/results/server.md.
   */
  worker?: boolean;
}

export async function readManifest(publicDir: string): Promise<ModelManifest> {
  const file = path.join(publicDir, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new BundleError(`model manifest not found: ${file} (train a bundle or pass --public-models DIR)`);
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (error) {
    throw new BundleError(`model manifest ${file} is not valid JSON: ${String(error)}`);
  }
  if (manifest.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new BundleError(
      `model manifest ${file} has schemaVersion ${manifest.schemaVersion}, this server reads ${MANIFEST_SCHEMA_VERSION}`,
    );
  }
  if (!Array.isArray(manifest.levels) || !manifest.full || !Array.isArray(manifest.classes)) {
    throw new BundleError(`model manifest ${file} lacks full/levels/classes`);
  }
  const problems = measuredConfigProblems(manifest);
  if (problems.length) throw new BundleError(`model manifest ${file}: ${problems.join('; ')}`);
  return manifest;
}

async function checkFile(dir: string, model: ModelFile, role: string): Promise<string> {
  const file = path.join(dir, model.file);
  let size: number;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch {
    throw new BundleError(`${role}: file missing: ${file}`);
  }
  if (size !== model.bytes) {
    throw new BundleError(
      `${role}: ${file} is ${size} bytes but the manifest says ${model.bytes}: the bundle is stale or half-copied`,
    );
  }
  return file;
}

class OrtRunner implements ModelRunner {
  constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly inputDims: readonly number[],
    readonly outputElements: number,
  ) {}

  get inputElements(): number {
    return this.inputDims.reduce((a, b) => a * b, 1);
  }

  async run(input: Float32Array, count: number): Promise<Float32Array> {
    const tensor = new ort.Tensor('float32', input, [count, ...this.inputDims]);
    const outputs = await this.session.run({ [this.inputName]: tensor });
    const output = outputs[this.outputName];
    if (!output) throw new Error(`${this.name}: no output named ${this.outputName}`);
    const data = output.data;
    if (!(data instanceof Float32Array) || data.length !== count * this.outputElements) {
      throw new Error(`${this.name}: unexpected output (${output.type}, ${output.dims.join('×')})`);
    }
    return data;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

interface WorkerModel {
  name: string;
  file: string;
  input: string;
  output: string;
  dims: number[];
  threads: number;
}

type WorkerReply =
  { type: 'done'; id: number; data?: Float32Array } | { type: 'error'; id: number; message: string };

/** The main thread's handle on server/ortWorker.mjs: request/response over postMessage. */
class OrtWorkerHost {
  private readonly worker = new Worker(new URL('./ortWorker.mjs', import.meta.url));
  private readonly pending = new Map<
    number,
    { resolve(reply: WorkerReply): void; reject(error: Error): void }
  >();
  private nextId = 1;
  private dead: Error | null = null;

  constructor() {
    this.worker.on('message', (reply: WorkerReply) => {
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.type === 'error') entry.reject(new Error(reply.message));
      else entry.resolve(reply);
    });
    const die = (error: Error): void => {
      this.dead = error;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`onnxruntime worker exited (code ${code})`)));
    // An idle worker must not keep a finished process alive; a busy one must (see call()).
    this.worker.unref();
  }

  call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async close(): Promise<void> {
    if (!this.dead) await this.call({ type: 'release' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

class WorkerRunner implements ModelRunner {
  constructor(
    private readonly host: OrtWorkerHost,
    readonly name: string,
    private readonly inputDims: readonly number[],
    readonly outputElements: number,
  ) {}

  get inputElements(): number {
    return this.inputDims.reduce((a, b) => a * b, 1);
  }

  async run(input: Float32Array, count: number): Promise<Float32Array> {
    // Copy just this view and transfer the copy: the caller keeps its buffer, nothing is cloned twice.
    const copy = input.slice(0, count * this.inputElements);
    const reply = await this.host.call({ type: 'run', name: this.name, input: copy, count }, [
      copy.buffer as ArrayBuffer,
    ]);
    const data = reply.type === 'done' ? reply.data : undefined;
    if (!data || data.length !== count * this.outputElements) {
      throw new Error(`${this.name}: unexpected output of ${data?.length ?? 0} values for ${count} image(s)`);
    }
    return data;
  }
}

export async function loadBundle(
  location: BundleLocation,
  options: LoadBundleOptions = {},
): Promise<LoadedBundle> {
  const manifest = await readManifest(location.publicDir);
  const classes = manifest.classes.length;
  // Check every file before creating any session, so the error lists the first problem quickly.
  const fullPath = await checkFile(location.publicDir, manifest.full, 'full model');
  const tailPaths: string[] = [];
  for (const [index, level] of manifest.levels.entries()) {
    tailPaths.push(await checkFile(location.serverDir, level.tail, `tail of level ${index} (${level.id})`));
  }
  const [, channels, height, width] = manifest.input.shape;
  const threads = options.threads ?? 1;
  if (options.worker ?? false) {
    const host = new OrtWorkerHost();
    const models: (WorkerModel & { role: string })[] = [
      {
        role: 'full model',
        name: 'full',
        file: fullPath,
        input: manifest.full.input,
        output: manifest.full.output,
        dims: [channels, height, width],
        threads,
      },
      ...manifest.levels.map((level, index) => ({
        role: `tail of level ${index} (${level.id})`,
        name: `tail:${level.id}`,
        file: tailPaths[index]!,
        input: level.tail.input,
        output: level.tail.output,
        dims: [...level.bottleneckShape],
        threads,
      })),
    ];
    for (const { role, ...model } of models) {
      try {
        await host.call({ type: 'load', models: [model] });
      } catch (error) {
        await host.close();
        throw new BundleError(`${role}: onnxruntime cannot load ${model.file}: ${String(error)}`);
      }
    }
    const full = new WorkerRunner(host, 'full', [channels, height, width], classes);
    const tails = manifest.levels.map(
      (level) => new WorkerRunner(host, `tail:${level.id}`, level.bottleneckShape, classes),
    );
    return { manifest, location, full, tails, close: () => host.close() };
  }

  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const open = async (file: string, role: string): Promise<ort.InferenceSession> => {
    try {
      return await ort.InferenceSession.create(file, sessionOptions);
    } catch (error) {
      throw new BundleError(`${role}: onnxruntime cannot load ${file}: ${String(error)}`);
    }
  };
  const full = new OrtRunner(
    'full',
    await open(fullPath, 'full model'),
    manifest.full.input,
    manifest.full.output,
    [channels, height, width],
    classes,
  );
  const tails: OrtRunner[] = [];
  for (const [index, level] of manifest.levels.entries()) {
    const session = await open(tailPaths[index]!, `tail of level ${index} (${level.id})`);
    tails.push(
      new OrtRunner(
        `tail:${level.id}`,
        session,
        level.tail.input,
        level.tail.output,
        level.bottleneckShape,
        classes,
      ),
    );
  }
  return {
    manifest,
    location,
    full,
    tails,
    async close() {
      await Promise.all([full, ...tails].map((runner) => runner.release()));
    },
  };
}

/** Whether a bundle's manifest is present (index.ts starts without inference when it is not). */
export async function bundleExists(location: BundleLocation): Promise<boolean> {
  try {
    await fs.access(path.join(location.publicDir, 'manifest.json'));
    return true;
  } catch {
    return false;
  }
}
