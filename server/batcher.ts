/**
 * Dynamic batching: requests for the same model that arrive within a short window run as one
 * ONNX call. While a model is busy, new requests queue and go together in its next run, so
 * under load batches grow by themselves; when the model is idle, a request waits at most
 * `windowMs` for as many requests as the last run had (see Lane.expected), so a single device
 * gets batch-1 latency and a group of devices does not idle out the whole window. maxBatch caps the images of one run (a single request
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
  timerKind: 'window' | 'immediate' | null;
  /**
   * Requests in this model's last run: the company to expect. When that many are queued the
   * batch starts at once instead of idling out the window (closed-loop devices all answer within
   * a fraction of a millisecond); a lone device (expected 1) never waits at all.
   */
  expected: number;
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
      lane = {
        runner,
        queue: [],
        queuedImages: 0,
        running: false,
        timer: null,
        timerKind: null,
        expected: 1,
      };
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
    // Company complete (or nobody to wait for): go on the next turn of the event loop, which
    // still gathers requests decoded in the same turn. Otherwise wait at most windowMs.
    const now = lane.queue.length >= lane.expected || this.options.windowMs <= 0;
    if (lane.timerKind === 'immediate' || (lane.timerKind === 'window' && !now)) return;
    this.clearTimer(lane);
    const fire = (): void => {
      lane.timer = null;
      lane.timerKind = null;
      this.start(lane);
    };
    if (now) {
      lane.timer = setImmediate(fire) as unknown as ReturnType<typeof setTimeout>;
      lane.timerKind = 'immediate';
    } else {
      lane.timer = setTimeout(fire, this.options.windowMs);
      lane.timerKind = 'window';
    }
  }

  private clearTimer(lane: Lane): void {
    if (lane.timerKind === 'window') clearTimeout(lane.timer!);
    else if (lane.timerKind === 'immediate') clearImmediate(lane.timer as unknown as NodeJS.Immediate);
    lane.timer = null;
    lane.timerKind = null;
  }

  private start(lane: Lane): void {
    this.clearTimer(lane);
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
      lane.expected = jobs.length;
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
      this.clearTimer(lane);
      for (const job of lane.queue) job.reject(new BatcherClosedError());
      lane.queue = [];
      lane.queuedImages = 0;
    }
  }
}
