import { describe, expect, it } from 'vitest';
import { createAppStore } from './store';
import { DEFAULT_SETTINGS, clampSetting } from './settings';
import { EMPTY_SNAPSHOT } from './liveSnapshot';

describe('app store slices', () => {
  it('starts loading, with the default settings and an empty live view', () => {
    const store = createAppStore();
    const state = store.getState();
    expect(state.phase).toBe('loading');
    expect(state.settings).toEqual(DEFAULT_SETTINGS);
    expect(state.running).toBe(false);
    expect(state.live).toBe(EMPTY_SNAPSHOT);
  });

  it('merges settings patches without touching other fields', () => {
    const store = createAppStore();
    store.getState().updateSettings({ bits: 4, mode: 'compare' });
    expect(store.getState().settings).toEqual({ ...DEFAULT_SETTINGS, bits: 4, mode: 'compare' });
    store.getState().setRunning(true);
    expect(store.getState().running).toBe(true);
  });

  it('tracks file progress per URL and errors per kind', () => {
    const store = createAppStore();
    const { setFileProgress, setError } = store.getState();
    setFileProgress({ url: '/a.onnx', loadedBytes: 10, totalBytes: 100, fromCache: false, done: false });
    setFileProgress({ url: '/b.onnx', loadedBytes: 5, totalBytes: 5, fromCache: true, done: true });
    setFileProgress({ url: '/a.onnx', loadedBytes: 100, totalBytes: 100, fromCache: false, done: true });
    expect(Object.keys(store.getState().files)).toEqual(['/a.onnx', '/b.onnx']);
    expect(store.getState().files['/a.onnx']!.done).toBe(true);
    setError('models', 'HTTP 404');
    setError('server', 'down');
    setError('server', null);
    expect(store.getState().errors).toEqual({ models: 'HTTP 404', dataset: null, server: null });
  });

  it('publishes live snapshots whole', () => {
    const store = createAppStore();
    const snapshot = { ...EMPTY_SNAPSHOT, version: 7 };
    store.getState().publishLive(snapshot);
    expect(store.getState().live).toBe(snapshot);
  });

  it('clamps numeric settings to their ranges', () => {
    expect(clampSetting('imagesPerRequest', 0)).toBe(1);
    expect(clampSetting('imagesPerRequest', 100)).toBe(64);
    expect(clampSetting('bits', 3.4)).toBe(3);
    expect(clampSetting('webpQuality', Number.NaN)).toBe(1);
  });
});
