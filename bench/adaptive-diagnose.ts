/**
 * Auto against the hindsight oracle on one segment of a trace, simulated, with where the gap
 * arises: the two side by side in 10-s windows (on-time accuracy and the choices made), so a
 * policy change can be judged request by request before it goes live (issue 14).
 *
 *   npx tsx bench/adaptive-diagnose.ts --trace ../shared/traces/TMobile-UMTS-driving.up
 *        [--offset 0] [--seconds 120] [--slowdown 8] [--slo 150] [--world bench/results/adaptive.json]
 *        [--scale 1.9] [--no-oracle] [--statics c2-b4-x0.9,png] [--windows]
 *
 * `--scale k` multiplies every device, encode and server time of the world by k: this shared
 * machine has measured the same WASM model 1.5-2× slower from one sitting to the next, and the
 * knife edges at 8× and 150 ms move with it. The world is a bench:adaptive report's (`world`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { throttleSchedule } from '../src/core/cdpThrottle';
import { allCandidates, candidateId } from '../src/core/costModel';
import type { ModelManifest } from '../src/core/manifest';
import { expectedAccuracies } from '../src/core/policy';
import type { InferenceRecord } from '../src/core/record';
import { runMetrics } from '../src/core/simulator';
import { parseMahimahiTrace } from '../src/core/uplinkTrace';
import { scheduleLink } from './adaptive/links';
import { simulateAuto, simulateOracleRun, simulateStatic } from './adaptive/simulate';
import { loadTruth } from './adaptive/truth';
import { measuredWorld, type WorldJson } from './adaptive/world';

const { values } = parseArgs({
  options: {
    trace: { type: 'string' },
    offset: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '120' },
    slowdown: { type: 'string', default: '8' },
    slo: { type: 'string', default: '150' },
    world: { type: 'string', default: 'bench/results/adaptive.json' },
    scale: { type: 'string', default: '1' },
    'no-oracle': { type: 'boolean', default: false },
    /** Static candidates to run beside them, by id, comma-separated ("c2-b4-x0.9,png"). */
    statics: { type: 'string', default: '' },
    windows: { type: 'boolean', default: false },
    'cache-dir': { type: 'string', default: '.cache/adaptive' },
  },
});
if (!values.trace) throw new Error('--trace FILE.up is required');

const pct = (value: number) => `${(value * 100).toFixed(2)}%`;
const choices = (records: readonly InferenceRecord[]) => {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.config, (counts.get(record.config) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([config, count]) => `${config}:${count}`)
    .join(' ');
};

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync('public/models/fmnist/manifest.json', 'utf8')) as ModelManifest;
  const loaded = JSON.parse(readFileSync(values.world!, 'utf8')) as { world?: WorldJson } & WorldJson;
  const worldJson = structuredClone(loaded.world ?? loaded);
  const scale = Number(values.scale);
  for (const table of [
    worldJson.deviceMs,
    worldJson.encodeMsPerImage,
    worldJson.serverMs,
    ...Object.values(worldJson.deviceMsBySlowdown ?? {}),
  ])
    for (const key of Object.keys(table)) table[key] = table[key]!.map((ms) => ms * scale);
  const slowdown = Number(values.slowdown);
  const sloMs = Number(values.slo);
  const { truth } = await loadTruth({
    bundleDir: 'public/models/fmnist',
    tailsDir: 'server/models/fmnist',
    cacheDir: values['cache-dir']!,
    webpQuality: 50,
  });
  const world = {
    candidates: allCandidates(manifest, 50),
    accuracy: expectedAccuracies(manifest),
    manifest,
    world: measuredWorld(worldJson, slowdown),
    truth,
    imagesPerRequest: worldJson.imagesPerRequest,
    seed: 1,
  };
  const trace = parseMahimahiTrace(readFileSync(values.trace!, 'utf8'), values.trace);
  const offsetMs = Number(values.offset) * 1000;
  const durationMs = Number(values.seconds) * 1000;
  // As bench:adaptive replays a segment: the trace from its offset, an outage tail past its end.
  const run = {
    makeLink: scheduleLink(throttleSchedule(trace, offsetMs, durationMs + 120_000)),
    durationMs,
    slowdown,
    firstImage: 0,
  };
  const runs: [string, InferenceRecord[]][] = [['auto', simulateAuto(world, run, sloMs)]];
  if (!values['no-oracle']) runs.push(['oracle', simulateOracleRun(world, run, sloMs)]);
  for (const id of values.statics!.split(',').filter(Boolean)) {
    const candidate = world.candidates.find((entry) => candidateId(entry) === id);
    if (!candidate) throw new Error(`no candidate ${id}`);
    runs.push([id, simulateStatic(world, run, candidate)]);
  }
  console.log(
    `${values.trace} ${values.offset}+${values.seconds} s, ${slowdown}×, SLO ${sloMs} ms, world ${values.world} × ${scale}`,
  );
  for (const [name, records] of runs)
    console.log(
      `${name}: on-time ${pct(runMetrics(records, sloMs).onTimeAccuracy)} over ${records.length} requests (${choices(records)})`,
    );
  if (!values.windows) return;
  for (let from = 0; from < durationMs; from += 10_000) {
    const cells = runs.map(([name, records]) => {
      const inside = records.filter((record) => record.startedAt >= from && record.startedAt < from + 10_000);
      return `${name} ${pct(runMetrics(inside, sloMs).onTimeAccuracy)} [${choices(inside)}]`;
    });
    console.log(`${from / 1000}-${from / 1000 + 10} s: ${cells.join(' | ')}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
