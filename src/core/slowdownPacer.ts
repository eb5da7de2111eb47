/**
 * How long an emulated k× slower device takes for a model run: k times the run's typical time on
 * this device, and never less than the k real runs took.
 *
 * Why a typical time and not this request's own first run: the k - 1 repeats of the same input run
 * warm (WASM, 16 images: 8 runs took 6.5× one run), so the real runs alone fall short of k times,
 * and a wait must make up the rest. Sizing that wait from the first run alone multiplies whatever
 * held that one run up (a scheduler stall, a collection: measured at 8×, one-run stalls of 10-30 ms
 * became 80-240 ms outliers) by k, which no slower device does: a stall is added to its time, not
 * multiplied. So the wait is sized from the median of the recent single runs at the same batch
 * size, and the real runs keep their own stalls.
 */
import { median } from './stats';

export class SlowdownPacer {
  private readonly recent = new Map<number, number[]>();

  constructor(private readonly window = 9) {}

  /** Notes the time of one run of `batch` images (the first of a request's k, or its only run). */
  note(batch: number, singleRunMs: number): void {
    if (!Number.isFinite(singleRunMs) || singleRunMs < 0) return;
    let runs = this.recent.get(batch);
    if (!runs) this.recent.set(batch, (runs = []));
    runs.push(singleRunMs);
    if (runs.length > this.window) runs.splice(0, runs.length - this.window);
  }

  /** The total a k× slower device takes for a run of `batch` images: k × the typical single run. */
  targetMs(batch: number, repeats: number): number {
    const runs = this.recent.get(batch);
    if (!runs || runs.length === 0) return 0;
    return repeats * median(runs);
  }
}
