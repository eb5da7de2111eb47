/**
 * `window.__splitscope`: a read-only snapshot of the app's counters for tests and for the curious
 * in the console. Every getter returns a copy, so nothing outside can change the app's state.
 */
import type { UplinkSample } from '../core/uplinkEstimator';
import type { InferenceRecord } from '../core/record';
import type { ChartUpdateStats } from './chartScheduler';
import type { Engine } from './engine';
import { useAppStore } from './store';

export interface SplitScopeTestApi {
  readonly phase: string;
  readonly backend: { kind: string; label: string } | null;
  readonly webgpu: unknown;
  readonly crossOriginIsolated: boolean;
  readonly connection: string;
  readonly running: boolean;
  readonly counters: unknown;
  readonly perMode: unknown;
  readonly estimate: unknown;
  readonly settings: unknown;
  /** Live snapshots published to the UI so far (one per animation frame at most). */
  readonly publishedSnapshots: number;
  /** Per chart (by data-testid): redraws so far and the main-thread time they took. */
  readonly chartUpdates: Record<string, ChartUpdateStats>;
  /** Every record of the session (up to the ring buffer's capacity), oldest first. */
  records(): InferenceRecord[];
  /** The uplink estimator's samples in its window, oldest first (what the estimate rests on). */
  uplinkSamples(): UplinkSample[];
  /** The cost model's samples whose keys start with `prefix` (what the predictions rest on). */
  costSamples(prefix?: string): Record<string, number[]>;
}

const copy = <T>(value: T): T => structuredClone(value);

export function installTestHooks(
  engine: Engine,
  charts: { stats: () => Record<string, ChartUpdateStats> },
): void {
  const api: SplitScopeTestApi = {
    get phase() {
      return useAppStore.getState().phase;
    },
    get backend() {
      const backend = useAppStore.getState().backend;
      return backend ? { kind: backend.kind, label: backend.label } : null;
    },
    get webgpu() {
      return copy(useAppStore.getState().capabilities?.webgpu ?? null);
    },
    get crossOriginIsolated() {
      return globalThis.crossOriginIsolated === true;
    },
    get connection() {
      return useAppStore.getState().connection.status;
    },
    get running() {
      return useAppStore.getState().running;
    },
    get counters() {
      return copy(engine.feed.countersNow);
    },
    get perMode() {
      return copy(engine.feed.snapshot().perMode);
    },
    get estimate() {
      return copy(engine.feed.snapshot().estimate);
    },
    get settings() {
      return copy(useAppStore.getState().settings);
    },
    get publishedSnapshots() {
      return engine.feed.publishedCount;
    },
    get chartUpdates() {
      return charts.stats();
    },
    records() {
      return copy(engine.feed.records.toArray());
    },
    uplinkSamples() {
      return copy(engine.feed.uplink.samplesInWindow());
    },
    costSamples(prefix = '') {
      return engine.costSamples(prefix);
    },
  };
  Object.defineProperty(window, '__splitscope', {
    value: Object.freeze(api),
    configurable: false,
    writable: false,
  });
}
