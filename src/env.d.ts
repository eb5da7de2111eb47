/** Folder (relative to the base URL) where vite.config.ts ships onnxruntime-web's module and WASM. */
declare const __ORT_BASE__: string;
