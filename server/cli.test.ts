/** server/index.ts as a person runs it: prints the URLs, serves /healthz, fails fast on a bad bundle. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/helpers';

function run(args: string[]): { output: () => string; exited: Promise<number | null>; kill: () => void } {
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(REPO_ROOT, 'server/index.ts'), ...args],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return {
    output: () => output,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    kill: () => child.kill('SIGTERM'),
  };
}

async function until(predicate: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('server/index.ts', () => {
  it('listens, prints its URL and answers /healthz; exits cleanly on SIGTERM', async () => {
    const server = run([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-static',
      '--public-models',
      '/nonexistent',
      '--log-level',
      'info',
    ]);
    try {
      await until(() => /local: +http:\/\/localhost:\d+\//.test(server.output()), 20_000);
      const port = Number(/localhost:(\d+)/.exec(server.output())![1]);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await res.json()).toMatchObject({ ok: true, bundle: null });
      expect(server.output()).toMatch(/no model bundle at \/nonexistent/);
    } finally {
      server.kill();
    }
    expect(await server.exited).toBe(0);
  });

  it('--help documents the origin allow-list, WebSocket only and graceful shutdown; a bad --allow-origin exits 1', async () => {
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/--allow-origin ORIGIN/);
    expect(help.output()).toMatch(/WebSocket only: long-polling is switched off/);
    expect(help.output()).toMatch(/SIGTERM or SIGINT shut down gracefully/);
    const bad = run([
      '--port',
      '0',
      '--no-static',
      '--public-models',
      '/nonexistent',
      '--allow-origin',
      'evil',
    ]);
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/--allow-origin must be an origin such as http:\/\/host:port, got "evil"/);
  });

  it('exits 1 with a clear message when --require-models finds no bundle', async () => {
    const server = run(['--port', '0', '--no-static', '--require-models', '--public-models', '/nonexistent']);
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/model manifest not found: \/nonexistent\/manifest\.json/);
  });
});
