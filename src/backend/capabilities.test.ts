import { describe, expect, it } from 'vitest';
import {
  defaultBackend,
  softwareAdapterReason,
  wasmThreadCount,
  type GpuAdapterSummary,
} from './capabilities';

describe('wasmThreadCount', () => {
  it('uses one thread without cross-origin isolation, whatever the cores', () => {
    expect(wasmThreadCount(false, 8)).toBe(1);
  });

  it('leaves half the cores to the page and the browser, at most 4 threads', () => {
    expect([1, 2, 3, 4, 8, 16].map((cores) => wasmThreadCount(true, cores))).toEqual([1, 1, 2, 2, 4, 4]);
  });

  it('treats an unknown core count as one core', () => {
    expect(wasmThreadCount(true, 0)).toBe(1);
  });
});

describe('default backend', () => {
  const adapter = (overrides: Partial<GpuAdapterSummary>): GpuAdapterSummary => ({
    vendor: 'nvidia',
    architecture: 'ampere',
    device: '',
    description: '',
    isFallbackAdapter: false,
    ...overrides,
  });

  it('starts on WebGPU with a hardware adapter', () => {
    expect(defaultBackend({ webgpu: { available: true, adapter: adapter({}) } }).kind).toBe('webgpu');
    expect(softwareAdapterReason(adapter({ vendor: 'apple', architecture: 'metal-3' }))).toBeNull();
  });

  it("starts on WASM on SwiftShader, as Chromium's headless WebGPU reports it, and says why", () => {
    const swiftshader = adapter({ vendor: 'google', architecture: 'swiftshader' });
    const choice = defaultBackend({ webgpu: { available: true, adapter: swiftshader } });
    expect(choice.kind).toBe('wasm');
    expect(choice.reason).toMatch(/software renderer \(swiftshader\)/);
  });

  it('starts on WASM on a fallback adapter or another software renderer', () => {
    expect(
      defaultBackend({ webgpu: { available: true, adapter: adapter({ isFallbackAdapter: true }) } }),
    ).toEqual({ kind: 'wasm', reason: expect.stringContaining('isFallbackAdapter') as string });
    for (const description of ['llvmpipe (LLVM 15.0.6, 256 bits)', 'Microsoft Basic Render Driver'])
      expect(softwareAdapterReason(adapter({ vendor: 'mesa', description }))).not.toBeNull();
  });

  it('starts on WASM without WebGPU, with the reason detection gave', () => {
    expect(defaultBackend({ webgpu: { available: false, reason: 'navigator.gpu is missing' } })).toEqual({
      kind: 'wasm',
      reason: 'no WebGPU: navigator.gpu is missing',
    });
  });
});
