/**
 * Writes the project's own generated uplink traces to traces/*.up (mm-link format).
 *
 *   npx tsx scripts/generate-traces.ts
 *
 * What each trace is comes from src/core/traceGenerator.ts (`shippedTraces`); a unit test checks
 * that the files equal what the generator makes, so edit the generator and rerun this.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { shippedTraces } from '../src/core/traceGenerator';
import { capacityPerStep, formatMahimahiTrace, meanCapacityBps } from '../src/core/uplinkTrace';

const folder = path.resolve('traces');
mkdirSync(folder, { recursive: true });
for (const trace of shippedTraces()) {
  const file = path.join(folder, `${trace.name}.up`);
  writeFileSync(file, formatMahimahiTrace(trace));
  const outages = Array.from(capacityPerStep(trace)).filter((rate) => rate === 0).length;
  console.log(
    `${path.relative(process.cwd(), file)}: ${(trace.periodMs / 1000).toFixed(0)} s, ` +
      `mean ${(meanCapacityBps(trace) / 1000).toFixed(0)} kbit/s, ${outages} s with no capacity`,
  );
}
