/**
 * Starts the real tail server (server/index.ts, serving the built dist/) as a child process, for
 * specs that must stop and restart it and for the end-to-end benchmark.
 */
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

/** Resolves once /healthz answers. Node itself, not npx: killing the child must kill the server. */
export async function startTailServer(
  port: number,
  output: 'inherit' | 'ignore' = 'ignore',
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/index.ts', '--port', String(port), '--log-level', 'warn'],
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
