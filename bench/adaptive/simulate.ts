/**
 * The benchmark's simulations: any policy (a static candidate, auto, the hindsight oracle) over a
 * link for a duration, through src/core/simulator.ts, with metrics for every SLO and, for auto, a
 * compact decision timeline for the plot.
 *
 * A static does not read the SLO, so it is simulated once and scored at every SLO. It is priced
 * over its own candidate only: a static policy reads its own prediction and nothing else, and the
 * pricing of the other 146 candidates would only cost time.
 */
import type { Candidate, CostManifest } from '../../src/core/costModel';
import { candidateId } from '../../src/core/costModel';
import { autoPolicy, staticPolicy } from '../../src/core/policy';
import type { InferenceRecord } from '../../src/core/record';
import {
  simulate,
  simulateOracle,
  type ImageTruth,
  type MeasuredWorld,
  type SimulatedLink,
  type SimulationResult,
} from '../../src/core/simulator';
import { metricsBySlo, type MetricsBySlo } from './aggregate';

export interface SimWorld {
  candidates: readonly Candidate[];
  accuracy: ReadonlyMap<string, number>;
  manifest: CostManifest;
  world: MeasuredWorld;
  truth: ImageTruth;
  imagesPerRequest: number;
  seed: number;
}

export interface SimRun {
  makeLink: () => SimulatedLink;
  durationMs: number;
  slowdown: number;
  firstImage: number;
}

/** One point of a decision timeline: [start s, candidate, uplink estimate kbit/s | null, total ms, exploring]. */
export type TimelinePoint = [number, string, number | null, number, 0 | 1];

export function timelineOf(
  result: SimulationResult | { requests: { record: InferenceRecord }[] },
): TimelinePoint[] {
  return result.requests.map(({ record }) => [
    Math.round(record.startedAt) / 1000,
    record.decision?.candidate ?? record.config,
    record.decision?.uplinkBps == null ? null : Math.round(record.decision.uplinkBps / 100) / 10,
    Math.round(record.phases.totalMs * 10) / 10,
    record.decision?.exploring ? 1 : 0,
  ]);
}

function base(world: SimWorld, run: SimRun, sloMs: number) {
  return {
    candidates: world.candidates,
    accuracy: world.accuracy,
    manifest: world.manifest,
    world: world.world,
    truth: world.truth,
    makeLink: run.makeLink,
    durationMs: run.durationMs,
    imagesPerRequest: world.imagesPerRequest,
    slowdown: run.slowdown,
    sloMs,
    seed: world.seed,
    firstImage: run.firstImage,
  };
}

export function simulateStatic(world: SimWorld, run: SimRun, candidate: Candidate): InferenceRecord[] {
  const config = { ...base(world, run, 0), candidates: [candidate], policy: staticPolicy(candidate) };
  return simulate(config).requests.map((request) => request.record);
}

/** Auto's run; its records carry the decision as the page's do (candidate, uplink, exploring). */
export function simulateAuto(world: SimWorld, run: SimRun, sloMs: number): InferenceRecord[] {
  const result = simulate({ ...base(world, run, sloMs), policy: autoPolicy() });
  // The simulator's records carry the decision as the app's do; the per-candidate prices are
  // left out of the report.
  return result.requests.map(({ record }) => ({
    ...record,
    decision: record.decision ? { ...record.decision, candidates: [] } : undefined,
  }));
}

export function simulateOracleRun(world: SimWorld, run: SimRun, sloMs: number): InferenceRecord[] {
  return simulateOracle({ ...base(world, run, sloMs), policy: autoPolicy() }).requests.map(
    (request) => request.record,
  );
}

export interface PolicyResult {
  policy: string;
  /** Metrics by SLO (a static's, the same run scored at each; auto's and the oracle's, one run per SLO). */
  metrics: MetricsBySlo;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------
// The whole-trace grid as tasks, so that it can be spread over processes (bench/adaptive/simWorker.ts)

export interface SimTask {
  trace: string;
  slowdown: number;
  /** "auto", "oracle" or a static candidate's id. */
  policy: string;
}

export interface SimTaskResult extends SimTask {
  metrics: MetricsBySlo;
  seconds: number;
  /** Auto only: its decision timeline at each SLO. */
  timelines?: { sloMs: number; points: TimelinePoint[] }[];
}

export function runSimTask(
  world: SimWorld,
  task: SimTask,
  run: SimRun,
  slos: readonly number[],
): SimTaskResult {
  const started = Date.now();
  if (task.policy === 'auto' || task.policy === 'oracle') {
    const metrics: MetricsBySlo = {};
    const timelines: { sloMs: number; points: TimelinePoint[] }[] = [];
    for (const slo of slos) {
      const records =
        task.policy === 'auto' ? simulateAuto(world, run, slo) : simulateOracleRun(world, run, slo);
      metrics[String(slo)] = metricsBySlo(records, [slo])[String(slo)]!;
      if (task.policy === 'auto')
        timelines.push({
          sloMs: slo,
          points: timelineOf({ requests: records.map((record) => ({ record })) }),
        });
    }
    return {
      ...task,
      metrics,
      seconds: (Date.now() - started) / 1000,
      ...(task.policy === 'auto' ? { timelines } : {}),
    };
  }
  const candidate = world.candidates.find((entry) => candidateId(entry) === task.policy);
  if (!candidate) throw new Error(`no candidate ${task.policy}`);
  const records = simulateStatic(world, run, candidate);
  return { ...task, metrics: metricsBySlo(records, slos), seconds: (Date.now() - started) / 1000 };
}

/** Tasks spread over `shards` by estimated cost (auto ≫ oracle > a static), largest first. */
export function shardTasks<T extends SimTask>(
  tasks: readonly T[],
  shards: number,
  cost: (task: T) => number,
): T[][] {
  const out: T[][] = Array.from({ length: Math.max(1, shards) }, () => []);
  const load = out.map(() => 0);
  for (const task of [...tasks].sort((a, b) => cost(b) - cost(a))) {
    const lightest = load.indexOf(Math.min(...load));
    out[lightest]!.push(task);
    load[lightest]! += cost(task);
  }
  return out.filter((shard) => shard.length > 0);
}
