/**
 * Measures (--write) or checks (default) a model bundle's accuracy table by running its ONNX files.
 *
 *   npx tsx server/eval/evalModels.ts [--bundle public/models/fmnist] [--tails server/models/fmnist]
 *        [--data public/data/fashion-mnist] [--write] [--limit N] [--batch 500] [--threads 2] [--json FILE]
 *        [--webp 50]
 *
 * --write   measure on the test images and write the accuracies into manifest.json: the full model,
 *           every level × bit-width, the exits, every split × bit-width × exit threshold (splitWithExit)
 *           and WebP offload (webpOffload)
 * --webp    comma-separated WebP qualities to measure offload at (default: the page's default
 *           quality, DEFAULT_SETTINGS.webpQuality; "" for none)
 * default   recompute and compare with the manifest: ±0.05 points when the manifest was measured on
 *           the same number of images; with --limit N on a 10k manifest, a statistical bound (the
 *           quick form). Exit status 1 on any mismatch or broken file, with a table.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SETTINGS } from '../../src/app/settings.ts';
import {
  MANIFEST_SCHEMA_VERSION,
  measuredConfigProblems,
  type ModelManifest,
} from '../../src/core/manifest.ts';
import { applyResults, compare, evaluateBundle } from './evaluate.ts';
import { DEFAULT_DATA_DIR, loadTestSet } from './testSet.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : 'n/a');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      bundle: { type: 'string', default: 'public/models/fmnist' },
      tails: { type: 'string', default: 'server/models/fmnist' },
      data: { type: 'string', default: DEFAULT_DATA_DIR },
      write: { type: 'boolean', default: false },
      limit: { type: 'string' },
      batch: { type: 'string', default: '500' },
      threads: { type: 'string', default: '2' },
      json: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      webp: { type: 'string', default: String(DEFAULT_SETTINGS.webpQuality) },
    },
  });
  const manifestPath = path.join(values.bundle!, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as ModelManifest;
  if (manifest.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    console.error(
      `${manifestPath}: schemaVersion ${manifest.schemaVersion}, expected ${MANIFEST_SCHEMA_VERSION}`,
    );
    return 1;
  }
  const malformed = measuredConfigProblems(manifest);
  if (malformed.length && !values.write) {
    for (const p of malformed) console.error(`${manifestPath}: ${p}`);
    return 1;
  }
  const webpQualities = values
    .webp!.split(',')
    .filter((q) => q.trim() !== '')
    .map(Number);
  if (webpQualities.some((q) => !(Number.isInteger(q) && q >= 1 && q <= 100))) {
    console.error(`--webp must list integer qualities in 1..100, got ${values.webp}`);
    return 2;
  }
  const limit = values.limit !== undefined ? Number(values.limit) : undefined;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    console.error(`--limit must be a positive integer, got ${values.limit}`);
    return 2;
  }
  const started = Date.now();
  const test = await loadTestSet(values.data!, limit);
  const log = values.quiet ? () => {} : (line: string) => console.log(line);
  log(`evaluating ${manifestPath} on ${test.count} test images (onnxruntime-node)`);
  const result = await evaluateBundle(manifest, test, {
    bundleDir: values.bundle!,
    tailsDir: values.tails!,
    batchSize: Number(values.batch),
    threads: Number(values.threads),
    webpQualities,
    log,
  });
  if (values.json) {
    const { predictions: _omit, ...rest } = result;
    await fs.writeFile(values.json, JSON.stringify(rest, null, 2) + '\n');
  }
  if (result.problems.length) {
    for (const p of result.problems) console.error(`problem: ${p}`);
    return 1;
  }
  if (values.write) {
    applyResults(manifest, result);
    await fs.writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    console.log(
      `wrote the measured accuracies into ${manifestPath} (${((Date.now() - started) / 1000).toFixed(1)}s)`,
    );
    return 0;
  }
  const rows = compare(manifest, result);
  const bad = rows.filter((r) => !r.ok);
  const show = bad.length ? rows : values.quiet ? [] : rows;
  if (show.length) {
    console.log(
      [
        'config'.padEnd(24),
        'manifest'.padStart(9),
        'measured'.padStart(9),
        'n'.padStart(6),
        'tol'.padStart(7),
        '',
      ].join(' '),
    );
    for (const r of show) {
      console.log(
        [
          r.config.padEnd(24),
          pct(r.manifest).padStart(9),
          pct(r.measured).padStart(9),
          String(r.measuredTotal).padStart(6),
          `±${(r.tolerance * 100).toFixed(2)}`.padStart(7),
          r.ok ? 'ok' : 'MISMATCH',
        ].join(' '),
      );
    }
  }
  const form =
    limit !== undefined && limit < manifest.full.accuracy.total
      ? `quick form, ${test.count} images`
      : `${test.count} images`;
  if (bad.length) {
    console.error(`${bad.length} of ${rows.length} figures disagree with ${manifestPath} (${form})`);
    return 1;
  }
  console.log(
    `all ${rows.length} figures agree with ${manifestPath} (${form}, ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
