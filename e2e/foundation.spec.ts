import { readFileSync } from 'node:fs';
import { softwareAdapterReason } from '../src/backend/capabilities';
import { test, expect } from './fixtures';

test.describe('the page from the real server', () => {
  test('finds a WebGPU adapter, reports it, starts on it unless it is a software one, and is cross-origin isolated', async ({
    app,
    page,
  }) => {
    await app.open();
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      const found = await gpu?.requestAdapter();
      return found
        ? {
            vendor: found.info.vendor,
            architecture: found.info.architecture,
            device: found.info.device,
            description: found.info.description,
            isFallbackAdapter:
              (found.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
          }
        : null;
    });
    expect(adapter, 'navigator.gpu.requestAdapter() returned no adapter').not.toBeNull();
    await expect(app.testId('status.adapter')).toContainText(adapter!.vendor);
    await expect(app.testId('status.adapter')).toContainText(adapter!.architecture);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await app.waitUntilReady();
    // A software adapter (SwiftShader, as here) is found and reported, but the page starts on WASM.
    const software = softwareAdapterReason(adapter!) !== null;
    await expect(app.testId('status.backend')).toHaveAttribute('data-backend', software ? 'wasm' : 'webgpu');
    app.expectNoConsoleErrors();
  });

  test('serves the isolation headers on the page and on the WASM files', async ({ request }) => {
    const page = await request.get('/');
    expect(page.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    const { version } = JSON.parse(readFileSync('node_modules/onnxruntime-web/package.json', 'utf8')) as {
      version: string;
    };
    const wasm = await request.head(`/ort-${version}/ort-wasm-simd-threaded.jsep.wasm`);
    expect(wasm.ok()).toBe(true);
    expect(wasm.headers()['content-type']).toBe('application/wasm');
    expect(wasm.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    expect(wasm.headers()['cross-origin-resource-policy']).toBe('same-origin');
    const health = await request.get('/healthz');
    expect(health.ok()).toBe(true);
  });
});
