/**
 * What this browser can run, detected once per page load. The inference backend and the UI
 * both read the same answer, so the page never claims a backend it did not find.
 */

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True when the adapter is a software fallback (SwiftShader reports itself this way). */
  isFallbackAdapter: boolean;
}

export interface Capabilities {
  secureContext: boolean;
  crossOriginIsolated: boolean;
  /** Threads WASM may use: >1 only when the page is cross-origin isolated (SharedArrayBuffer). */
  wasmThreads: number;
  hardwareConcurrency: number;
  webgpu: { available: true; adapter: GpuAdapterSummary } | { available: false; reason: string };
  userAgent: string;
}

/**
 * Names software rasterisers give themselves in GPUAdapterInfo: SwiftShader (Chromium's own,
 * vendor "google", architecture "swiftshader"), Mesa's llvmpipe and lavapipe, Microsoft's WARP.
 */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|basic render driver|\bwarp\b/i;

/**
 * Why a WebGPU adapter is a software one (its "GPU" is the CPU, several times slower than WASM
 * here: split at 16 images per request took 615-1257 ms on SwiftShader against ~300 ms for PNG
 * offload), or null for a hardware adapter.
 */
export function softwareAdapterReason(adapter: GpuAdapterSummary): string | null {
  if (adapter.isFallbackAdapter) return 'the WebGPU adapter is a fallback adapter (isFallbackAdapter)';
  const names = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].join(' ');
  const match = SOFTWARE_ADAPTER.exec(names);
  return match ? `the WebGPU adapter is a software renderer (${match[0]}): it runs on the CPU` : null;
}

/**
 * The backend a page starts on: WebGPU on a hardware adapter, WASM otherwise, with the reason the
 * status panel shows. A software adapter stays selectable; it is only not the default.
 */
export function defaultBackend(capabilities: Pick<Capabilities, 'webgpu'>): {
  kind: 'webgpu' | 'wasm';
  reason: string;
} {
  const webgpu = capabilities.webgpu;
  if (!webgpu.available) return { kind: 'wasm', reason: `no WebGPU: ${webgpu.reason}` };
  const software = softwareAdapterReason(webgpu.adapter);
  if (software) return { kind: 'wasm', reason: `WASM by default: ${software}` };
  return { kind: 'webgpu', reason: 'WebGPU on a hardware adapter' };
}

let detection: Promise<Capabilities> | undefined;

/** Detects once; later calls share the first answer. */
export function detectCapabilities(): Promise<Capabilities> {
  detection ??= detect();
  return detection;
}

/**
 * ORT's own default: half the logical cores, at most 4, and 1 without cross-origin isolation
 * (no SharedArrayBuffer). ORT's WASM thread pool is process-wide and its threads spin while they
 * wait for work, so every extra thread burns a core between inferences. Measured on a 2-core
 * machine at 50 head runs a second: 2 threads kept one worker thread busy about 65 % of a core for
 * runs of 1-3 ms, and the page's main thread had long tasks throughout; 1 thread ran the head as
 * fast (0.8-1.2 ms in onnxruntime-web under Node, against 1.0-1.4 ms with 2 threads).
 */
export function wasmThreadCount(crossOriginIsolated: boolean, hardwareConcurrency: number): number {
  if (!crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.ceil(hardwareConcurrency / 2)));
}

async function detect(): Promise<Capabilities> {
  const hardwareConcurrency = navigator.hardwareConcurrency || 1;
  const isolated = globalThis.crossOriginIsolated === true;
  return {
    secureContext: globalThis.isSecureContext === true,
    crossOriginIsolated: isolated,
    wasmThreads: wasmThreadCount(isolated, hardwareConcurrency),
    hardwareConcurrency,
    webgpu: await detectWebGpu(),
    userAgent: navigator.userAgent,
  };
}

async function detectWebGpu(): Promise<Capabilities['webgpu']> {
  if (!globalThis.isSecureContext) {
    return {
      available: false,
      reason:
        'not a secure context: WebGPU needs https:// or localhost (start the server with --https for a LAN address)',
    };
  }
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu)
    return {
      available: false,
      reason: 'navigator.gpu is missing: this browser has no WebGPU, or it is disabled',
    };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() returned no adapter' };
    const info = adapter.info;
    return {
      available: true,
      adapter: {
        vendor: info.vendor || 'unknown vendor',
        architecture: info.architecture || 'unknown architecture',
        device: info.device || '',
        description: info.description || '',
        isFallbackAdapter:
          (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
      },
    };
  } catch (error) {
    return { available: false, reason: `requestAdapter() failed: ${(error as Error).message}` };
  }
}
