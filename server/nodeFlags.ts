/**
 * The Node flags the tail server runs with, in one place: the npm scripts, the Playwright web
 * server, the test harness and the benchmarks all start it with these (server/nodeFlags.test.ts
 * checks that they do).
 *
 * Why a small young generation: under connection churn (the fuzz suite, many phones connecting)
 * V8 grows its semi-spaces from 1 MB towards their 16 MB default maximum, and the process keeps
 * that memory: measured with the 400-frames-per-class fuzz run, RSS rose 21.0–21.8 MB above the
 * warmed-up baseline with the default and 7.9–8.3 MB with a 2 or 4 MB cap, while the live heap
 * stayed flat. Throughput is unchanged within noise (bench:server, 8 devices, batching: 1870
 * against 1964 inferences/s, 0.463 server CPU ms per inference either way).
 */
export const SEMI_SPACE_MB = 4;
export const SERVER_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${SEMI_SPACE_MB}`];

/** True when this process was started with the flags (on the command line or in NODE_OPTIONS). */
export function startedWithServerFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  return SERVER_NODE_FLAGS.every((flag) => given.includes(flag));
}
