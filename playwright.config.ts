import { defineConfig } from '@playwright/test';

/** The port the e2e server listens on; tests reach the app only through it. */
export const E2E_PORT = Number(process.env.SPLITSCOPE_E2E_PORT ?? 4319);
/**
 * Where the e2e build and the test results go; separate values let two runs share a checkout
 * without overwriting each other's bundle.
 */
const e2eDist = process.env.SPLITSCOPE_E2E_DIST ?? 'dist';
const e2eOutput = process.env.SPLITSCOPE_E2E_OUTPUT ?? 'test-results';

// Debian's Chromium: Playwright's own browser download cannot run on a machine without internet.
const chromiumPath = process.env.SPLITSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const baseArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
export const webgpuArgs = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export default defineConfig({
  testDir: 'e2e',
  outputDir: e2eOutput,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: `${e2eOutput}/e2e-report.json` }]],
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: chromiumPath, args: [...baseArgs, ...webgpuArgs] },
  },
  projects: [
    { name: 'chromium-webgpu', grepInvert: /@no-webgpu/ },
    {
      // Chromium without the WebGPU switches: navigator.gpu exists but finds no adapter here.
      name: 'chromium-no-webgpu',
      grep: /@no-webgpu/,
      use: { launchOptions: { executablePath: chromiumPath, args: baseArgs } },
    },
  ],
  webServer: {
    command: `npx vite build --logLevel warn --outDir ${e2eDist} && node --max-semi-space-size=4 --heap-growing-percent=10 --import tsx server/index.ts --port ${E2E_PORT} --static ${e2eDist}`,
    url: `http://localhost:${E2E_PORT}/healthz`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
