/**
 * The whole-trace simulation grid as a job: everything a process needs to run its tasks (world
 * file, traces, link, SLOs), run inline or spread over child processes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { throttleSchedule } from '../../src/core/cdpThrottle';
import { allCandidates } from '../../src/core/costModel';
import type { ModelManifest } from '../../src/core/manifest';
import { expectedAccuracies } from '../../src/core/policy';
import { parseMahimahiTrace, TraceLink, type UplinkTrace } from '../../src/core/uplinkTrace';
import { scheduleLink } from './links';
import { runSimTask, shardTasks, type SimTask, type SimTaskResult, type SimWorld } from './simulate';
import { loadTruth } from './truth';
import { measuredWorld, type WorldJson } from './world';

export interface SimJob {
  worldFile: string;
  cacheDir: string;
  traces: { name: string; source: string }[];
  link: 'cdp' | 'mm-link';
  imagesPerRequest: number;
  seed: number;
  startIndex: number;
  slos: number[];
  tasks: SimTask[];
}

export async function runJob(
  job: SimJob,
  onResult?: (result: SimTaskResult) => void,
): Promise<SimTaskResult[]> {
  const manifest = JSON.parse(readFileSync('public/models/fmnist/manifest.json', 'utf8')) as ModelManifest;
  const { truth } = await loadTruth({
    bundleDir: 'public/models/fmnist',
    tailsDir: 'server/models/fmnist',
    cacheDir: job.cacheDir,
    webpQuality: 50,
  });
  const loaded = JSON.parse(readFileSync(job.worldFile, 'utf8')) as { world?: WorldJson } & WorldJson;
  const worldJson = loaded.world ?? loaded;
  const candidates = allCandidates(manifest, 50);
  const accuracy = expectedAccuracies(manifest);
  const worlds = new Map<number, SimWorld>();
  const worldAt = (slowdown: number): SimWorld => {
    let world = worlds.get(slowdown);
    if (!world) {
      world = {
        candidates,
        accuracy,
        manifest,
        world: measuredWorld(worldJson, slowdown),
        truth,
        imagesPerRequest: job.imagesPerRequest,
        seed: job.seed,
      };
      worlds.set(slowdown, world);
    }
    return world;
  };
  const traces = new Map<string, UplinkTrace>(
    job.traces.map(({ name, source }) => [name, parseMahimahiTrace(readFileSync(source, 'utf8'), name)]),
  );
  const results: SimTaskResult[] = [];
  for (const task of job.tasks) {
    const trace = traces.get(task.trace);
    if (!trace) throw new Error(`no trace ${task.trace}`);
    const makeLink =
      job.link === 'mm-link' ? () => new TraceLink(trace) : scheduleLink(throttleSchedule(trace));
    const result = runSimTask(
      worldAt(task.slowdown),
      task,
      { makeLink, durationMs: trace.periodMs, slowdown: task.slowdown, firstImage: job.startIndex },
      job.slos,
    );
    results.push(result);
    onResult?.(result);
  }
  return results;
}

/**
 * Rough relative cost of a task, for sharding (measured here: auto prices every candidate 4× a
 * second; a static costs per request, and at 1× its requests are shorter, so there are more).
 */
export function taskCost(task: SimTask, traceSeconds: number, slos: number): number {
  if (task.policy === 'auto') return 14 * slos * traceSeconds;
  if (task.policy === 'oracle') return 8 * slos * traceSeconds;
  return (task.slowdown <= 1 ? 2 : 1) * traceSeconds;
}

/** Runs the job in `jobs` child processes (inline when 1), reporting each result as it comes. */
export async function runJobParallel(
  job: SimJob,
  jobs: number,
  traceSeconds: (name: string) => number,
  onResult: (result: SimTaskResult) => void,
  /** Workers run under `nice -n` this (0: as this process), so other work on the machine keeps its share. */
  niceness = 0,
): Promise<SimTaskResult[]> {
  if (jobs <= 1 && niceness === 0) return runJob(job, onResult);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'splitscope-adaptive-'));
  try {
    const shards = shardTasks(job.tasks, jobs, (task) =>
      taskCost(task, traceSeconds(task.trace), job.slos.length),
    );
    const parts = await Promise.all(
      shards.map(
        (tasks, i) =>
          new Promise<SimTaskResult[]>((resolve, reject) => {
            const jobFile = path.join(dir, `job-${i}.json`);
            const resultFile = path.join(dir, `result-${i}.json`);
            writeFileSync(jobFile, JSON.stringify({ ...job, tasks }));
            const args = ['--import', 'tsx', 'bench/adaptive/simWorker.ts', jobFile, resultFile];
            const child =
              niceness > 0
                ? spawn('nice', ['-n', String(niceness), process.execPath, ...args], {
                    stdio: ['ignore', 'inherit', 'inherit'],
                  })
                : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
            child.on('error', reject);
            child.on('exit', (code) => {
              if (code !== 0) return reject(new Error(`simulation worker ${i} exited with ${code}`));
              const results = JSON.parse(readFileSync(resultFile, 'utf8')) as SimTaskResult[];
              for (const result of results) onResult(result);
              resolve(results);
            });
          }),
      ),
    );
    return parts.flat();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
