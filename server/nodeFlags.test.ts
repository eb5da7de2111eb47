import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, startedWithServerFlags } from './nodeFlags';
import { REPO_ROOT } from './testing/helpers';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

describe('the tail server is started with its Node flags everywhere', () => {
  const flags = SERVER_NODE_FLAGS.join(' ');

  it('by npm start and npm run serve', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'serve'])
      expect(scripts[name], name).toContain(`node ${flags} --import tsx server/index.ts`);
  });

  it('by the Playwright web server and every harness that spawns it', () => {
    expect(read('playwright.config.ts')).toContain(`node ${flags} --import tsx server/index.ts`);
    for (const file of ['server/testing/hostile.ts', 'e2e/tailServer.ts', 'bench/server.ts'])
      expect(read(file), file).toMatch(/\.\.\.SERVER_NODE_FLAGS,\s*'--import',\s*'tsx'/);
  });

  it('knows whether this process has them, from the command line or NODE_OPTIONS', () => {
    expect(startedWithServerFlags([...SERVER_NODE_FLAGS], '')).toBe(true);
    expect(startedWithServerFlags([], `--inspect ${flags}`)).toBe(true);
    expect(startedWithServerFlags(['--import', 'tsx'], '')).toBe(false);
    expect(startedWithServerFlags([], '--max-semi-space-size=16')).toBe(false);
  });
});
