import { describe, expect, it } from 'vitest';
import { createLogger, setLogLevel } from '../src/core/log';
import { Batcher, BatcherClosedError, type ModelRunner } from './batcher';
import { Metrics } from './metrics';

setLogLevel('silent');

/** A fake model: output per image = [sum of its inputs, image count of the run]. */
function fakeRunner(delayMs = 0, fail = false): ModelRunner & { runs: number[] } {
  const runs: number[] = [];
  return {
    name: 'fake',
    inputElements: 2,
    outputElements: 2,
    runs,
    async run(input, count) {
      runs.push(count);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (fail) throw new Error('boom');
      const out = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        out[i * 2] = input[i * 2]! + input[i * 2 + 1]!;
        out[i * 2 + 1] = count;
      }
      return out;
    },
  };
}

const job = (value: number, count = 1) =>
  Float32Array.from({ length: count * 2 }, (_, i) => value + i * 0.001);

describe('Batcher', () => {
  it('runs requests that arrive within the window as one batch and routes outputs back', async () => {
    const metrics = new Metrics();
    const batcher = new Batcher({ windowMs: 5, maxBatch: 64 }, metrics, createLogger('t'));
    const runner = fakeRunner();
    const outcomes = await Promise.all([1, 2, 3].map((v) => batcher.submit(runner, job(v, v), v)));
    expect(runner.runs).toEqual([6]);
    outcomes.forEach((o, k) => {
      const v = k + 1;
      expect(o.batchSize).toBe(6);
      expect(o.batchRequests).toBe(3);
      expect(o.logits.length).toBe(v * 2);
      expect(o.logits[0]).toBeCloseTo(v + v + 0.001, 4);
    });
    expect(metrics.batchSizeCounts()).toEqual({ 6: 1 });
  });

  it('a lone request does not wait the window; under contention later arrivals join within it', async () => {
    const batcher = new Batcher({ windowMs: 40, maxBatch: 64 }, new Metrics(), createLogger('t'));
    const runner = fakeRunner();
    const t0 = performance.now();
    await batcher.submit(runner, job(1), 1);
    expect(performance.now() - t0).toBeLessThan(30);
    // Two at once: the lane has company now...
    await Promise.all([batcher.submit(runner, job(1), 1), batcher.submit(runner, job(2), 1)]);
    // ...so the next request waits up to 40 ms and one arriving 10 ms later joins it; with the
    // expected company (2, like the last run) complete, the batch starts without idling out the window.
    const started = performance.now();
    const first = batcher.submit(runner, job(3), 1);
    await new Promise((r) => setTimeout(r, 10));
    const second = batcher.submit(runner, job(4), 1);
    expect((await first).batchSize).toBe(2);
    expect((await second).batchSize).toBe(2);
    expect(performance.now() - started).toBeLessThan(35);
    expect(runner.runs).toEqual([1, 2, 2]);
    // Alone again: waits the window once (expected 2), then never.
    const t1 = performance.now();
    await batcher.submit(runner, job(5), 1);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(35);
    const t2 = performance.now();
    await batcher.submit(runner, job(6), 1);
    expect(performance.now() - t2).toBeLessThan(30);
  });

  it('caps a run at maxBatch images, and runs an oversized request alone', async () => {
    const batcher = new Batcher({ windowMs: 5, maxBatch: 4 }, new Metrics(), createLogger('t'));
    const runner = fakeRunner();
    await Promise.all([
      batcher.submit(runner, job(1, 3), 3),
      batcher.submit(runner, job(2, 3), 3),
      batcher.submit(runner, job(3, 9), 9),
    ]);
    expect(runner.runs).toEqual([3, 3, 9]);
  });

  it('maxBatch 1 disables batching', async () => {
    const batcher = new Batcher({ windowMs: 0, maxBatch: 1 }, new Metrics(), createLogger('t'));
    const runner = fakeRunner(1);
    await Promise.all(Array.from({ length: 5 }, (_, i) => batcher.submit(runner, job(i), 1)));
    expect(runner.runs).toEqual([1, 1, 1, 1, 1]);
  });

  it('queues while the model is busy and sends the queue as the next batch', async () => {
    const batcher = new Batcher({ windowMs: 0, maxBatch: 64 }, new Metrics(), createLogger('t'));
    const runner = fakeRunner(20);
    const first = batcher.submit(runner, job(0), 1);
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([first, ...Array.from({ length: 4 }, (_, i) => batcher.submit(runner, job(i), 1))]);
    expect(runner.runs).toEqual([1, 4]);
  });

  it('rejects every job of a failed run, and queued jobs on close', async () => {
    const batcher = new Batcher({ windowMs: 1, maxBatch: 8 }, new Metrics(), createLogger('t'));
    const failing = fakeRunner(0, true);
    const results = await Promise.allSettled([
      batcher.submit(failing, job(1), 1),
      batcher.submit(failing, job(2), 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const slow = new Batcher({ windowMs: 1000, maxBatch: 8 }, new Metrics(), createLogger('t'));
    const pending = slow.submit(fakeRunner(), job(1), 1);
    slow.close();
    await expect(pending).rejects.toBeInstanceOf(BatcherClosedError);
  });
});
