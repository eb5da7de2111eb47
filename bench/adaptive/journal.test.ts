import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeIdentity, LiveJournal, parseJournal, runKey, worldSha256, type RunKey } from './journal';

const identity = {
  bundle: 'fmnist@abc',
  imagesPerRequest: 16,
  startIndex: 0,
  seed: 1,
  backend: 'wasm',
  code: 'src@abc server@def',
};
const world = { deviceMs: { 'full@16': 300 }, serverMs: { 'tail-c4@16': 4 } };
const key: RunKey = {
  trace: 'TMobile-UMTS-driving',
  offsetMs: 0,
  durationMs: 120_000,
  slowdown: 8,
  policy: 'auto',
  sloMs: 150,
};

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journal-'));
  file = path.join(dir, 'nested', 'journal.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LiveJournal', () => {
  it('reads back a run appended in an earlier sitting, and only under its own key', () => {
    const first = LiveJournal.open<{ onTime: number }>(file, identity);
    first.append(key, { onTime: 0.9 }, [1.234, 1, 0.5], new Date('2026-12-06T21:00:00Z'));
    const again = LiveJournal.open<{ onTime: number }>(file, identity);
    expect(again.size).toBe(1);
    expect(again.get(key)).toMatchObject({
      run: { onTime: 0.9 },
      finishedAt: '2026-12-06T21:00:00.000Z',
      loadAverage: [1.23, 1, 0.5],
    });
    expect(again.get({ ...key, sloMs: 400 })).toBeUndefined();
    expect(again.get({ ...key, slowdown: 1 })).toBeUndefined();
  });

  it("keeps each sitting's world once, in the order measured, beside the runs", () => {
    const journal = LiveJournal.open<{ onTime: number }, typeof world>(file, identity);
    const monday = journal.recordWorld(world, 'measured now', new Date('2026-12-06T21:00:00Z'));
    expect(journal.recordWorld(world, 'read again')).toBe(monday);
    journal.append(key, { onTime: 0.9 }, [0, 0, 0]);
    const slower = { ...world, deviceMs: { 'full@16': 450 } };
    journal.recordWorld(slower, 'measured now', new Date('2026-12-07T09:00:00Z'));
    const again = LiveJournal.open<{ onTime: number }, typeof world>(file, identity);
    expect(again.worlds.map((entry) => [entry.measuredAt, entry.world.deviceMs['full@16']])).toEqual([
      ['2026-12-06T21:00:00.000Z', 300],
      ['2026-12-07T09:00:00.000Z', 450],
    ]);
    expect(again.worlds[0]!.worldSha256).toBe(worldSha256(world));
    expect(again.size).toBe(1);
  });

  it('refuses a journal of another experiment and names what differs, leaving it as it was', () => {
    LiveJournal.open(file, identity).append(key, { onTime: 0.9 }, [0, 0, 0]);
    const before = readFileSync(file, 'utf8');
    expect(() => LiveJournal.open(file, { ...identity, imagesPerRequest: 8 })).toThrow(
      /another experiment: imagesPerRequest differs \(journal 16, now 8\)/,
    );
    expect(() => LiveJournal.open(file, { ...identity, code: 'src@123 server@def' })).toThrow(/code differs/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('drops a last line cut short by a kill, keeps every whole line and appends on a fresh one', () => {
    const journal = LiveJournal.open(file, identity);
    journal.recordWorld(world, 'measured now');
    journal.append(key, { onTime: 0.9 }, [0, 0, 0]);
    appendFileSync(file, '{"kind":"run","key":"TMobile|0|120000|1|auto|4');
    const resumed = LiveJournal.open<{ onTime: number }>(file, identity);
    expect(resumed.droppedTail).toBe(true);
    expect(resumed.size).toBe(1);
    resumed.append({ ...key, sloMs: 400 }, { onTime: 0.95 }, [0, 0, 0]);
    const last = LiveJournal.open(file, identity);
    expect(last.size).toBe(2);
    expect(last.worlds).toHaveLength(1);
  });

  it('calls a damaged line before the last one an error rather than guess', () => {
    writeFileSync(
      file.replace('nested/', ''),
      '{"kind":"header"}\nnot json\n{"kind":"run","key":"k","run":1}\n',
    );
    expect(() => parseJournal(readFileSync(file.replace('nested/', ''), 'utf8'), 'j')).toThrow(
      /j:2: not JSON; the journal is damaged before its last line/,
    );
    expect(() => parseJournal('{"kind":"run","key":"k"}\n')).toThrow(/first line is not the journal header/);
  });

  it('names the committed trees of the code the runs execute, and refuses uncommitted code', () => {
    const repo = path.join(dir, 'repo');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], {
        cwd: repo,
        encoding: 'utf8',
      });
    mkdirSync(path.join(repo, 'src'), { recursive: true });
    mkdirSync(path.join(repo, 'server'));
    writeFileSync(path.join(repo, 'src', 'policy.ts'), 'export const margin = 1;\n');
    writeFileSync(path.join(repo, 'server', 'index.ts'), 'export {};\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'first');
    const first = codeIdentity(['src', 'server'], repo);
    expect(first).toMatch(/^src@[0-9a-f]{12} server@[0-9a-f]{12}$/);
    writeFileSync(path.join(repo, 'src', 'policy.ts'), 'export const margin = 2;\n');
    expect(() => codeIdentity(['src', 'server'], repo)).toThrow(/uncommitted changes in:\n M src\/policy.ts/);
    git('commit', '-qam', 'second');
    const second = codeIdentity(['src', 'server'], repo);
    expect(second.split(' ')[0]).not.toBe(first.split(' ')[0]);
    expect(second.split(' ')[1]).toBe(first.split(' ')[1]);
  });

  it('gives distinct keys to distinct runs (property)', () => {
    const keyArb = fc.record({
      trace: fc.constantFrom('TMobile-UMTS-driving', 'Verizon-LTE-short', 'markov-onoff'),
      offsetMs: fc.integer({ min: 0, max: 900_000 }),
      durationMs: fc.constantFrom(30_000, 120_000),
      slowdown: fc.constantFrom(1, 8),
      policy: fc.constantFrom('auto', 'static on-device', 'static c4-b4'),
      sloMs: fc.option(fc.constantFrom(150, 400), { nil: null }),
    });
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        expect(runKey(a) === runKey(b)).toBe(same);
      }),
    );
  });
});
