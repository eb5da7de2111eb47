/**
 * Starts the real tail server (server/index.ts, serving the built dist/) as a child process, for
 * specs that must stop and restart it and for the end-to-end benchmark.
 */
import { SERVER_NODE_FLAGS } from '../server/nodeFlags';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Resolves once /healthz answers. Node itself, not npx: killing the child must kill the server.
 * Serves the build Playwright's webServer made (SPLITSCOPE_E2E_DIST, default dist/).
 */
export async function startTailServer(
  port: number,
  output: 'inherit' | 'ignore' = 'ignore',
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...SERVER_NODE_FLAGS,
      '--import',
      'tsx',
      'server/index.ts',
      '--port',
      String(port),
      '--static',
      process.env['SPLITSCOPE_E2E_DIST'] ?? 'dist',
      '--log-level',
      'warn',
    ],
    { stdio: output },
  );
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://localhost:${port}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the tail server on port ${port} did not start`);
}

/** Resolves with the exit code once the child has exited, or null if it is still running after timeoutMs. */
export function exitCodeWithin(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}
