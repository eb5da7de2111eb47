import { useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { ChartScheduler } from '../app/chartScheduler';
import { EMPTY_SNAPSHOT, type LiveSnapshot } from '../app/liveSnapshot';
import { useAppStore } from '../app/store';

/** The one scheduler that feeds every chart the live snapshot (see ChartScheduler for why). */
// The budget lets every chart on a laptop screen redraw in the frame of the publication that
// changed it (one composited frame per publication, not one per chart), while a page with more
// charts on screen than fit spreads them over the next frames instead of one long task.
export const chartScheduler = new ChartScheduler<LiveSnapshot>(EMPTY_SNAPSHOT, {
  renderNow: flushSync,
  frameBudgetMs: 20,
});
chartScheduler.offer(useAppStore.getState().live);
useAppStore.subscribe((state, previous) => {
  if (state.live !== previous.live) chartScheduler.offer(state.live);
});

/**
 * The live snapshot for one chart, delivered by the scheduler: the chart redraws when its turn
 * comes, not on every publication, and not at all while its element is off screen.
 */
export function useChartSnapshot(id: string) {
  const [element, attach] = useState<HTMLElement | null>(null);
  const [snapshot, setSnapshot] = useState<LiveSnapshot>(() => chartScheduler.current());
  useEffect(() => chartScheduler.register(id, setSnapshot), [id]);
  useEffect(() => {
    if (!element || typeof IntersectionObserver === 'undefined') return;
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
  }, [id, element]);
  return { attach, snapshot };
}
