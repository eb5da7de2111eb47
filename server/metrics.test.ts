import { describe, expect, it } from 'vitest';
import { Metrics, percentile } from './metrics';

describe('Metrics', () => {
  it('renders Prometheus text with counters, a batch histogram and latency quantiles', () => {
    const m = new Metrics();
    for (let i = 1; i <= 100; i++) m.recordRequest(i % 2 ? 'split' : 'offload', 2, i);
    m.recordError('busy');
    m.recordError('busy');
    m.recordError('bad-length');
    [1, 1, 4, 30, 64].forEach((s) => m.recordBatch(s));
    const text = m.renderPrometheus();
    expect(text).toContain('splitscope_requests_total{mode="split"} 50');
    expect(text).toContain('splitscope_images_total{mode="offload"} 100');
    expect(text).toContain('splitscope_errors_total{code="busy"} 2');
    expect(text).toContain('splitscope_batch_size_bucket{le="1"} 2');
    expect(text).toContain('splitscope_batch_size_bucket{le="32"} 4');
    expect(text).toContain('splitscope_batch_size_bucket{le="+Inf"} 5');
    expect(text).toContain('splitscope_batch_size_sum 100');
    expect(text).toContain('splitscope_request_latency_ms{quantile="0.5"} 50.000');
    expect(text).toContain('splitscope_request_latency_ms{quantile="0.99"} 99.000');
    for (const line of text.trim().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\w.]+)$/);
  });

  it('summarises the last interval in one line', () => {
    const m = new Metrics();
    m.recordRequest('split', 1, 3);
    m.recordBatch(1);
    expect(m.summaryLine(2)).toMatch(
      /^last minute: 1 requests, 1 images in 1 runs \(mean batch 1.00\), 0 errors; .* 2 client\(s\)/,
    );
    expect(m.summaryLine(0)).toMatch(/^last minute: 0 requests, 0 images in 0 runs \(mean batch -\)/);
  });

  it('percentile is nearest-rank', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(Number.isNaN(percentile([], 0.5))).toBe(true);
  });
});
