/**
 * Hands the newest live snapshot to the charts a few at a time, within a per-frame time budget.
 *
 * Why: one recharts redraw costs several milliseconds of main thread on a slow device, and when
 * every chart redraws in the same frame the frame becomes one long task (measured here: 100-180 ms
 * with seven charts), which starves the inference loop and makes the page janky. Charts redrawn
 * one after another, stalest first, until the frame's budget is spent, keep every frame short
 * while each chart still follows the stream many times a second. Charts off screen are skipped:
 * nobody is looking at them, and they catch up when they scroll into view; flushAll() brings every
 * one of them up to date at once, for a capture of the whole page.
 *
 * Deliveries go in rounds: a round pins one snapshot and draws it into every stale chart on screen
 * (the summary table is one of them), over as many frames as the budget needs, before the next
 * round takes the newest snapshot. So the counters and the charts on screen always show the same
 * moment, or, for the frames a round spans, the moment just before.
 *
 * No React here: the UI passes `renderNow` (react-dom's flushSync), so that each delivery renders
 * and commits its one chart before the budget is checked again.
 */

export interface ChartUpdateStats {
  /** Deliveries of a new snapshot (each one a redraw of that chart). */
  updates: number;
  /** Time spent rendering and committing this chart, summed over its updates. */
  totalMs: number;
  maxMs: number;
  /** On screen now (charts off screen are not redrawn). */
  visible: boolean;
}

interface VersionedSnapshot {
  version: number;
}

interface ChartEntry<T> {
  deliver: (snapshot: T) => void;
  visible: boolean;
  deliveredVersion: number;
  lastDeliveredAt: number;
  stats: Omit<ChartUpdateStats, 'visible'>;
}

export interface ChartSchedulerOptions {
  /** Rendering stops for this frame once this much time has gone into charts. */
  frameBudgetMs?: number;
  renderNow?: (render: () => void) => void;
  requestFrame?: (callback: () => void) => void;
  /**
   * How the first frame after a new snapshot is requested. By default the next animation frame;
   * a publisher that offers from inside an animation frame callback can pass queueMicrotask so
   * the charts draw in that same frame (one rendering pass per snapshot, not one more).
   */
  requestFirstFrame?: (callback: () => void) => void;
  now?: () => number;
}

export class ChartScheduler<T extends VersionedSnapshot> {
  private readonly entries = new Map<string, ChartEntry<T>>();
  private latest: T;
  /** The snapshot of the round being drawn (or last drawn). */
  private round: T;
  /** Charts the current round has still to draw. */
  private roundPending = new Map<ChartEntry<T>, string>();
  private scheduled = false;
  private readonly frameBudgetMs: number;
  private readonly renderNow: (render: () => void) => void;
  private readonly requestFrame: (callback: () => void) => void;
  private readonly requestFirstFrame: (callback: () => void) => void;
  private readonly now: () => number;

  constructor(initial: T, options: ChartSchedulerOptions = {}) {
    this.latest = initial;
    this.round = initial;
    this.frameBudgetMs = options.frameBudgetMs ?? 12;
    this.renderNow = options.renderNow ?? ((render) => render());
    this.requestFrame =
      options.requestFrame ??
      (typeof requestAnimationFrame === 'function'
        ? (callback) => requestAnimationFrame(() => callback())
        : (callback) => setTimeout(callback, 16));
    this.requestFirstFrame = options.requestFirstFrame ?? this.requestFrame;
    this.now = options.now ?? (() => performance.now());
  }

  /** The snapshot a chart mounting now should start from: the one the others on screen show. */
  current(): T {
    return this.round;
  }

  /**
   * Draws the newest snapshot into every registered chart now, on screen or not, each rendered
   * and committed before this returns: what a capture of the page (the session report) needs.
   */
  flushAll(): T {
    this.round = this.latest;
    this.roundPending.clear();
    for (const [id, entry] of [...this.entries]) {
      if (this.entries.get(id) !== entry || entry.deliveredVersion === this.round.version) continue;
      this.deliver(entry, this.round);
    }
    return this.round;
  }

  offer(snapshot: T): void {
    this.latest = snapshot;
    this.schedule(this.requestFirstFrame);
  }

  /** Registers a chart (visible until told otherwise); returns the unregister function. */
  register(id: string, deliver: (snapshot: T) => void): () => void {
    const entry: ChartEntry<T> = {
      deliver,
      visible: true,
      // Drawn once more after mounting: a snapshot may have come between its render and now.
      deliveredVersion: -1,
      lastDeliveredAt: -Infinity,
      stats: this.entries.get(id)?.stats ?? { updates: 0, totalMs: 0, maxMs: 0 },
    };
    this.entries.set(id, entry);
    return () => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    };
  }

  setVisible(id: string, visible: boolean): void {
    const entry = this.entries.get(id);
    if (!entry || entry.visible === visible) return;
    entry.visible = visible;
    if (visible) this.schedule();
  }

  stats(): Record<string, ChartUpdateStats> {
    const out: Record<string, ChartUpdateStats> = {};
    for (const [id, entry] of this.entries) out[id] = { ...entry.stats, visible: entry.visible };
    return out;
  }

  private stale(snapshot: T): [string, ChartEntry<T>][] {
    return [...this.entries]
      .filter(([, entry]) => entry.visible && entry.deliveredVersion !== snapshot.version)
      .sort(([, a], [, b]) => a.lastDeliveredAt - b.lastDeliveredAt);
  }

  private deliver(entry: ChartEntry<T>, snapshot: T): void {
    const started = this.now();
    entry.deliveredVersion = snapshot.version;
    entry.lastDeliveredAt = started;
    this.renderNow(() => entry.deliver(snapshot));
    const spent = this.now() - started;
    entry.stats.updates++;
    entry.stats.totalMs += spent;
    entry.stats.maxMs = Math.max(entry.stats.maxMs, spent);
  }

  private schedule(request = this.requestFrame): void {
    if (this.scheduled) return;
    this.scheduled = true;
    request(() => this.runFrame());
  }

  private runFrame(): void {
    this.scheduled = false;
    const frameStart = this.now();
    for (const [entry, id] of this.roundPending)
      if (this.entries.get(id) !== entry || !entry.visible || entry.deliveredVersion === this.round.version)
        this.roundPending.delete(entry);
    // A finished round gives way to the newest snapshot; an unfinished one keeps its own.
    if (this.roundPending.size === 0) {
      this.round = this.latest;
      this.roundPending = new Map(this.stale(this.round).map(([id, entry]) => [entry, id]));
    }
    const snapshot = this.round;
    for (const [id, entry] of this.stale(snapshot)) {
      // A chart unregistered by an earlier delivery in this frame must not be drawn.
      if (this.entries.get(id) !== entry || !this.roundPending.has(entry)) continue;
      this.deliver(entry, snapshot);
      this.roundPending.delete(entry);
      if (this.now() - frameStart >= this.frameBudgetMs) break;
    }
    if (this.roundPending.size > 0 || this.stale(this.latest).length > 0) this.schedule();
  }
}
