/**
 * Auto mode against the hindsight oracle and every fixed choice, on real cellular uplink traces
 * (issue 14). Writes bench/results/adaptive.md and adaptive.json, with plots from
 * bench/plot_adaptive.py.
 *
 *   npm run bench:adaptive -- [--traces TMobile-UMTS-driving,Verizon-LTE-short,markov-onoff]
 *        [--segments 2] [--segment-seconds 120] [--slowdowns 1,8] [--slos 150,400]
 *        [--policies auto,on-device,offload-png,best-split,split-exit] [--no-live] [--quick]
 *        [--world adaptive.json] [--sim-statics all|live|id,id] [--sim-traces …] [--sim-slowdowns …]
 *        [--sim-link cdp|mm-link] [--jobs N] [--sim-nice 19] [--dry-run]
 *   npm run bench:adaptive -- --from-json bench/results/adaptive.json   (render the report again)
 *        [--journal file.jsonl [--live-minutes N]]   (the live grid in parts; see below)
 *        [--dump-records DIR]   (every live run's records as JSON, to see where live and simulated part)
 *        [--shared-traces ../shared/traces] [--out bench/results] [--no-build]
 *
 * 1. World: short unthrottled static runs of the real page at 1× (WASM) measure device, encode,
 *    server, downlink and hand-over costs (bench/adaptive/world.ts), and runs at each other
 *    slowdown of the grid give that slowdown its own device times (the page paces k runs to k × the
 *    first, which a 1× sample × k does not reproduce); saved in the JSON, so `--world file.json`
 *    re-runs the simulation without measuring.
 * 2. Truth: every configuration's answer per test image, by Node evaluation (bench/adaptive/truth.ts),
 *    cached under .cache/adaptive.
 * 3. Simulated, on the whole traces: every static candidate, auto at each SLO and the oracle, at
 *    each slowdown, through the DevTools throttle model of the trace's replay (--sim-link mm-link:
 *    the trace as mm-link serves it).
 * 4. Live: auto at each SLO and the statics of --policies on --segments segments of each trace,
 *    at each slowdown, in Chromium, the trace replayed through CDP once a second. A static does
 *    not read the SLO: it runs once per segment × slowdown and is scored at every SLO.
 * 5. Fidelity: each live static simulated on its own segment with the conditions as they were set
 *    (the page clock of every CDP step), against its live on-time accuracy, with the sitting's
 *    world and with the run's own measured costs (the check reads the latter); the oracle the same
 *    way on each live auto run's segment, with the sitting's world.
 *
 * Real traces are read from ../shared/traces at run time (never copied into the repository).
 *
 * `--journal F` appends every finished live run to F (bench/adaptive/journal.ts) and reads back
 * the runs already there instead of running them again; the journal keeps the world it began with.
 * `--live-minutes N` starts no live run that would end past N minutes of live time: the process
 * then exits with status 3 and no report, and the same command run later goes on where it stopped.
 *
 * Cost: the live grid is printed with its estimate (the default: 72 runs, about 2 h 40 min). The
 * whole-trace simulation of the default grid (147 statics, auto and the oracle at 2 SLOs, 3 traces
 * of 1371 s in all, 2 slowdowns) is about an hour of one core here, mostly the statics (the app's
 * estimator and cost model run per request) and auto (it prices 147 candidates 4 times a second):
 * `--jobs N` spreads it over N processes, `--sim-statics no-exit,x0.9` simulates 51 of them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { throttleSchedule } from '../src/core/cdpThrottle';
import { allCandidates, candidateId, type Candidate } from '../src/core/costModel';
import type { ModelManifest } from '../src/core/manifest';
import { payloadBytesPerImage } from '../src/core/manifest';
import { expectedAccuracies } from '../src/core/policy';
import type { InferenceRecord } from '../src/core/record';
import { runMetrics } from '../src/core/simulator';
import { median, quantile } from '../src/core/stats';
import { capacityPerStep, parseMahimahiTrace, type UplinkTrace } from '../src/core/uplinkTrace';
import type { RunOptions } from '../e2e/driver';
import {
  checkAgainstBestStatic,
  checkAgainstOracle,
  checkFidelity,
  FULL_LIVE_GRID,
  estimateLiveSeconds,
  liveRuns,
  metricsBySlo,
  pct,
  prefixAccuracy,
  resolveStatics,
  withinSegment,
  type Check,
  type MetricsBySlo,
} from './adaptive/aggregate';
import { mergedSegments, SegmentedThrottleLink } from './adaptive/links';
import {
  capacitySummary,
  chooseSegments,
  segmentsOverlap,
  type CapacitySummary,
  type Segment,
} from './adaptive/segments';
import { codeIdentity, LiveJournal, worldSha256 } from './adaptive/journal';
import { runJobParallel } from './adaptive/simJob';
import {
  simulateAuto,
  simulateOracleRun,
  simulateStatic,
  timelineOf,
  type PolicyResult,
  type SimTask,
  type SimWorld,
  type TimelinePoint,
} from './adaptive/simulate';
import { loadTruth, truthAccuracies } from './adaptive/truth';
import {
  deviceAtSlowdown,
  measuredWorld,
  missingFromWorld,
  withOwnCosts,
  worldFromRecords,
  type WorldJson,
} from './adaptive/world';

const { values } = parseArgs({
  options: {
    traces: { type: 'string', default: 'TMobile-UMTS-driving,Verizon-LTE-short,markov-onoff' },
    'sim-traces': { type: 'string' },
    'shared-traces': { type: 'string', default: '../shared/traces' },
    segments: { type: 'string' },
    'segment-seconds': { type: 'string' },
    slowdowns: { type: 'string' },
    'sim-slowdowns': { type: 'string' },
    slos: { type: 'string', default: '150,400' },
    policies: { type: 'string' },
    'images-per-request': { type: 'string', default: '16' },
    'no-live': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    world: { type: 'string' },
    'world-requests': { type: 'string', default: '48' },
    'sim-statics': { type: 'string' },
    'sim-link': { type: 'string', default: 'cdp' },
    jobs: { type: 'string', default: '1' },
    'sim-nice': { type: 'string', default: '0' },
    'from-json': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'bench/results' },
    'cache-dir': { type: 'string', default: '.cache/adaptive' },
    'no-build': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'start-index': { type: 'string', default: '0' },
    journal: { type: 'string' },
    'live-minutes': { type: 'string' },
    'dump-records': { type: 'string' },
  },
});

const quick = values.quick!;
const live = !values['no-live'];
const traceNames = list(values.traces!);
const simTraceNames = values['sim-traces'] ? list(values['sim-traces']) : traceNames;
const segmentsPerTrace = Number(values.segments ?? (quick ? 1 : 2));
const segmentSeconds = Number(values['segment-seconds'] ?? (quick ? 30 : 120));
const slowdowns = list(values.slowdowns ?? (quick ? '1' : '1,8')).map(Number);
const simSlowdowns = values['sim-slowdowns'] ? list(values['sim-slowdowns']).map(Number) : slowdowns;
const slos = list(values.slos!).map(Number);
const policyNames = list(
  values.policies ??
    (quick ? 'auto,on-device,best-split' : 'auto,on-device,offload-png,best-split,split-exit'),
);
const K = Number(values['images-per-request']);
const startIndex = Number(values['start-index']);
const seed = Number(values.seed);
const simStaticsOption = values['sim-statics'] ?? (quick ? 'live' : 'all');
const jobs = Math.max(1, Number(values.jobs));
const journalFile = values.journal ?? null;
const liveMinutes = values['live-minutes'] === undefined ? null : Number(values['live-minutes']);
if (liveMinutes !== null && !(liveMinutes > 0)) throw new Error('--live-minutes must be a positive number');
if (liveMinutes !== null && journalFile === null)
  throw new Error('--live-minutes stops the live grid part-way: it needs --journal to keep the runs');
const OUTAGE_TAIL_MS = 120_000;
const DIST = 'dist-adaptive';

function list(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

interface LoadedTrace {
  name: string;
  source: string;
  trace: UplinkTrace;
  summary: CapacitySummary;
  kind: 'real' | 'generated' | 'file';
}

function loadTrace(name: string): LoadedTrace {
  const candidates: [string, LoadedTrace['kind']][] = [
    [name, 'file'],
    [path.join(values['shared-traces']!, `${name}.up`), 'real'],
    [path.join('traces', `${name}.up`), 'generated'],
  ];
  for (const [file, kind] of candidates) {
    if (!existsSync(file) || !file.endsWith('.up')) continue;
    const base = path.basename(file, '.up');
    const trace = parseMahimahiTrace(readFileSync(file, 'utf8'), base);
    const resolvedKind =
      kind === 'file'
        ? path.resolve(file).startsWith(path.resolve(values['shared-traces']!))
          ? 'real'
          : 'file'
        : kind;
    return { name: base, source: file, trace, summary: capacitySummary(trace), kind: resolvedKind };
  }
  throw new Error(`no trace "${name}" (looked for ${candidates.map(([file]) => file).join(', ')})`);
}

/** The page controls for a candidate. */
function runOptionsOf(candidate: Candidate | 'auto', slowdown: number, sloMs?: number): RunOptions {
  const common = { imagesPerRequest: K, slowdown, startIndex, maxInFlight: 1 };
  if (candidate === 'auto') return { ...common, mode: 'auto', sloMs };
  switch (candidate.kind) {
    case 'on-device':
      return { ...common, mode: 'on-device' };
    case 'offload':
      return candidate.format === 'png'
        ? { ...common, mode: 'offload', format: 'png' }
        : { ...common, mode: 'offload', format: 'webp', webpQuality: candidate.quality };
    case 'split':
      return {
        ...common,
        mode: 'split',
        levelId: candidate.levelId,
        bits: candidate.bits,
        exitThreshold: candidate.exitThreshold,
      };
  }
}

interface LiveRun {
  trace: string;
  segment: Segment;
  slowdown: number;
  policy: string;
  /** Auto's SLO; null for a static (scored at every SLO). */
  sloMs: number | null;
  requests: number;
  metrics: MetricsBySlo;
  /** Statics: the same segment simulated with the conditions as set. Auto: the simulated auto. */
  simulated: MetricsBySlo;
  /**
   * Statics: the same, with the run's own measured costs instead of the sitting's
   * (bench/adaptive/world.ts withOwnCosts); the fidelity check reads this one.
   */
  simulatedOwnCosts?: MetricsBySlo;
  /** Auto runs: the oracle on the same segment, at its SLO. */
  oracle?: MetricsBySlo;
  configs: Record<string, number>;
  /** Medians of the phases, live and simulated: where a fidelity gap comes from. */
  phases: { live: PhaseSummary; simulated: PhaseSummary };
  maxLateMs: number;
  seconds: number;
  /** The world it was simulated with (its sitting's, in a journal). */
  worldSha256?: string;
  /** When the run ended and the load average then: a journaled grid spans several sittings. */
  finishedAt?: string;
  loadAverage?: number[];
  timeline?: TimelinePoint[];
  capacityKbps?: number[];
}

interface PhaseSummary {
  deviceMs: number;
  encodeMs: number;
  networkMs: number;
  serverMs: number;
  totalMs: number;
  p90TotalMs: number;
}

function phaseSummary(records: readonly InferenceRecord[]): PhaseSummary {
  const of = (pick: (record: InferenceRecord) => number) => median(records.map(pick));
  return {
    deviceMs: of((r) => r.phases.deviceMs),
    encodeMs: of((r) => r.phases.encodeMs),
    networkMs: of((r) => r.phases.networkMs),
    serverMs: of((r) => r.phases.serverQueueMs + r.phases.serverComputeMs),
    totalMs: of((r) => r.phases.totalMs),
    p90TotalMs: quantile(
      records.map((r) => r.phases.totalMs),
      0.9,
    ),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const durations: Record<string, number> = {};
  const manifestText = readFileSync('public/models/fmnist/manifest.json', 'utf8');
  const manifest = JSON.parse(manifestText) as ModelManifest;
  const candidates = allCandidates(manifest, 50);
  const accuracy = expectedAccuracies(manifest);
  const levelOf = (id: string) => manifest.levels.find((level) => level.id === id)!;
  const payloadOf = (levelId: string, bits: number) => payloadBytesPerImage(levelOf(levelId).elements, bits);
  const liveStatics = resolveStatics(
    policyNames.filter((name) => name !== 'auto'),
    candidates,
    accuracy,
    payloadOf,
  );
  const runAuto = policyNames.includes('auto');
  // --sim-statics: all, live (the live statics), no-exit (every candidate without an exit), x0.9
  // (every split with the exit at 0.9), or candidate ids / aliases, comma-separated.
  const simStatics: Candidate[] = [];
  for (const name of list(simStaticsOption)) {
    const group =
      name === 'all'
        ? candidates
        : name === 'live'
          ? liveStatics
          : name === 'no-exit'
            ? candidates.filter((c) => c.kind !== 'split' || c.exitThreshold === null)
            : /^x[\d.]+$/.test(name)
              ? candidates.filter((c) => c.kind === 'split' && c.exitThreshold === Number(name.slice(1)))
              : resolveStatics([name], candidates, accuracy, payloadOf);
    for (const candidate of group)
      if (!simStatics.some((c) => candidateId(c) === candidateId(candidate))) simStatics.push(candidate);
  }

  const liveTraces = traceNames.map(loadTrace);
  const simTraces = simTraceNames.map(loadTrace);
  const grid = {
    traces: live ? liveTraces.length : 0,
    segmentsPerTrace,
    segmentSeconds,
    slowdowns: slowdowns.length,
    slos: slos.length,
    statics: liveStatics.length,
    auto: runAuto,
  };
  const estimate = estimateLiveSeconds(grid);
  const fullGrid = FULL_LIVE_GRID;
  log(
    `the full default live grid (3 traces × 2 segments of 120 s × 2 slowdowns × (4 statics + auto × 2 SLOs)): ${liveRuns(fullGrid)} runs, about ${(estimateLiveSeconds(fullGrid) / 60).toFixed(0)} min`,
  );
  log(
    `live grid: ${liveRuns(grid)} runs (${grid.traces} traces × ${segmentsPerTrace} segments × ${slowdowns.length} slowdowns × ` +
      `(${liveStatics.length} statics${runAuto ? ` + auto × ${slos.length} SLOs` : ''})) of ${segmentSeconds} s: about ${(estimate / 60).toFixed(0)} min`,
  );
  log(
    `simulated: ${simStatics.length} statics + auto and oracle × ${slos.length} SLOs on ${simTraces.map((t) => t.name).join(', ')} × slowdowns ${simSlowdowns.join(', ')}`,
  );
  if (values['dry-run']) return;

  // Truth
  let t = Date.now();
  const truthResult = await loadTruth({
    bundleDir: 'public/models/fmnist',
    tailsDir: 'server/models/fmnist',
    cacheDir: values['cache-dir']!,
    webpQuality: 50,
    log,
  });
  durations.truthSeconds = (Date.now() - t) / 1000;
  log(`truth: ${truthResult.cached ? 'from cache' : 'evaluated'} in ${durations.truthSeconds.toFixed(1)} s`);
  const truth = truthResult.truth;

  // Chromium, opened the first time anything is measured live
  type LiveModule = typeof import('./adaptive/live');
  let opened: { lab: import('./adaptive/live').Lab; live: LiveModule } | null = null;
  let worldJson: WorldJson;
  let worldSource: string;
  let sittingWorlds: number;
  const liveRunsOut: LiveRun[] = [];
  let environmentBrowser: Record<string, string> = {};
  const ensureLab = async (): Promise<{ lab: import('./adaptive/live').Lab; live: LiveModule }> => {
    if (opened) return opened;
    const liveModule = await import('./adaptive/live');
    if (!values['no-build']) {
      const builtAt = Date.now();
      const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', DIST], {
        stdio: 'inherit',
      });
      if (build.status !== 0) throw new Error('vite build failed');
      durations.buildSeconds = (Date.now() - builtAt) / 1000;
    }
    process.env.SPLITSCOPE_E2E_DIST = DIST;
    const openedAt = Date.now();
    const lab = await liveModule.openLab({
      backend: values.backend!,
      chromium: process.env.SPLITSCOPE_CHROMIUM ?? '/usr/bin/chromium',
    });
    opened = { lab, live: liveModule };
    durations.pageLoadSeconds = (Date.now() - openedAt) / 1000;
    environmentBrowser = { backend: lab.backendLabel, chromium: lab.chromiumVersion };
    log(`page ready on ${lab.backendLabel} (Chromium ${lab.chromiumVersion})`);
    return opened;
  };
  // A function, not an inline `opened?.lab`: TypeScript does not see ensureLab's assignment there.
  const closeLab = async (): Promise<void> => {
    await opened?.lab.close();
  };
  let stoppedEarly = false;
  try {
    // The live runs of the grid, and those this sitting has to measure (a journal may hold the rest)
    const livePlan = (traces: readonly LoadedTrace[]) =>
      traces.flatMap((loaded) => {
        const segments = chooseSegments(loaded.trace.periodMs, segmentsPerTrace, segmentSeconds);
        if (segmentsOverlap(segments))
          log(
            `${loaded.name}: its segments overlap (the trace is ${(loaded.trace.periodMs / 1000).toFixed(0)} s)`,
          );
        return segments.flatMap((segment) => {
          const schedule = throttleSchedule(
            loaded.trace,
            segment.offsetMs,
            segment.durationMs + OUTAGE_TAIL_MS,
          );
          const capacityKbps = schedule
            .slice(0, Math.ceil(segment.durationMs / 1000))
            .map((step) => Math.round(step.traceBps / 100) / 10);
          return slowdowns.flatMap((slowdown) =>
            [
              ...liveStatics.map((candidate) => ({
                policy: `static ${candidateId(candidate)}`,
                candidate: candidate as Candidate | 'auto',
                sloMs: null as number | null,
              })),
              ...(runAuto
                ? slos.map((sloMs) => ({ policy: 'auto', candidate: 'auto' as const, sloMs }))
                : []),
            ].map((run) => ({
              loaded,
              segment,
              schedule,
              capacityKbps,
              slowdown,
              run,
              key: {
                trace: loaded.name,
                offsetMs: segment.offsetMs,
                durationMs: segment.durationMs,
                slowdown,
                policy: run.policy,
                sloMs: run.sloMs,
              },
            })),
          );
        });
      });
    const journal = journalFile
      ? LiveJournal.open<LiveRun, WorldJson>(journalFile, {
          bundle: `${manifest.bundleId}@${manifest.training.commit}`,
          imagesPerRequest: K,
          startIndex,
          seed,
          backend: values.backend!,
          code: codeIdentity(),
        })
      : null;
    if (journal)
      log(
        `journal ${journalFile}: ${journal.size} live runs and ${journal.worlds.length} sitting worlds already there${journal.droppedTail ? ' (a last line cut short by a kill was dropped)' : ''}`,
      );
    const plan = live ? livePlan(liveTraces) : [];
    const toMeasure = plan.filter((planned) => !journal?.get(planned.key));

    // World. A live run is simulated with costs measured in its own sitting: the machine is shared,
    // and device and server times moved by 1.5× between sittings here (WASM full model 42 → 62 ms).
    t = Date.now();
    const newestJournalWorld = journal?.worlds.at(-1) ?? null;
    if (values.world) {
      const loaded = JSON.parse(readFileSync(values.world, 'utf8')) as { world?: WorldJson } & WorldJson;
      worldJson = loaded.world ?? loaded;
      worldSource = `read from ${values.world}`;
    } else if (toMeasure.length === 0 && newestJournalWorld) {
      worldJson = newestJournalWorld.world;
      worldSource = `the newest sitting world of ${journalFile}, measured ${newestJournalWorld.measuredAt}`;
    } else {
      const requests = Number(values['world-requests']);
      const records: InferenceRecord[] = [];
      const worldCandidates: Candidate[] = [
        { kind: 'on-device' },
        { kind: 'offload', format: 'png' },
        { kind: 'offload', format: 'webp', quality: 50 },
      ];
      for (const level of manifest.levels) {
        worldCandidates.push({ kind: 'split', levelId: level.id, bits: 2, exitThreshold: null });
        const exit = manifest.earlyExits.find((entry) => entry.level === level.id);
        for (const threshold of [0.5, 0.9, 0.99])
          if (exit?.thresholds.some((row) => row.threshold === threshold))
            worldCandidates.push({ kind: 'split', levelId: level.id, bits: 2, exitThreshold: threshold });
      }
      for (const candidate of worldCandidates) {
        const { lab, live: liveModule } = await ensureLab();
        const got = await liveModule.staticRun(lab, runOptionsOf(candidate, 1), requests);
        records.push(...got);
        const totals = got.map((record) => record.phases.totalMs);
        log(
          `world: ${candidateId(candidate)}: ${got.length} requests, median ${runMetrics(got, 1e9).medianMs.toFixed(1)} ms (max ${Math.max(...totals).toFixed(1)})`,
        );
      }
      const splitPayloadPerImage: Record<string, number> = {};
      for (const level of manifest.levels)
        for (let bits = manifest.quantization.minBits; bits <= manifest.quantization.maxBits; bits++)
          splitPayloadPerImage[`${level.id}-b${bits}`] = payloadOf(level.id, bits);
      worldJson = worldFromRecords(records, { imagesPerRequest: K, splitPayloadPerImage });
      // Device runs at each other slowdown of the grid, measured there (see bench/adaptive/world.ts).
      worldJson.deviceMsBySlowdown = {};
      for (const slowdown of [...new Set([...(live ? slowdowns : []), ...simSlowdowns])].filter(
        (s) => s !== 1,
      )) {
        const at: InferenceRecord[] = [];
        const deviceCandidates = worldCandidates.filter(
          (c) =>
            c.kind === 'on-device' ||
            (c.kind === 'split' && (c.exitThreshold === null || c.exitThreshold === 0.9)),
        );
        for (const candidate of deviceCandidates) {
          const { lab, live: liveModule } = await ensureLab();
          const got = await liveModule.staticRun(lab, runOptionsOf(candidate, slowdown), requests);
          at.push(...got);
          log(
            `world: ${candidateId(candidate)} at ${slowdown}×: ${got.length} requests, median device ${runMetrics(got, 1e9).medianMs.toFixed(1)} ms total`,
          );
        }
        const { deviceMs, derived } = deviceAtSlowdown(at, { imagesPerRequest: K, slowdown });
        worldJson.deviceMsBySlowdown[String(slowdown)] = deviceMs;
        for (const [key, how] of Object.entries(derived)) worldJson.derived[`${key} at ${slowdown}×`] = how;
      }
      worldSource = `measured now: unthrottled static runs of ${values['world-requests']} requests at 1×`;
    }
    log(`world: ${worldSource}`);
    if (journal && toMeasure.length > 0) journal.recordWorld(worldJson, worldSource);
    sittingWorlds = journal?.worlds.length ?? 0;
    const sittingWorld = worldSha256(worldJson);
    durations.worldSeconds = (Date.now() - t) / 1000;
    const missing = missingFromWorld(worldJson, {
      device: [
        ...new Set(
          candidates.flatMap((c) =>
            c.kind === 'on-device'
              ? ['full']
              : c.kind === 'split'
                ? [`head-${c.levelId}`, ...(c.exitThreshold === null ? [] : [`exit-${c.levelId}`])]
                : [],
          ),
        ),
      ].map((model) => `${model}@${K}`),
      server: [
        `offload-png@${K}`,
        `offload-webp-q50@${K}`,
        ...manifest.levels.flatMap((level) =>
          Array.from({ length: K }, (_, i) => `tail-${level.id}@${i + 1}`),
        ),
      ],
      encode: ['codes', 'png', 'webp-q50'],
      payload: ['png', 'webp-q50'],
    });
    if (missing.length > 0) throw new Error(`the world lacks: ${missing.join(', ')}`);
    const simWorlds = new Map<number, SimWorld>(
      [...new Set([1, ...slowdowns])].map((slowdown) => [
        slowdown,
        {
          candidates,
          accuracy,
          manifest,
          world: measuredWorld(worldJson, slowdown),
          truth,
          imagesPerRequest: K,
          seed,
        },
      ]),
    );

    // Live grid
    t = Date.now();
    const cellOf = (key: { trace: string; offsetMs: number; durationMs: number; slowdown: number }) =>
      `${key.trace}|${key.offsetMs}|${key.durationMs}|${key.slowdown}`;
    let currentCell: string | null = null;
    for (const { loaded, segment, schedule, capacityKbps, slowdown, run, key } of plan) {
      const journaled = journal?.get(key);
      if (journaled) {
        liveRunsOut.push(journaled.run);
        log(
          `live ${loaded.name} @${segment.offsetMs / 1000}s ${slowdown}× ${run.policy}${run.sloMs === null ? '' : ` SLO ${run.sloMs}`}: from the journal (${journaled.finishedAt})`,
        );
        continue;
      }
      // Past the budget no run starts, but the scan goes on so the count of journaled runs is whole.
      // A sitting stops only between cells (trace × segment × slowdown): auto is judged against the
      // statics of its cell, and a cell split across sittings compares runs 20 min and a machine
      // state apart (at f4c3af4, c2-b4-x0.9 at 8× measured 91.33% in one sitting and 84.09% on the
      // half of the same segment in the next).
      const cell = cellOf(key);
      if (!stoppedEarly && liveMinutes !== null && cell !== currentCell) {
        const left = plan.filter(
          (planned) => cellOf(planned.key) === cell && !journal?.get(planned.key),
        ).length;
        if (Date.now() - t + left * (segmentSeconds + 30) * 1000 > liveMinutes * 60_000) stoppedEarly = true;
      }
      if (stoppedEarly) continue;
      currentCell = cell;
      const simWorld = simWorlds.get(slowdown)!;
      const { lab, live: liveModule } = await ensureLab();
      const replay = await liveModule.replaySegment(
        lab,
        runOptionsOf(run.candidate, slowdown, run.sloMs ?? undefined),
        schedule,
        segment.durationMs,
      );
      const records = withinSegment(replay.records, replay.t0Page, segment.durationMs);
      if (records.length === 0) throw new Error(`${loaded.name} ${run.policy}: no records in the segment`);
      const firstStart = records[0]!.startedAt;
      const shifted = mergedSegments(
        replay.steps.map((step) => ({
          atMs: step.setAtPage - firstStart,
          uplinkBps: step.uplinkBps,
        })),
      );
      const simRun = {
        makeLink: () => new SegmentedThrottleLink(shifted),
        durationMs: replay.t0Page + segment.durationMs - firstStart,
        slowdown,
        firstImage: startIndex,
      };
      const scoredAt = run.sloMs === null ? slos : [run.sloMs];
      const configs: Record<string, number> = {};
      for (const record of records) configs[record.config] = (configs[record.config] ?? 0) + 1;
      const simRecords =
        run.candidate === 'auto'
          ? simulateAuto(simWorld, simRun, run.sloMs!)
          : simulateStatic(simWorld, simRun, run.candidate);
      const ownWorld =
        run.candidate === 'auto'
          ? worldJson!
          : withOwnCosts(worldJson!, records, candidateId(run.candidate), slowdown);
      const simulatedOwnCosts =
        run.candidate !== 'auto' && ownWorld !== worldJson!
          ? metricsBySlo(
              simulateStatic(
                { ...simWorld, world: measuredWorld(ownWorld, slowdown) },
                simRun,
                run.candidate,
              ),
              scoredAt,
            )
          : undefined;
      const entry: LiveRun = {
        trace: loaded.name,
        segment,
        slowdown,
        policy: run.policy,
        sloMs: run.sloMs,
        requests: records.length,
        metrics: metricsBySlo(records, scoredAt),
        simulated: metricsBySlo(simRecords, scoredAt),
        ...(simulatedOwnCosts ? { simulatedOwnCosts } : {}),
        phases: { live: phaseSummary(records), simulated: phaseSummary(simRecords) },
        configs,
        maxLateMs: replay.maxLateMs,
        seconds: replay.seconds,
      };
      if (run.candidate === 'auto') {
        entry.oracle = metricsBySlo(simulateOracleRun(simWorld, simRun, run.sloMs!), scoredAt);
        entry.timeline = timelineOf({
          requests: records.map((record) => ({
            record: { ...record, startedAt: record.startedAt - replay.t0Page },
          })),
        });
        entry.capacityKbps = capacityKbps;
      }
      entry.worldSha256 = sittingWorld;
      entry.finishedAt = new Date().toISOString();
      entry.loadAverage = os.loadavg().map((value) => Math.round(value * 100) / 100);
      liveRunsOut.push(entry);
      journal?.append(key, entry, os.loadavg());
      if (values['dump-records']) {
        mkdirSync(values['dump-records'], { recursive: true });
        const name = `${loaded.name}-${segment.offsetMs / 1000}s-${slowdown}x-${run.policy.replace(/\s+/g, '-')}${run.sloMs === null ? '' : `-${run.sloMs}`}.json`;
        writeFileSync(
          path.join(values['dump-records'], name),
          JSON.stringify({ key, t0Page: replay.t0Page, steps: replay.steps, records, simulated: simRecords }),
        );
      }
      const first = String(scoredAt[0]);
      log(
        `live ${loaded.name} @${segment.offsetMs / 1000}s ${slowdown}× ${run.policy}${run.sloMs === null ? '' : ` SLO ${run.sloMs}`}: ` +
          `${records.length} requests, on-time ${pct(entry.metrics[first]!.onTimeAccuracy)} at ${first} ms (simulated ${pct(entry.simulated[first]!.onTimeAccuracy)}` +
          `${entry.simulatedOwnCosts ? `, with its own costs ${pct(entry.simulatedOwnCosts[first]!.onTimeAccuracy)}` : ''}` +
          `${entry.oracle ? `, oracle ${pct(entry.oracle[first]!.onTimeAccuracy)}` : ''}), steps late ≤ ${replay.maxLateMs.toFixed(0)} ms, ${replay.seconds.toFixed(0)} s`,
      );
    }
    durations.liveSeconds = (Date.now() - t) / 1000;
    durations.liveSeconds = (Date.now() - t) / 1000;
  } finally {
    await closeLab();
  }
  if (stoppedEarly) {
    const total = liveRuns(grid);
    log(
      `stopped at --live-minutes ${liveMinutes}: ${liveRunsOut.length} of the ${total} live runs are in ${journalFile}; ` +
        'run the same command again to measure the rest and write the report',
    );
    process.exitCode = 3;
    return;
  }

  // Whole-trace simulation
  t = Date.now();
  const worldFile = path.join(os.tmpdir(), `splitscope-adaptive-world-${process.pid}.json`);
  writeFileSync(worldFile, JSON.stringify(worldJson!));
  const simTasks: SimTask[] = simTraces.flatMap((loaded) =>
    simSlowdowns.flatMap((slowdown) => [
      ...simStatics.map((candidate) => ({ trace: loaded.name, slowdown, policy: candidateId(candidate) })),
      { trace: loaded.name, slowdown, policy: 'auto' },
      { trace: loaded.name, slowdown, policy: 'oracle' },
    ]),
  );
  let done = 0;
  const taskResults = await runJobParallel(
    {
      worldFile,
      cacheDir: values['cache-dir']!,
      traces: simTraces.map((loaded) => ({ name: loaded.name, source: loaded.source })),
      link: values['sim-link'] === 'mm-link' ? 'mm-link' : 'cdp',
      imagesPerRequest: K,
      seed,
      startIndex,
      slos,
      tasks: simTasks,
    },
    jobs,
    (name) => simTraces.find((loaded) => loaded.name === name)!.trace.periodMs / 1000,
    (result) => {
      done++;
      if (result.policy === 'auto' || result.policy === 'oracle' || done % 25 === 0)
        log(
          `simulated ${done}/${simTasks.length}: ${result.trace} ${result.slowdown}× ${result.policy} ` +
            slos.map((slo) => `${slo} ms ${pct(result.metrics[slo]!.onTimeAccuracy)}`).join(', ') +
            ` (${result.seconds.toFixed(1)} s)`,
        );
    },
    Number(values['sim-nice']),
  );
  rmSync(worldFile, { force: true });
  const simulated: {
    trace: string;
    slowdown: number;
    link: string;
    durationS: number;
    results: PolicyResult[];
  }[] = [];
  const simTimelines: {
    trace: string;
    slowdown: number;
    sloMs: number;
    points: TimelinePoint[];
    capacityKbps: number[];
  }[] = [];
  for (const loaded of simTraces) {
    const capacityKbps = Array.from(capacityPerStep(loaded.trace, 1000), (bps) => Math.round(bps / 100) / 10);
    for (const slowdown of simSlowdowns) {
      const mine = taskResults.filter(
        (result) => result.trace === loaded.name && result.slowdown === slowdown,
      );
      const results: PolicyResult[] = mine.map((result) => ({
        policy:
          result.policy === 'auto' || result.policy === 'oracle' ? result.policy : `static ${result.policy}`,
        metrics: result.metrics,
        seconds: result.seconds,
      }));
      for (const timeline of mine.find((result) => result.policy === 'auto')?.timelines ?? [])
        simTimelines.push({
          trace: loaded.name,
          slowdown,
          sloMs: timeline.sloMs,
          points: timeline.points,
          capacityKbps,
        });
      simulated.push({
        trace: loaded.name,
        slowdown,
        link: values['sim-link']!,
        durationS: loaded.trace.periodMs / 1000,
        results,
      });
      const auto = results.find((result) => result.policy === 'auto')!;
      const oracle = results.find((result) => result.policy === 'oracle')!;
      log(
        `simulated ${loaded.name} ${slowdown}×: ` +
          slos
            .map(
              (slo) =>
                `SLO ${slo}: auto ${pct(auto.metrics[slo]!.onTimeAccuracy)}, oracle ${pct(oracle.metrics[slo]!.onTimeAccuracy)}, best static ${pct(bestStatic(results, slo).value)} (${bestStatic(results, slo).id})`,
            )
            .join('; '),
      );
    }
  }
  durations.simulationSeconds = (Date.now() - t) / 1000;

  // Checks
  const checks: Check[] = [];
  for (const loaded of liveTraces) {
    for (const slowdown of slowdowns) {
      const runs = liveRunsOut.filter((run) => run.trace === loaded.name && run.slowdown === slowdown);
      if (runs.length === 0) continue;
      for (const slo of slos) {
        const where = { trace: loaded.name, slowdown, sloMs: slo };
        const autoRuns = runs.filter((run) => run.policy === 'auto' && run.sloMs === slo);
        const pooled = (entries: LiveRun[], pick: (run: LiveRun) => MetricsBySlo | undefined) => {
          let images = 0;
          let onTime = 0;
          for (const run of entries) {
            const metrics = pick(run)?.[String(slo)];
            if (!metrics) continue;
            images += metrics.images;
            onTime += metrics.onTimeAccuracy * metrics.images;
          }
          return images === 0 ? null : onTime / images;
        };
        const autoLive = pooled(autoRuns, (run) => run.metrics);
        const oracle = pooled(autoRuns, (run) => run.oracle);
        if (autoLive !== null && oracle !== null)
          checks.push(checkAgainstOracle(where, autoLive, oracle, 'live auto (pooled over segments)'));
        const statics: Record<string, number> = {};
        for (const candidate of liveStatics) {
          const id = `static ${candidateId(candidate)}`;
          const value = pooled(
            runs.filter((run) => run.policy === id),
            (run) => run.metrics,
          );
          if (value !== null) statics[candidateId(candidate)] = value;
        }
        if (autoLive !== null && Object.keys(statics).length > 0) {
          const check = checkAgainstBestStatic(where, autoLive, statics, 'live auto');
          // Not part of the check: how hard each side's images were (see prefixAccuracy).
          const imagesOf = (entries: LiveRun[]) => {
            let images = 0;
            let correct = 0;
            for (const run of entries) {
              const sent = run.metrics[String(slo)]?.images ?? 0;
              images += sent;
              correct += sent * prefixAccuracy(truth, 'full', { seed, startIndex }, sent);
            }
            return images === 0 ? Number.NaN : correct / images;
          };
          const bestId = check.bestStatic!;
          check.detail += `; the full model on the same images: ${pct(imagesOf(autoRuns))} on auto's, ${pct(imagesOf(runs.filter((run) => run.policy === `static ${bestId}`)))} on ${bestId}'s`;
          checks.push(check);
        }
        for (const run of runs.filter((entry) => entry.sloMs === null))
          checks.push(
            checkFidelity(
              where,
              `${run.policy.replace('static ', '')} @${run.segment.offsetMs / 1000}s${run.simulatedOwnCosts ? ' (own costs)' : ''}`,
              (run.simulatedOwnCosts ?? run.simulated)[String(slo)]!.onTimeAccuracy,
              run.metrics[String(slo)]!.onTimeAccuracy,
            ),
          );
      }
    }
  }
  const simulatedChecks: Check[] = [];
  for (const cell of simulated)
    for (const slo of slos) {
      const where = { trace: cell.trace, slowdown: cell.slowdown, sloMs: slo };
      const auto = cell.results.find((result) => result.policy === 'auto')!.metrics[slo]!.onTimeAccuracy;
      const oracle = cell.results.find((result) => result.policy === 'oracle')!.metrics[slo]!.onTimeAccuracy;
      simulatedChecks.push(checkAgainstOracle(where, auto, oracle, 'simulated auto (whole trace)'));
      const statics = Object.fromEntries(
        cell.results
          .filter((result) => result.policy.startsWith('static '))
          .map((result) => [result.policy.slice(7), result.metrics[slo]!.onTimeAccuracy]),
      );
      if (Object.keys(statics).length > 0)
        simulatedChecks.push(checkAgainstBestStatic(where, auto, statics, 'simulated auto (whole trace)'));
    }

  durations.totalSeconds = (Date.now() - started) / 1000;
  const command = `npm run bench:adaptive -- ${process.argv.slice(2).join(' ')}`.trim();
  const environment = {
    date: new Date().toISOString(),
    ...environmentBrowser,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    bundle: `${manifest.bundleId}@${manifest.training.commit}`,
    imagesPerRequest: K,
    throttle:
      'CDP Network.emulateNetworkConditions, upload only (download unthrottled, latency 0), a new rate every second from the trace; a second with no capacity is 1000 bit/s (OUTAGE_BPS: one quantum takes 12 s, so nothing crosses until the next step releases it)',
    simulationLink:
      values['sim-link'] === 'mm-link'
        ? 'the trace as mm-link serves it (src/core/uplinkTrace.ts TraceLink)'
        : 'the DevTools throttle model of the trace replayed once a second (src/core/cdpThrottle.ts throttleModelFor)',
    worldSource:
      sittingWorlds > 1
        ? `the whole-trace simulation: ${worldSource}; each live run was simulated with the world measured in its own sitting (${sittingWorlds} sittings, in ${journalFile})`
        : worldSource,
    load: `load average ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} at the end (2 cores shared with other work)`,
  };
  const report = {
    environment,
    command,
    durations,
    options: {
      traces: traceNames,
      simTraces: simTraceNames,
      segmentsPerTrace,
      segmentSeconds,
      slowdowns,
      simSlowdowns,
      slos,
      liveStatics: liveStatics.map(candidateId),
      auto: runAuto,
      simStatics: simStatics.length,
      live,
      seed,
      startIndex,
      liveGridEstimateSeconds: estimate,
    },
    accuracy: Object.fromEntries(accuracy),
    truth: {
      cached: truthResult.cached,
      images: truth.labels.length,
      accuracies: Object.fromEntries(truthAccuracies(truth)),
      notes: truthResult.json.notes,
    },
    traces: [...new Map([...liveTraces, ...simTraces].map((entry) => [entry.name, entry])).values()].map(
      (entry) => ({
        name: entry.name,
        kind: entry.kind,
        source: entry.source,
        seconds: entry.trace.periodMs / 1000,
        summary: entry.summary,
      }),
    ),
    checks,
    simulatedChecks,
    live: liveRunsOut,
    simulated,
    simTimelines,
    world: worldJson!,
  };
  writeReport(report);
  log(`wrote ${values.out}/adaptive.md and adaptive.json in ${(durations.totalSeconds / 60).toFixed(1)} min`);
}

/** When the live runs were measured: one line, or none for runs that predate the record. */
function sittingsLine(runs: readonly LiveRun[]): string[] {
  const dated = runs
    .filter((run) => run.finishedAt)
    .map((run) => run.finishedAt!)
    .sort();
  if (dated.length === 0) return [];
  const days = [...new Set(dated.map((at) => at.slice(0, 10)))];
  const loads = runs.flatMap((run) => (run.loadAverage ? [run.loadAverage[0]!] : []));
  return [
    `Measured between ${dated[0]!.slice(0, 16).replace('T', ' ')} and ${dated.at(-1)!.slice(0, 16).replace('T', ' ')} UTC` +
      `${days.length > 1 ? ` on ${days.length} days (a journaled grid, \`--journal\`, measured in parts with the same world)` : ''}; ` +
      `1-minute load average at the end of a run ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on 2 cores.`,
  ];
}

/** Simulated timelines kept in the JSON: real traces only, at most this many points each (evenly thinned). */
const TIMELINE_POINTS = 3000;

function writeReport(report: Report): void {
  const realTraces = new Set(
    report.traces.filter((trace) => trace.kind === 'real').map((trace) => trace.name),
  );
  const keep = report.simTimelines.some((timeline) => realTraces.has(timeline.trace)) ? realTraces : null;
  report.simTimelines = report.simTimelines
    .filter((timeline) => keep === null || keep.has(timeline.trace))
    .map((timeline) => {
      const every = Math.ceil(timeline.points.length / TIMELINE_POINTS);
      return every <= 1
        ? timeline
        : { ...timeline, thinnedEvery: every, points: timeline.points.filter((_, i) => i % every === 0) };
    });
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(path.join(values.out!, 'adaptive.json'), JSON.stringify(report));
  writeFileSync(path.join(values.out!, 'adaptive.md'), markdown(report));
  const plot = spawnSync(
    '/usr/bin/python3',
    ['bench/plot_adaptive.py', path.join(values.out!, 'adaptive.json'), values.out!],
    { stdio: 'inherit' },
  );
  if (plot.status !== 0) console.error('plotting failed (needs /usr/bin/python3 with matplotlib)');
}

function bestStatic(results: PolicyResult[], slo: number): { id: string; value: number } {
  let best = { id: '', value: -1 };
  for (const result of results)
    if (result.policy.startsWith('static ') && result.metrics[slo]!.onTimeAccuracy > best.value)
      best = { id: result.policy.slice(7), value: result.metrics[slo]!.onTimeAccuracy };
  return best;
}

type Report = {
  simTimelines: {
    trace: string;
    slowdown: number;
    sloMs: number;
    points: TimelinePoint[];
    capacityKbps: number[];
    thinnedEvery?: number;
  }[];
  environment: Record<string, unknown>;
  command: string;
  durations: Record<string, number>;
  options: Record<string, unknown> & { slos: number[]; liveStatics: string[]; segmentSeconds: number };
  truth: {
    accuracies: Record<string, number>;
    notes: Record<string, string>;
    images: number;
    cached: boolean;
  };
  traces: { name: string; kind: string; source: string; seconds: number; summary: CapacitySummary }[];
  checks: Check[];
  simulatedChecks: Check[];
  live: LiveRun[];
  simulated: { trace: string; slowdown: number; link: string; durationS: number; results: PolicyResult[] }[];
  world: WorldJson;
};

function markdown(report: Report): string {
  const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const lines: string[] = [
    '# Adaptive benchmark: auto against the oracle and every fixed choice, on cellular uplink traces',
    '',
    `Generated by \`${report.command}\` on ${String(report.environment.date)}. Every figure below was measured or simulated by that run; nothing is typed in.`,
    '',
    '## Environment',
    '',
    ...Object.entries(report.environment).map(([key, value]) => `- **${key}**: ${String(value)}`),
    `- **durations**: ${Object.entries(report.durations)
      .map(([key, value]) => `${key.replace('Seconds', '')} ${f(value, 0)} s`)
      .join(', ')}`,
    `- **live grid estimate**: ${f(Number(report.options.liveGridEstimateSeconds) / 60, 0)} min for the grid of this run (live runs of ${report.options.segmentSeconds} s plus about 12 s each to configure, stop and settle)`,
    '',
    '## Metric',
    '',
    'On-time accuracy = images answered correctly within the SLO ÷ images sent (an image the early exit answers counts at the end of device compute).',
    'SLO attainment = requests whose every image was answered within the SLO ÷ requests. Latency is per request of',
    `${String(report.environment.imagesPerRequest)} images, one request in flight.`,
    '',
    '## Done-when checks (issue 14), as measured',
    '',
  ];
  if (report.checks.length === 0)
    lines.push('No live runs in this report (`--no-live`): the done-when checks need them.', '');
  else {
    const passed = report.checks.filter((check) => check.pass).length;
    lines.push(`${passed} of ${report.checks.length} rows pass.`, '');
    lines.push(
      '| check | trace | slowdown | SLO ms | measured | result |',
      '| --- | --- | ---: | ---: | --- | --- |',
    );
    for (const check of report.checks)
      lines.push(
        `| ${check.check} | ${check.trace} | ${check.slowdown}× | ${check.sloMs} | ${check.detail} | ${check.pass ? 'PASS' : '**FAIL**'} |`,
      );
    lines.push('');
  }
  lines.push(
    '## Simulated on the whole traces',
    '',
    `Link: ${String(report.environment.simulationLink)}. World: ${String(report.environment.worldSource)}.`,
    '',
  );
  const simPassed = report.simulatedChecks.filter((check) => check.pass).length;
  lines.push(
    `Simulated checks (the same bounds on whole traces, informational): ${simPassed} of ${report.simulatedChecks.length} pass.`,
    '',
  );
  lines.push(
    '| check | trace | slowdown | SLO ms | simulated | result |',
    '| --- | --- | ---: | ---: | --- | --- |',
  );
  for (const check of report.simulatedChecks)
    lines.push(
      `| ${check.check} | ${check.trace} | ${check.slowdown}× | ${check.sloMs} | ${check.detail} | ${check.pass ? 'PASS' : '**FAIL**'} |`,
    );
  lines.push('');
  for (const cell of report.simulated) {
    for (const slo of report.options.slos) {
      const rows = [...cell.results].sort(
        (a, b) => b.metrics[slo]!.onTimeAccuracy - a.metrics[slo]!.onTimeAccuracy,
      );
      const keep = new Set(['auto', 'oracle', ...report.options.liveStatics.map((id) => `static ${id}`)]);
      const shown = rows.filter((row, i) => i < 8 || keep.has(row.policy));
      lines.push(
        `### ${cell.trace} (${f(cell.durationS, 0)} s), ${cell.slowdown}×, SLO ${slo} ms — ${cell.results.length - 2} statics, the best 8 policies and the live statics`,
        '',
        '| rank | policy | on-time accuracy | SLO attainment | accuracy | bytes/image | median ms | requests |',
        '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const row of shown) {
        const m = row.metrics[slo]!;
        lines.push(
          `| ${rows.indexOf(row) + 1} | ${row.policy} | ${pct(m.onTimeAccuracy)} | ${pct(m.sloAttainment)} | ${pct(m.accuracy)} | ${f(m.bytesPerImage)} | ${f(m.medianMs)} | ${m.requests} |`,
        );
      }
      lines.push('');
    }
  }
  if (report.live.length > 0) {
    lines.push(
      '## Live in Chromium',
      '',
      'Each row is one run of the real page on one trace segment. A static ran once per segment × slowdown and is scored at every SLO;',
      '*simulated* is the same segment through the simulator with the conditions as the page received them (the page clock of every CDP step).',
      'For auto, *simulated* is auto in the simulator and *oracle* the hindsight oracle on the same segment.',
      "*own costs* simulates a static with the run's own measured device, encode, server, downlink and hand-over times instead of the sitting's (this shared machine drifts 1.5-2× between sittings, and at 8× and 150 ms a split's device time straddles the target); the fidelity checks read it.",
      ...sittingsLine(report.live),
      '',
      '| trace | segment s | slowdown | policy | SLO ms | requests | on-time accuracy | simulated | own costs | oracle | SLO attainment | accuracy | bytes/image | median ms | steps late ≤ ms | configs run |',
      '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const run of report.live)
      for (const slo of run.sloMs === null ? report.options.slos : [run.sloMs]) {
        const m = run.metrics[String(slo)]!;
        const configs = Object.entries(run.configs)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([config, count]) => `${config} ${count}`)
          .join(', ');
        lines.push(
          `| ${run.trace} | ${run.segment.offsetMs / 1000}–${(run.segment.offsetMs + run.segment.durationMs) / 1000} | ${run.slowdown}× | ${run.policy} | ${slo} | ${run.requests} | ${pct(m.onTimeAccuracy)} | ${pct(run.simulated[String(slo)]!.onTimeAccuracy)} | ${run.simulatedOwnCosts ? pct(run.simulatedOwnCosts[String(slo)]!.onTimeAccuracy) : '–'} | ${run.oracle ? pct(run.oracle[String(slo)]!.onTimeAccuracy) : '–'} | ${pct(m.sloAttainment)} | ${pct(m.accuracy)} | ${f(m.bytesPerImage)} | ${f(m.medianMs)} | ${f(run.maxLateMs, 0)} | ${configs} |`,
        );
      }
    lines.push(
      '',
      'Phase medians of each live run against its simulation (ms): device, network, total median and p90.',
      '',
      '| trace | segment s | slowdown | policy | SLO ms | device live / sim | network live / sim | total live / sim | p90 live / sim |',
      '| --- | --- | ---: | --- | ---: | --- | --- | --- | --- |',
    );
    for (const run of report.live) {
      const { live: l, simulated: m } = run.phases;
      lines.push(
        `| ${run.trace} | ${run.segment.offsetMs / 1000}–${(run.segment.offsetMs + run.segment.durationMs) / 1000} | ${run.slowdown}× | ${run.policy} | ${run.sloMs ?? '–'} | ${f(l.deviceMs)} / ${f(m.deviceMs)} | ${f(l.networkMs)} / ${f(m.networkMs)} | ${f(l.totalMs)} / ${f(m.totalMs)} | ${f(l.p90TotalMs)} / ${f(m.p90TotalMs)} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Traces',
    '',
    '| trace | kind | length s | mean kbit/s | p10 / p50 / p90 of 1-s rates | seconds with no capacity | read from |',
    '| --- | --- | ---: | ---: | --- | ---: | --- |',
  );
  for (const trace of report.traces)
    lines.push(
      `| ${trace.name} | ${trace.kind} | ${f(trace.seconds, 0)} | ${f(trace.summary.meanKbps, 0)} | ${f(trace.summary.p10Kbps, 0)} / ${f(trace.summary.p50Kbps, 0)} / ${f(trace.summary.p90Kbps, 0)} | ${trace.summary.outageSeconds} | \`${trace.source}\` |`,
    );
  lines.push('', '## Truth and world', '');
  lines.push(
    `Truth: per-image answers of every configuration on ${report.truth.images} test images, by Node evaluation (${report.truth.cached ? 'from the cache' : 'evaluated in this run'}).`,
    ...Object.entries(report.truth.notes).map(([key, note]) => `- ${key}: ${note}`),
    '',
    'World (medians; the JSON holds every sample):',
    '',
    '| what | median ms | samples |',
    '| --- | ---: | ---: |',
  );
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  for (const [key, values] of Object.entries(report.world.deviceMs))
    lines.push(`| device ${key} | ${f(med(values), 2)} | ${values.length} |`);
  for (const [key, values] of Object.entries(report.world.encodeMsPerImage))
    lines.push(`| encode per image ${key} | ${f(med(values), 3)} | ${values.length} |`);
  for (const [key, values] of Object.entries(report.world.serverMs))
    if (!report.world.derived[key]) lines.push(`| server ${key} | ${f(med(values), 2)} | ${values.length} |`);
  for (const [slowdown, table] of Object.entries(report.world.deviceMsBySlowdown ?? {}))
    for (const [key, values] of Object.entries(table))
      lines.push(
        `| device ${key} at ${slowdown}× (÷ ${slowdown}) | ${f(med(values), 2)} | ${values.length} |`,
      );
  lines.push(`| downlink | ${f(med(report.world.downlinkMs), 2)} | ${report.world.downlinkMs.length} |`);
  lines.push(
    `| hand-over overhead | ${f(med(report.world.overheadMs), 2)} | ${report.world.overheadMs.length} |`,
  );
  const derived = Object.keys(report.world.derived);
  if (derived.length > 0)
    lines.push(
      '',
      `Derived rather than measured as such: ${derived.map((key) => `${key} (${report.world.derived[key]})`).join('; ')}.`,
    );
  lines.push(
    '',
    '## Plots',
    '',
    ...(report.live.some((run) => run.policy === 'auto')
      ? ['![decision timeline, live](adaptive-timeline.png)', '']
      : []),
    '![decision timeline, simulated whole trace](adaptive-timeline-sim.png)',
    '',
    '![on-time accuracy per policy](adaptive-ontime.png)',
    '',
  );
  return lines.join('\n');
}

/** --from-json FILE: the report (markdown, JSON, plots) rendered again from a run's JSON, nothing re-run. */
function rerender(file: string): void {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  report.environment.rendered = `report rendered again from ${path.basename(file)} on ${new Date().toISOString()} (--from-json: no figure re-measured)`;
  writeReport(report);
  log(`rendered ${values.out}/adaptive.md, adaptive.json and the plots from ${file}`);
}

(values['from-json'] ? Promise.resolve(rerender(values['from-json'])) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
