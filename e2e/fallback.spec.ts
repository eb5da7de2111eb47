import { test, expect, useBackend } from './fixtures';

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

test('on the SwiftShader adapter the page starts on WASM, says why, and WebGPU is one click away', async ({
  app,
}) => {
  test.setTimeout(300_000);
  await app.open();
  await app.waitUntilReady(240_000);
  await expect(app.testId('status.adapter')).toContainText(/swiftshader/i);
  await expect(app.testId('status.backend')).toHaveAttribute('data-backend', 'wasm');
  const reason = app.testId('status.backend-reason');
  await expect(reason).toContainText('WASM by default');
  // SwiftShader reports itself as a fallback adapter, which the reason names before its vendor.
  await expect(reason).toContainText(
    /fallback adapter \(isFallbackAdapter\)|software renderer \(swiftshader\)/i,
  );
  await expect(reason).toContainText('one click away');
  const snapshot = await app.snapshot();
  expect(snapshot.backend?.kind).toBe('wasm');
  expect(snapshot.webgpu?.available).toBe(true);
  await expect(app.testId('controls.backend.webgpu')).toBeEnabled();
  await useBackend(app, 'webgpu');
  expect((await app.snapshot()).backend?.kind).toBe('webgpu');
  app.expectNoConsoleErrors();
});
