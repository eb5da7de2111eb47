import { useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { ChartScheduler } from '../../app/chartScheduler';
import { EMPTY_SNAPSHOT, type LiveSnapshot } from '../../app/liveSnapshot';
import { useAppStore } from '../../app/store';

/** The one scheduler that feeds every chart the live snapshot (see ChartScheduler for why). */
// The live feed publishes from inside an animation frame callback, so the charts start drawing in
// that same frame (a microtask after the publication) rather than in the next one: one rendering
// pass per publication instead of two or three. The budget fits every chart on a laptop screen
// (measured: 12-15 ms for the four of them at 50 inferences a second); a page with more charts on
// screen spreads them over the next frames instead of making one long task.
export const chartScheduler = new ChartScheduler<LiveSnapshot>(EMPTY_SNAPSHOT, {
  renderNow: flushSync,
  requestFirstFrame: queueMicrotask,
  frameBudgetMs: 28,
});
chartScheduler.offer(useAppStore.getState().live);
useAppStore.subscribe((state, previous) => {
  if (state.live !== previous.live) chartScheduler.offer(state.live);
});

/**
 * The live snapshot for one chart, delivered by the scheduler: the chart redraws when its turn
 * comes, not on every publication, and not at all while its element is off screen, unless
 * `offScreenToo` (the summary table: cheap to draw, and read by tests and people alike wherever
 * the page is scrolled).
 */
export function useChartSnapshot(id: string, options: { offScreenToo?: boolean } = {}) {
  const [element, attach] = useState<HTMLElement | null>(null);
  const [snapshot, setSnapshot] = useState<LiveSnapshot>(() => chartScheduler.current());
  const offScreenToo = options.offScreenToo === true;
  useEffect(() => chartScheduler.register(id, setSnapshot), [id]);
  useEffect(() => {
    if (offScreenToo || !element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) =>
        chartScheduler.setVisible(
          id,
          entries.some((entry) => entry.isIntersecting),
        ),
      { rootMargin: '100px' },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [id, element, offScreenToo]);
  return { attach, snapshot };
}
