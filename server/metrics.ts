/**
 * In-process counters for GET /metrics (Prometheus text format 0.0.4) and the per-minute
 * summary line. Latency percentiles come from a fixed-size ring of recent requests, which is
 * enough for a lab server and keeps memory bounded.
 */
import type { Mode } from '../src/core/protocol';

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
const LATENCY_WINDOW = 4096;
const QUANTILES = [0.5, 0.9, 0.99];

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest-rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export class Metrics {
  readonly requests = new Map<Mode, number>();
  readonly images = new Map<Mode, number>();
  readonly errors = new Map<string, number>();
  probes = 0;
  probeBytes = 0;
  inFlight = 0;
  /** Batch size (images per ONNX run) → number of runs. */
  readonly batchSizes = new Map<number, number>();
  batchRuns = 0;
  batchImages = 0;
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private latencyCount = 0;
  private latencySum = 0;
  private latencyTotal = 0;
  // Counters at the last summary, so the minute line reports deltas.
  private lastSummary = { requests: 0, errors: 0, runs: 0, images: 0 };

  recordRequest(mode: Mode, images: number, totalMs: number): void {
    this.requests.set(mode, (this.requests.get(mode) ?? 0) + 1);
    this.images.set(mode, (this.images.get(mode) ?? 0) + images);
    this.latencies[this.latencyTotal % LATENCY_WINDOW] = totalMs;
    this.latencyTotal++;
    this.latencyCount = Math.min(this.latencyCount + 1, LATENCY_WINDOW);
    this.latencySum += totalMs;
  }

  recordError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  recordBatch(images: number): void {
    this.batchSizes.set(images, (this.batchSizes.get(images) ?? 0) + 1);
    this.batchRuns++;
    this.batchImages += images;
  }

  recordProbe(bytes: number): void {
    this.probes++;
    this.probeBytes += bytes;
  }

  latencyQuantiles(): { q: number; ms: number }[] {
    const sorted = Array.from(this.latencies.subarray(0, this.latencyCount)).sort((a, b) => a - b);
    return QUANTILES.map((q) => ({ q, ms: percentile(sorted, q) }));
  }

  totalRequests(): number {
    let n = 0;
    for (const v of this.requests.values()) n += v;
    return n;
  }

  totalErrors(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  /** Copy of batch size counts, for tests and the bench. */
  batchSizeCounts(): Record<number, number> {
    return Object.fromEntries([...this.batchSizes.entries()].sort((a, b) => a[0] - b[0]));
  }

  renderPrometheus(): string {
    const lines: string[] = [];
    lines.push('# HELP splitscope_requests_total Inference requests answered successfully, by mode.');
    lines.push('# TYPE splitscope_requests_total counter');
    for (const mode of ['split', 'offload'] as const)
      lines.push(`splitscope_requests_total{mode="${mode}"} ${this.requests.get(mode) ?? 0}`);
    lines.push('# HELP splitscope_images_total Images inferred, by mode.');
    lines.push('# TYPE splitscope_images_total counter');
    for (const mode of ['split', 'offload'] as const)
      lines.push(`splitscope_images_total{mode="${mode}"} ${this.images.get(mode) ?? 0}`);
    lines.push('# HELP splitscope_errors_total Error replies (and dropped requests), by code.');
    lines.push('# TYPE splitscope_errors_total counter');
    for (const [code, n] of [...this.errors.entries()].sort())
      lines.push(`splitscope_errors_total{code="${code}"} ${n}`);
    lines.push('# HELP splitscope_probes_total Probe messages answered.');
    lines.push('# TYPE splitscope_probes_total counter');
    lines.push(`splitscope_probes_total ${this.probes}`);
    lines.push('# HELP splitscope_in_flight Requests being processed now.');
    lines.push('# TYPE splitscope_in_flight gauge');
    lines.push(`splitscope_in_flight ${this.inFlight}`);
    lines.push('# HELP splitscope_batch_size Images per ONNX run.');
    lines.push('# TYPE splitscope_batch_size histogram');
    for (const le of BATCH_BUCKETS) {
      let cumulative = 0;
      for (const [size, n] of this.batchSizes) if (size <= le) cumulative += n;
      lines.push(`splitscope_batch_size_bucket{le="${le}"} ${cumulative}`);
    }
    lines.push(`splitscope_batch_size_bucket{le="+Inf"} ${this.batchRuns}`);
    lines.push(`splitscope_batch_size_sum ${this.batchImages}`);
    lines.push(`splitscope_batch_size_count ${this.batchRuns}`);
    lines.push(
      `# HELP splitscope_request_latency_ms Server-side receive-to-reply time of the last ${LATENCY_WINDOW} requests.`,
    );
    lines.push('# TYPE splitscope_request_latency_ms summary');
    for (const { q, ms } of this.latencyQuantiles())
      lines.push(
        `splitscope_request_latency_ms{quantile="${q}"} ${Number.isNaN(ms) ? 'NaN' : ms.toFixed(3)}`,
      );
    lines.push(`splitscope_request_latency_ms_sum ${this.latencySum.toFixed(3)}`);
    lines.push(`splitscope_request_latency_ms_count ${this.latencyTotal}`);
    return lines.join('\n') + '\n';
  }

  summaryLine(clients: number): string {
    const requests = this.totalRequests();
    const errors = this.totalErrors();
    const d = {
      requests: requests - this.lastSummary.requests,
      errors: errors - this.lastSummary.errors,
      runs: this.batchRuns - this.lastSummary.runs,
      images: this.batchImages - this.lastSummary.images,
    };
    this.lastSummary = { requests, errors, runs: this.batchRuns, images: this.batchImages };
    const [p50, , p99] = this.latencyQuantiles();
    const meanBatch = d.runs > 0 ? (d.images / d.runs).toFixed(2) : '-';
    const fmt = (ms: number | undefined): string =>
      ms === undefined || Number.isNaN(ms) ? '-' : ms.toFixed(1);
    return `last minute: ${d.requests} requests, ${d.images} images in ${d.runs} runs (mean batch ${meanBatch}), ${d.errors} errors; p50 ${fmt(p50?.ms)} ms p99 ${fmt(p99?.ms)} ms (recent); ${clients} client(s); totals ${requests} req / ${errors} err`;
  }
}
