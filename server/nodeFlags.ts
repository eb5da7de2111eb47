/**
 * The Node flags the tail server runs with, in one place: the npm scripts, the Playwright web
 * server, the test harness and the benchmarks all start it with these (server/nodeFlags.test.ts
 * checks that they do).
 *
 * Why: a hostile client that opens a connection per frame makes garbage faster than V8's default
 * heap policy collects it, and RSS holds the high-water mark. Two policies are at work:
 * - the semi-spaces grow from 1 MB towards their 16 MB default maximum under allocation
 *   pressure: with the 400-frames-per-class fuzz run, RSS rose 21.0–21.8 MB above the warmed-up
 *   baseline with the default and 7.9–8.3 MB with a 2 or 4 MB cap;
 * - the old generation may grow far past the live heap (about 16 MB here) before a full GC: 12,000
 *   churn frames of the "headers" class raised RSS 20.7 MB with the semi-spaces capped alone,
 *   5.1 MB with the growing factor set to 1.1 as well (6.1 MB with --optimize-for-size instead).
 * The live heap after a forced GC stays flat either way. Throughput is unchanged within noise
 * (bench:server, 8 devices, 3 s × 2 slices each, two runs per setting: batching on the main thread
 * 2469 and 2333 against 2400 and 2631 inferences/s; batch 1 1621 and 1640 against 1641 and 1665).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=10'];

/** True when this process was started with the flags (on the command line or in NODE_OPTIONS). */
export function startedWithServerFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  return SERVER_NODE_FLAGS.every((flag) => given.includes(flag));
}
