import { test, expect } from './fixtures';

test('without a WebGPU adapter the page runs on WASM and says why @no-webgpu', async ({ app }) => {
  await app.open();
  await expect(app.testId('status.webgpu-missing')).toContainText(/no adapter|navigator\.gpu is missing/);
  await app.waitUntilReady();
  await expect(app.testId('status.backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(app.testId('status.wasm')).toContainText('cross-origin isolated');
  const snapshot = await app.snapshot();
  expect(snapshot.backend?.kind).toBe('wasm');
  expect(snapshot.webgpu?.available).toBe(false);
  app.expectNoConsoleErrors();
});
