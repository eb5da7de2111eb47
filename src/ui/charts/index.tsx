/**
 * Every chart of the page, one file each; the pieces they share live next to them: the palette
 * (palette.ts), the axes (axes.ts), the card and legend (ChartCard.tsx) and the scheduler hook
 * (useChartSnapshot.ts). Each chart takes the live snapshot from the chart scheduler when its turn
 * comes, so a stream of 50 inferences a second never turns a frame into one long task of seven
 * recharts redraws.
 */
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../app/store';
import { MODES } from '../../core/record';
import { AccuracyChart } from './AccuracyChart';
import { BandwidthChart } from './BandwidthChart';
import { BytesChart } from './BytesChart';
import { DecisionChart } from './DecisionChart';
import { LatencyChart } from './LatencyChart';
import { RateAccuracyChart } from './RateAccuracyChart';
import { ThroughputChart } from './ThroughputChart';

export function Charts() {
  const mode = useAppStore((state) => state.settings.mode);
  // Which latency charts exist changes rarely; the points themselves are the charts' business.
  const seenModes = useAppStore(
    useShallow((state) => MODES.filter((m) => state.live.perMode[m].requests > 0)),
  );
  // Auto's requests run any kind: the latency charts of the kinds it ran, from the points.
  const autoModes = useAppStore(
    useShallow((state) =>
      state.settings.mode === 'auto' || state.live.auto.requests > 0
        ? MODES.filter((m) => state.live.points.some((point) => point.mode === m))
        : [],
    ),
  );
  const showDecisions = useAppStore(
    (state) => state.settings.mode === 'auto' || state.live.decisions.length > 0,
  );
  const shownModes = MODES.filter(
    (m) => mode === 'compare' || m === mode || seenModes.includes(m) || autoModes.includes(m),
  );
  return (
    <div className="charts">
      {showDecisions && <DecisionChart />}
      {shownModes.map((m) => (
        <LatencyChart key={m} mode={m} />
      ))}
      <BytesChart />
      <AccuracyChart />
      <ThroughputChart />
      <BandwidthChart />
      <RateAccuracyChart />
    </div>
  );
}
