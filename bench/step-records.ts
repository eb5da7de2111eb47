/**
 * Reads the records of one run of the 8× step (e2e/auto.spec.ts writes records-8x.json beside the
 * phone test's output) and prints what decides its misses: every request in the window after the
 * step with its phases, the requests made after the step that missed the target, and the gap
 * between a reply and the next start, split by whether that start priced a new round of
 * predictions (the round's candidates differ from the request before's).
 *
 *   npx tsx bench/step-records.ts test-results/<the phone test's folder>/records-8x.json [--slo 250]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { InferenceRecord } from '../src/core/record';
import { quantile } from '../src/core/stats';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { slo: { type: 'string', default: '250' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: bench/step-records.ts RECORDS-8X.json [--slo 250]');
const sloMs = Number(values.slo);
const run = JSON.parse(readFileSync(file, 'utf8')) as {
  records: InferenceRecord[];
  stepAt: number;
  measuredUntil: number;
};
const { records, stepAt, measuredUntil } = run;

const fixed = (value: number | null | undefined, digits = 0) => (value ?? 0).toFixed(digits).padStart(6);
const inWindow = records.filter(
  (record) => record.startedAt >= stepAt - 300 && record.startedAt < measuredUntil,
);
console.log('  start  config            total  device  uplink  server   wire  gap    p90');
let previous: InferenceRecord | undefined;
for (const record of records) {
  const gap = previous ? record.startedAt - (previous.startedAt + previous.phases.totalMs) : 0;
  previous = record;
  if (!inWindow.includes(record)) continue;
  const p = record.phases;
  console.log(
    `${((record.startedAt - stepAt) / 1000).toFixed(2).padStart(7)}  ${record.config.padEnd(16)}` +
      `${fixed(p.totalMs)}  ${fixed(p.deviceMs)}  ${fixed(p.uplinkMs)}  ${fixed(p.serverComputeMs + p.serverQueueMs)}` +
      ` ${String(record.wireBytes).padStart(6)} ${fixed(gap)}  ${record.decision?.predicted ? fixed(record.decision.predicted.p90Ms) : '     -'}`,
  );
}

const madeAfter = inWindow.filter((record) => record.startedAt >= stepAt);
const misses = madeAfter.filter((record) => !record.ok || record.phases.totalMs > sloMs);
console.log(
  `\n${misses.length} of ${madeAfter.length} requests made after the step over ${sloMs} ms` +
    (misses.length > 0
      ? `: ${misses.map((record) => `+${((record.startedAt - stepAt) / 1000).toFixed(2)} s`).join(', ')}`
      : ''),
);
const device = madeAfter.map((record) => record.phases.deviceMs).filter((ms) => ms > 0);
if (device.length > 0)
  console.log(
    `device phase of those: median ${quantile(device, 0.5).toFixed(0)} ms, p90 ${quantile(device, 0.9).toFixed(0)} ms`,
  );

const gaps = { priced: [] as number[], reused: [] as number[] };
for (let i = 1; i < records.length; i++) {
  const [before, after] = [records[i - 1]!, records[i]!];
  if (after.startedAt < stepAt || after.startedAt >= measuredUntil) continue;
  const gap = after.startedAt - (before.startedAt + before.phases.totalMs);
  const newRound = JSON.stringify(after.decision?.candidates) !== JSON.stringify(before.decision?.candidates);
  (newRound ? gaps.priced : gaps.reused).push(gap);
}
for (const [what, list] of Object.entries(gaps))
  if (list.length > 0)
    console.log(
      `reply to next start, round ${what === 'priced' ? 'new' : 'reused'}: ${list.length} starts, median ${quantile(list, 0.5).toFixed(1)} ms, p90 ${quantile(list, 0.9).toFixed(1)} ms`,
    );
