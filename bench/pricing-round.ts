/**
 * What one pricing round costs: auto prices every candidate (~150) several times a second on the
 * page's main thread. This runs a simulated auto (bench/adaptive-diagnose.ts, same arguments),
 * keeps the cost model and context of a late round, and prices that round 30 times more.
 * The round's predictions go to /tmp/price-ref.json the first time (or with NEWREF=1), and later
 * runs say whether theirs are identical, so a speed-up can be shown to change nothing.
 *
 *   npx tsx bench/pricing-round.ts --trace ../shared/traces/TMobile-UMTS-driving.up --world W.json --no-oracle --seconds 30
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CostModel, type Candidate, type PredictionContext } from '../src/core/costModel';

const predictAll = CostModel.prototype.predictAll;
const captured: { model: CostModel; candidates: readonly Candidate[]; context: PredictionContext }[] = [];
let calls = 0;
CostModel.prototype.predictAll = function (candidates, context) {
  calls++;
  if (calls % 40 === 0 && candidates.length > 100)
    captured.push({ model: this, candidates, context: structuredClone(context) });
  return predictAll.call(this, candidates, context);
};
process.on('exit', () => {
  CostModel.prototype.predictAll = predictAll;
  const last = captured.at(-1);
  if (!last) return console.log('no round of more than 100 candidates was priced');
  const { model, candidates, context } = last;
  const out = JSON.stringify(model.predictAll(candidates, context));
  const reference = '/tmp/price-ref.json';
  if (!existsSync(reference) || process.env.NEWREF) writeFileSync(reference, out);
  else console.log(`identical to ${reference}: ${readFileSync(reference, 'utf8') === out}`);
  const times: number[] = [];
  for (let round = 0; round < 30; round++) {
    const startedAt = performance.now();
    model.predictAll(candidates, context);
    times.push(performance.now() - startedAt);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${candidates.length} candidates: median ${times[15]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)}, max ${times.at(-1)!.toFixed(2)}`,
  );
});
await import('./adaptive-diagnose');
