/**
 * Session export: every record with the configuration and the environment it ran in, as JSON,
 * and one CSV row per image (the unit accuracy is counted in).
 */
import type { InferenceRecord } from '../core/record';

export interface ExportEnvironment {
  backend: string;
  adapter: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  bundleId: string;
  bundleCommit: string;
  exportedAt: string;
}

export function recordsToJson(
  records: readonly InferenceRecord[],
  settings: unknown,
  environment: ExportEnvironment,
): string {
  return JSON.stringify({ environment, settings, records }, null, 1);
}

const CSV_COLUMNS = [
  'seq',
  'request_id',
  'mode',
  'config',
  'backend',
  // 1 = the device's real speed; k = every device model ran k times (emulated slower device).
  'device_slowdown_emulated',
  'epoch_ms',
  'ok',
  'failure',
  'images_in_request',
  'image_index',
  'label',
  'predicted',
  'correct',
  'confidence',
  'early_exit',
  'payload_bytes',
  'wire_bytes',
  'total_ms',
  'device_ms',
  'encode_ms',
  'network_ms',
  'uplink_ms',
  'downlink_ms',
  'server_queue_ms',
  'server_compute_ms',
  'overhead_ms',
  'server_batch',
  'predicted_median_ms',
  'predicted_p90_ms',
  // The policy's decision (src/core/policy.ts): "auto" or "static <candidate>", what it chose, why,
  // and the latency target it chose for. Every candidate's prediction is in the JSON export.
  'decision_policy',
  'decision_candidate',
  'decision_reason',
  'slo_ms',
] as const;

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per image; request-level figures (bytes, phases) repeat on each image of the request. */
export function recordsToCsv(
  records: readonly InferenceRecord[],
  settings: unknown,
  environment: ExportEnvironment,
): string {
  const lines = [
    `# settings: ${JSON.stringify(settings)}`,
    `# SplitScope export ${environment.exportedAt}; backend ${environment.backend}; adapter ${environment.adapter}; bundle ${environment.bundleId}@${environment.bundleCommit}`,
    `# user agent: ${environment.userAgent}`,
    CSV_COLUMNS.join(','),
  ];
  for (const record of records) {
    const p = record.phases;
    for (const image of record.images) {
      lines.push(
        [
          record.seq,
          record.requestId,
          record.mode,
          record.config,
          record.backend,
          record.slowdown ?? 1,
          record.epochMs.toFixed(3),
          record.ok,
          record.failure ? `${record.failure.reason}: ${record.failure.message}` : '',
          record.images.length,
          image.index,
          image.label,
          image.predicted,
          image.predicted === image.label,
          image.confidence.toFixed(5),
          image.earlyExit === true,
          record.payloadBytes,
          record.wireBytes,
          p.totalMs.toFixed(3),
          p.deviceMs.toFixed(3),
          p.encodeMs.toFixed(3),
          p.networkMs.toFixed(3),
          p.uplinkMs?.toFixed(3) ?? '',
          p.downlinkMs?.toFixed(3) ?? '',
          p.serverQueueMs.toFixed(3),
          p.serverComputeMs.toFixed(3),
          p.overheadMs.toFixed(3),
          record.serverBatch ?? '',
          record.prediction?.medianMs.toFixed(3) ?? '',
          record.prediction?.p90Ms.toFixed(3) ?? '',
          record.decision?.policy ?? '',
          record.decision?.candidate ?? '',
          record.decision?.reason ?? '',
          record.decision?.sloMs ?? '',
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
