/**
 * The only module that imports onnxruntime-web. Everything else asks it for sessions that run
 * Float32Array batches and return plain arrays, so no ORT tensor escapes this file and every
 * tensor it creates is disposed here.
 *
 * ORT is imported at run time from the untouched prebuilt module of the pinned package (see
 * vite.config.ts): its WASM threads start workers from their own module URL, so the module must
 * not be re-chunked together with app code. Types still come from the package.
 */
import type * as Ort from 'onnxruntime-web';
import { createLogger } from '../core/log';
import { SlowdownPacer } from '../core/slowdownPacer';
import type { Capabilities } from './capabilities';

const log = createLogger('ort');

export type BackendKind = 'webgpu' | 'wasm';

export interface BackendInfo {
  kind: BackendKind;
  /** "webgpu: google swiftshader" or "wasm: 4 threads (SIMD)". */
  label: string;
  wasmThreads: number;
}

export interface ModelSession {
  readonly name: string;
  readonly backend: BackendKind;
  /**
   * Runs one batch; `input` holds batch * elementsPerItem floats. Returns every output, copied out.
   * `repeats` = k > 1 emulates a k times slower device: the whole run (upload, compute, read-back)
   * really happens k times, one after the other, and the call takes at least k times as long as
   * a typical single run of this session at this batch size (the rest run warm, so they alone would
   * fall short; see SlowdownPacer); the first run's outputs are returned.
   */
  run(input: Float32Array, batch: number, repeats?: number): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

let runtime: Promise<typeof Ort> | undefined;

/** Loads ORT and sets the process-wide WASM flags once, before the first session (ORT reads them only then). */
function loadRuntime(capabilities: Capabilities): Promise<typeof Ort> {
  const url = `${import.meta.env.BASE_URL}${__ORT_BASE__}ort.bundle.min.mjs`;
  runtime ??= (import(/* @vite-ignore */ url) as Promise<typeof Ort>).then((ort) => {
    configure(ort, capabilities);
    return ort;
  });
  return runtime;
}

function configure(ort: typeof Ort, capabilities: Capabilities): void {
  ort.env.logLevel = 'error';
  ort.env.wasm.numThreads = capabilities.wasmThreads;
  // WASM inference on the main thread would block the socket's event handling, and every reply
  // that arrived meanwhile would be charged to the network phase. The proxy worker keeps the main
  // thread free. (It applies to the WASM backend only; WebGPU work runs on the GPU timeline.)
  ort.env.wasm.proxy = true;
}

export function describeBackend(kind: BackendKind, capabilities: Capabilities): BackendInfo {
  if (kind === 'webgpu' && capabilities.webgpu.available) {
    const { vendor, architecture } = capabilities.webgpu.adapter;
    return { kind, label: `webgpu: ${vendor} ${architecture}`, wasmThreads: capabilities.wasmThreads };
  }
  const threads = capabilities.wasmThreads;
  return { kind: 'wasm', label: `wasm: ${threads} thread${threads === 1 ? '' : 's'}`, wasmThreads: threads };
}

/**
 * Creates a session on exactly the requested backend. Asking ORT for ['webgpu', 'wasm'] would
 * fall back silently and the page could no longer say which backend ran, so we never do.
 */
export async function createModelSession(
  name: string,
  model: Uint8Array,
  backend: BackendKind,
  capabilities: Capabilities,
  inputShape: readonly number[],
): Promise<ModelSession> {
  const ort = await loadRuntime(capabilities);
  // With the proxy worker, ORT transfers the buffer it is given; a copy keeps ours for a later
  // backend switch.
  const session = await ort.InferenceSession.create(model.slice(), {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0]!;
  const outputNames = [...session.outputNames];
  const elementsPerItem = inputShape.reduce((a, b) => a * b, 1);
  log.debug(`session ${name} on ${backend}: ${inputName} -> ${outputNames.join(', ')}`);

  // ORT sessions are not re-entrant: one run at a time per session, queued in call order.
  let queue: Promise<unknown> = Promise.resolve();
  const pacer = new SlowdownPacer();

  const runRepeated = async (
    input: Float32Array,
    batch: number,
    repeats: number,
  ): Promise<Record<string, Float32Array>> => {
    if (input.length !== batch * elementsPerItem) {
      throw new Error(`${name}: expected ${batch * elementsPerItem} input values, got ${input.length}`);
    }
    if (!Number.isInteger(repeats) || repeats < 1)
      throw new Error(`${name}: repeats must be >= 1, got ${repeats}`);
    // A device k times slower takes k times as long for the same run: the k runs really happen,
    // and a wait makes up what the warm repeats leave of k times a typical run (SlowdownPacer says
    // why typical and not this first run). The proxy worker takes ownership of the buffer it is
    // given, so every run gets its own copy (a copy of at most 64 images is microseconds).
    const startedAt = performance.now();
    const outputs = await runOnce(repeats === 1 ? input : input.slice(), batch);
    pacer.note(batch, performance.now() - startedAt);
    if (repeats === 1) return outputs;
    const paceUntil = startedAt + pacer.targetMs(batch, repeats);
    for (let run = 1; run < repeats; run++) await runOnce(input.slice(), batch);
    const short = paceUntil - performance.now();
    if (short > 0) await new Promise((resolve) => setTimeout(resolve, short));
    return outputs;
  };

  const runOnce = async (input: Float32Array, batch: number): Promise<Record<string, Float32Array>> => {
    const tensor = new ort.Tensor('float32', input, [batch, ...inputShape]);
    let outputs: Ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      outputs = await session.run({ [inputName]: tensor });
      const copies: Record<string, Float32Array> = {};
      for (const outputName of outputNames) {
        const value = outputs[outputName] as Ort.Tensor;
        // getData() downloads a GPU-resident output; for CPU outputs it is the data itself.
        copies[outputName] = new Float32Array((await value.getData()) as Float32Array);
      }
      return copies;
    } finally {
      tensor.dispose();
      if (outputs) for (const value of Object.values(outputs)) (value as Ort.Tensor).dispose();
    }
  };

  return {
    name,
    backend,
    run(input, batch, repeats = 1) {
      const result = queue.then(() => runRepeated(input, batch, repeats));
      queue = result.catch(() => undefined);
      return result;
    },
    async dispose() {
      await queue;
      await session.release();
    },
  };
}
