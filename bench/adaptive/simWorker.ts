/**
 * One process's share of the whole-trace simulation grid (bench:adaptive --jobs N):
 *
 *   node --import tsx bench/adaptive/simWorker.ts job.json result.json
 *
 * job.json names the world file, the traces and the tasks; the truth comes from the cache the
 * parent filled. Writes the tasks' results as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { SimJob } from './simJob';
import { runJob } from './simJob';

const [jobFile, resultFile] = process.argv.slice(2);
if (!jobFile || !resultFile) {
  console.error('usage: simWorker.ts job.json result.json');
  process.exit(2);
}
const job = JSON.parse(readFileSync(jobFile, 'utf8')) as SimJob;
runJob(job).then(
  (results) => {
    writeFileSync(resultFile, JSON.stringify(results));
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
