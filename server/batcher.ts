/**
 * Dynamic batching: requests for the same model that arrive within a short window run as one
 * ONNX call. While a model is busy, new requests queue and go together in its next run, so
 * under load batches grow by themselves; when the model is idle, a request waits at most
 * `windowMs` for company, and only if the model recently had company (see Lane.contended), so
 * a single device gets batch-1 latency. maxBatch caps the images of one run (a single request
 * larger than it runs alone).
 */
import type { Logger } from '../src/core/log';
import type { Metrics } from './metrics';

export interface BatchingOptions {
  /** Longest wait for company when the model is idle; 0 runs on the next macrotask. */
  windowMs: number;
  /** Most images in one run; 1 disables batching. */
  maxBatch: number;
}

/** One model: batched float input in, logits out. */
export interface ModelRunner {
  readonly name: string;
  /** Float32 elements of one input image/bottleneck. */
  readonly inputElements: number;
  /** Logits per image. */
  readonly outputElements: number;
  run(input: Float32Array, count: number): Promise<Float32Array>;
}

export interface BatchOutcome {
  /** Logits of this job's images (a view). */
  logits: Float32Array;
  queuedMs: number;
  computeMs: number;
  batchSize: number;
  batchRequests: number;
}

interface Job {
  input: Float32Array;
  count: number;
  enqueuedAt: number;
  resolve(outcome: BatchOutcome): void;
  reject(error: unknown): void;
}

interface Lane {
  runner: ModelRunner;
  queue: Job[];
  queuedImages: number;
  running: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  /**
   * Whether this model recently had company: the last run held more than one request, or
   * requests queued while it ran. Only then is waiting the window worth it; a lone device
   * would otherwise pay the window on every request for nothing.
   */
  contended: boolean;
}

/** Jobs still queued when the server closes end with this (not an internal error). */
export class BatcherClosedError extends Error {
  constructor() {
    super('server is shutting down');
    this.name = 'BatcherClosedError';
  }
}

export class Batcher {
  private readonly lanes = new Map<string, Lane>();
  private closed = false;

  constructor(
    readonly options: BatchingOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  submit(runner: ModelRunner, input: Float32Array, count: number): Promise<BatchOutcome> {
    if (this.closed) return Promise.reject(new BatcherClosedError());
    let lane = this.lanes.get(runner.name);
    if (!lane) {
      lane = { runner, queue: [], queuedImages: 0, running: false, timer: null, contended: false };
      this.lanes.set(runner.name, lane);
    }
    const l = lane;
    return new Promise<BatchOutcome>((resolve, reject) => {
      l.queue.push({ input, count, enqueuedAt: performance.now(), resolve, reject });
      l.queuedImages += count;
      this.schedule(l);
    });
  }

  private schedule(lane: Lane): void {
    if (lane.running || lane.queue.length === 0) return;
    if (lane.queuedImages >= this.options.maxBatch) {
      this.start(lane);
      return;
    }
    if (lane.timer) return;
    const fire = (): void => {
      lane.timer = null;
      this.start(lane);
    };
    // setImmediate still gathers requests decoded in the same event-loop turn.
    lane.timer =
      this.options.windowMs > 0 && lane.contended
        ? setTimeout(fire, this.options.windowMs)
        : (setImmediate(fire) as unknown as ReturnType<typeof setTimeout>);
  }

  private start(lane: Lane): void {
    if (lane.timer) {
      clearTimeout(lane.timer);
      clearImmediate(lane.timer as unknown as NodeJS.Immediate);
      lane.timer = null;
    }
    if (lane.running || lane.queue.length === 0) return;
    const jobs: Job[] = [];
    let images = 0;
    while (lane.queue.length > 0) {
      const next = lane.queue[0]!;
      if (jobs.length > 0 && images + next.count > this.options.maxBatch) break;
      jobs.push(lane.queue.shift()!);
      images += next.count;
    }
    lane.queuedImages -= images;
    lane.running = true;
    void this.run(lane, jobs, images).finally(() => {
      lane.running = false;
      lane.contended = jobs.length > 1 || lane.queue.length > 0;
      // Whatever queued during the run has already waited at least that long: go now.
      if (lane.queue.length > 0 && !this.closed) this.start(lane);
    });
  }

  private async run(lane: Lane, jobs: Job[], images: number): Promise<void> {
    const { runner } = lane;
    const startedAt = performance.now();
    try {
      let input: Float32Array;
      if (jobs.length === 1) {
        input = jobs[0]!.input;
      } else {
        input = new Float32Array(images * runner.inputElements);
        let at = 0;
        for (const job of jobs) {
          input.set(job.input, at);
          at += job.input.length;
        }
      }
      const logits = await runner.run(input, images);
      const computeMs = performance.now() - startedAt;
      this.metrics.recordBatch(images);
      let row = 0;
      for (const job of jobs) {
        job.resolve({
          logits: logits.subarray(row * runner.outputElements, (row + job.count) * runner.outputElements),
          queuedMs: startedAt - job.enqueuedAt,
          computeMs,
          batchSize: images,
          batchRequests: jobs.length,
        });
        row += job.count;
      }
    } catch (error) {
      this.log.error(`${runner.name}: run of ${images} image(s) failed: ${String(error)}`);
      for (const job of jobs) job.reject(error);
    }
  }

  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      if (lane.timer) {
        clearTimeout(lane.timer);
        clearImmediate(lane.timer as unknown as NodeJS.Immediate);
      }
      for (const job of lane.queue) job.reject(new BatcherClosedError());
      lane.queue = [];
      lane.queuedImages = 0;
    }
  }
}
