#!/usr/bin/env node
// Runs every suite the project has (lint, unit + server integration, the Python pipeline,
// the browser end-to-end specs) and closes with one line that counts them all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const results = 'test-results';
mkdirSync(results, { recursive: true });
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);

const suites = [];

function run(name, command, args, env = {}) {
  console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const child = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return { status: child.status ?? 1, seconds, error: child.error };
}

function record(name, outcome, counts) {
  suites.push({ name, ok: outcome.status === 0 && counts.failed === 0, seconds: outcome.seconds, ...counts });
}

if (wanted('lint')) {
  const outcome = run('lint', 'npm', ['run', '--silent', 'lint']);
  // Lint is a gate, not a test count: a failure shows as one failed check.
  record('lint', outcome, {
    passed: outcome.status === 0 ? 1 : 0,
    failed: outcome.status === 0 ? 0 : 1,
    skipped: 0,
  });
}

if (wanted('unit')) {
  const report = `${results}/vitest.json`;
  rmSync(report, { force: true });
  const outcome = run('unit + server (vitest)', 'npx', [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
  ]);
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    counts = {
      passed: json.numPassedTests,
      failed: json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0),
      skipped: json.numPendingTests + json.numTodoTests,
    };
  }
  record('unit + server (vitest)', outcome, counts);
}

if (wanted('python') && existsSync('training/tests')) {
  const report = `${results}/pytest.xml`;
  rmSync(report, { force: true });
  const outcome = run('python pipeline (pytest)', '/usr/bin/python3', [
    '-m',
    'pytest',
    '-q',
    '-p',
    'no:cacheprovider',
    `--junitxml=${report}`,
    'training/tests',
  ]);
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (existsSync(report)) {
    const xml = readFileSync(report, 'utf8');
    const attribute = (key) => Number(new RegExp(`<testsuite[^>]*\\s${key}="(\\d+)"`).exec(xml)?.[1] ?? 0);
    const total = attribute('tests');
    const failed = attribute('failures') + attribute('errors');
    const skipped = attribute('skipped');
    counts = { passed: total - failed - skipped, failed, skipped };
  }
  record('python pipeline (pytest)', outcome, counts);
}

if (wanted('e2e')) {
  const report = `${results}/e2e-report.json`;
  rmSync(report, { force: true });
  const outcome = run('end-to-end (playwright, chromium)', 'npx', ['playwright', 'test']);
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (existsSync(report)) {
    const { stats } = JSON.parse(readFileSync(report, 'utf8'));
    counts = { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
  }
  record('end-to-end (playwright, chromium)', outcome, counts);
}

console.log('\n=== summary');
for (const suite of suites) {
  const mark = suite.ok ? 'ok  ' : 'FAIL';
  console.log(
    `${mark} ${suite.name.padEnd(36)} ${suite.passed} passed, ${suite.failed} failed, ${suite.skipped} skipped (${suite.seconds} s)`,
  );
}
const total = (key) => suites.reduce((sum, suite) => sum + suite[key], 0);
const failedSuites = suites.filter((suite) => !suite.ok).length;
console.log(`\n${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
process.exit(failedSuites === 0 ? 0 : 1);
