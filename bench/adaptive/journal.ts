/**
 * The live grid as a journal: every finished live run is appended to a JSON-lines file, and a run
 * whose key is already there is read back instead of run again. The default grid is about 2 h 40 min
 * of Chromium time, longer than one sitting on this machine, so it is measured in parts
 * (`--live-minutes`) and the report is written by the invocation that finds every run journaled.
 *
 * The first line is a header naming the experiment (code, bundle, request size, first image, seed,
 * backend): resuming with another would mix two experiments in one table, so it is refused. Each
 * sitting adds the world (device, server and link costs) it measured before its runs, and each run
 * names the world it was simulated with.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface JournalHeader {
  kind: 'header';
  bundle: string;
  imagesPerRequest: number;
  startIndex: number;
  seed: number;
  backend: string;
  /**
   * The app, tail and models that ran: git tree hashes of src, server and public/models. A run made
   * with another policy or cost model is another experiment, so a journal does not outlive a change.
   */
  code: string;
  createdAt: string;
}

/** What makes two sittings the same experiment. */
export type Identity = Omit<JournalHeader, 'kind' | 'createdAt'>;

/**
 * The costs measured at the start of a sitting, that its live runs were simulated with: the
 * machine is shared, and its device and server times move between sittings.
 */
export interface SittingWorld<World> {
  kind: 'world';
  worldSha256: string;
  measuredAt: string;
  source: string;
  world: World;
}

export interface RunKey {
  trace: string;
  offsetMs: number;
  durationMs: number;
  slowdown: number;
  policy: string;
  sloMs: number | null;
}

export interface JournalEntry<Run> {
  kind: 'run';
  key: string;
  /** When the run finished and the load around it: runs of one report may come from several sittings. */
  finishedAt: string;
  loadAverage: number[];
  run: Run;
}

export function runKey(key: RunKey): string {
  return [key.trace, key.offsetMs, key.durationMs, key.slowdown, key.policy, key.sloMs ?? 'any'].join('|');
}

/** The git trees of what the live runs execute, refused when they have uncommitted changes. */
export function codeIdentity(
  paths: readonly string[] = ['src', 'server', 'public/models'],
  cwd = process.cwd(),
): string {
  const dirty = spawnSync('git', ['status', '--porcelain', '--', ...paths], { encoding: 'utf8', cwd });
  if (dirty.status !== 0) throw new Error(`git status failed: ${dirty.stderr.trim()}`);
  if (dirty.stdout.trim() !== '')
    throw new Error(
      `a journaled run needs committed code; uncommitted changes in:\n${dirty.stdout.trimEnd()}`,
    );
  return paths
    .map((entry) => {
      const tree = spawnSync('git', ['rev-parse', `HEAD:${entry}`], { encoding: 'utf8', cwd });
      if (tree.status !== 0) throw new Error(`git rev-parse HEAD:${entry} failed: ${tree.stderr.trim()}`);
      return `${entry}@${tree.stdout.trim().slice(0, 12)}`;
    })
    .join(' ');
}

export function worldSha256(world: unknown): string {
  return createHash('sha256').update(JSON.stringify(world)).digest('hex');
}

export interface ParsedJournal<Run, World = unknown> {
  header: JournalHeader | null;
  entries: Map<string, JournalEntry<Run>>;
  worlds: SittingWorld<World>[];
  /** A last line cut short (the process was killed while writing it): dropped, the run is redone. */
  droppedTail: boolean;
}

export function parseJournal<Run, World = unknown>(
  text: string,
  source = 'journal',
): ParsedJournal<Run, World> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let header: JournalHeader | null = null;
  const entries = new Map<string, JournalEntry<Run>>();
  const worlds: SittingWorld<World>[] = [];
  let droppedTail = false;
  lines.forEach((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (index === lines.length - 1) {
        droppedTail = true;
        return;
      }
      throw new Error(`${source}:${index + 1}: not JSON; the journal is damaged before its last line`);
    }
    const record = value as { kind?: unknown; key?: unknown };
    if (index === 0) {
      if (record.kind !== 'header') throw new Error(`${source}:1: the first line is not the journal header`);
      header = value as JournalHeader;
      return;
    }
    if (record.kind === 'world') {
      worlds.push(value as SittingWorld<World>);
      return;
    }
    if (record.kind !== 'run' || typeof record.key !== 'string')
      throw new Error(`${source}:${index + 1}: neither a run, a world nor the header`);
    // A key run twice (two sittings racing) keeps the later run.
    entries.set(record.key, value as JournalEntry<Run>);
  });
  return { header, entries, worlds, droppedTail };
}

export function identityMismatch(header: JournalHeader, identity: Identity): string[] {
  const problems: string[] = [];
  for (const field of Object.keys(identity) as (keyof Identity)[])
    if (header[field] !== identity[field])
      problems.push(`${field} differs (journal ${String(header[field])}, now ${String(identity[field])})`);
  return problems;
}

export class LiveJournal<Run, World = unknown> {
  private constructor(
    readonly file: string,
    readonly header: JournalHeader,
    private readonly entries: Map<string, JournalEntry<Run>>,
    private readonly sittingWorlds: SittingWorld<World>[],
    readonly droppedTail: boolean,
  ) {}

  /**
   * Opens the journal at `file`, creating it with this header when it does not exist. A journal
   * of another experiment (code, bundle, request size, first image, seed, backend) is an error
   * that names what differs; nothing in it is touched.
   */
  static open<Run, World = unknown>(
    file: string,
    identity: Identity,
    now = new Date(),
  ): LiveJournal<Run, World> {
    if (existsSync(file)) {
      const parsed = parseJournal<Run, World>(readFileSync(file, 'utf8'), file);
      if (!parsed.header)
        throw new Error(`${file}: empty journal without a header; delete it to start again`);
      const problems = identityMismatch(parsed.header, identity);
      if (problems.length > 0)
        throw new Error(
          `${file} is another experiment: ${problems.join('; ')}. Use another --journal or delete it.`,
        );
      if (parsed.droppedTail) {
        // Rewrite without the cut line, so the next append starts on a line of its own.
        const kept = [parsed.header, ...parsed.worlds, ...parsed.entries.values()].map((line) =>
          JSON.stringify(line),
        );
        writeFileSync(file, kept.join('\n') + '\n');
      }
      return new LiveJournal(file, parsed.header, parsed.entries, parsed.worlds, parsed.droppedTail);
    }
    const header: JournalHeader = { kind: 'header', ...identity, createdAt: now.toISOString() };
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(header) + '\n');
    return new LiveJournal(file, header, new Map(), [], false);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The sitting worlds in the order they were measured. */
  get worlds(): readonly SittingWorld<World>[] {
    return this.sittingWorlds;
  }

  get(key: RunKey): JournalEntry<Run> | undefined {
    return this.entries.get(runKey(key));
  }

  /** Keeps a sitting's world; the same world twice (a sitting that read it) is kept once. */
  recordWorld(world: World, source: string, now = new Date()): SittingWorld<World> {
    const hash = worldSha256(world);
    const known = this.sittingWorlds.find((entry) => entry.worldSha256 === hash);
    if (known) return known;
    const entry: SittingWorld<World> = {
      kind: 'world',
      worldSha256: hash,
      measuredAt: now.toISOString(),
      source,
      world,
    };
    appendFileSync(this.file, JSON.stringify(entry) + '\n');
    this.sittingWorlds.push(entry);
    return entry;
  }

  append(key: RunKey, run: Run, loadAverage: number[], now = new Date()): JournalEntry<Run> {
    const entry: JournalEntry<Run> = {
      kind: 'run',
      key: runKey(key),
      finishedAt: now.toISOString(),
      loadAverage: loadAverage.map((value) => Math.round(value * 100) / 100),
      run,
    };
    appendFileSync(this.file, JSON.stringify(entry) + '\n');
    this.entries.set(entry.key, entry);
    return entry;
  }
}
