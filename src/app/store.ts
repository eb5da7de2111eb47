/**
 * The app's one zustand store, built from typed slices. Per-inference data never goes through it
 * record by record: the live feed keeps records in a ring buffer and publishes one snapshot per
 * animation frame (at most) into the `live` slice.
 */
import { create, type StateCreator } from 'zustand';
import type { BackendInfo, BackendKind } from '../backend/ort';
import type { Capabilities } from '../backend/capabilities';
import type { ModelManifest } from '../core/manifest';
import { DEFAULT_SETTINGS, type RunSettings } from './settings';
import { EMPTY_SNAPSHOT, type LiveSnapshot } from './liveSnapshot';

export interface FileProgress {
  url: string;
  loadedBytes: number;
  totalBytes: number | null;
  fromCache: boolean;
  done: boolean;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface SystemSlice {
  capabilities: Capabilities | null;
  requestedBackend: BackendKind | null;
  backend: BackendInfo | null;
  /** 'loading' until every session is warmed up and the test set is parsed. */
  phase: 'loading' | 'ready' | 'error';
  phaseDetail: string;
  manifest: ModelManifest | null;
  files: Record<string, FileProgress>;
  datasetImages: number;
  /** Mean encoded size of a test image (first images of the set), for offload's reference points. */
  offloadSizes: {
    png: number;
    raw: number;
    images: number;
    /** Mean WebP size at `webpQuality`, measured with this browser's encoder once the page is up. */
    webp?: { bytes: number; quality: number; images: number };
  } | null;
  connection: { status: ConnectionStatus; detail: string; reconnects: number };
  errors: { models: string | null; dataset: string | null; server: string | null };
  setSystem: (patch: Partial<Omit<SystemSlice, 'setSystem' | 'setFileProgress' | 'setError'>>) => void;
  setFileProgress: (progress: FileProgress) => void;
  setError: (kind: keyof SystemSlice['errors'], message: string | null) => void;
}

export interface ControlsSlice {
  settings: RunSettings;
  running: boolean;
  /** A single step is in progress: start, step and backend switches wait for it. */
  busy: boolean;
  updateSettings: (patch: Partial<RunSettings>) => void;
  setRunning: (running: boolean) => void;
  setBusy: (busy: boolean) => void;
}

export interface LiveSlice {
  live: LiveSnapshot;
  publishLive: (snapshot: LiveSnapshot) => void;
}

export type AppState = SystemSlice & ControlsSlice & LiveSlice;

export const createSystemSlice: StateCreator<AppState, [], [], SystemSlice> = (set) => ({
  capabilities: null,
  requestedBackend: null,
  backend: null,
  phase: 'loading',
  phaseDetail: 'starting',
  manifest: null,
  files: {},
  datasetImages: 0,
  offloadSizes: null,
  connection: { status: 'connecting', detail: '', reconnects: 0 },
  errors: { models: null, dataset: null, server: null },
  setSystem: (patch) => set(patch),
  setFileProgress: (progress) => set((state) => ({ files: { ...state.files, [progress.url]: progress } })),
  setError: (kind, message) => set((state) => ({ errors: { ...state.errors, [kind]: message } })),
});

export const createControlsSlice: StateCreator<AppState, [], [], ControlsSlice> = (set) => ({
  settings: DEFAULT_SETTINGS,
  running: false,
  busy: false,
  updateSettings: (patch) => set((state) => ({ settings: { ...state.settings, ...patch } })),
  setRunning: (running) => set({ running }),
  setBusy: (busy) => set({ busy }),
});

export const createLiveSlice: StateCreator<AppState, [], [], LiveSlice> = (set) => ({
  live: EMPTY_SNAPSHOT,
  publishLive: (snapshot) => set({ live: snapshot }),
});

export const createAppStore = () =>
  create<AppState>()((...args) => ({
    ...createSystemSlice(...args),
    ...createControlsSlice(...args),
    ...createLiveSlice(...args),
  }));

export const useAppStore = createAppStore();
