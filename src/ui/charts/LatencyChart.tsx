import { memo, useMemo } from 'react';
import { Area, AreaChart, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import type { LivePoint } from '../../app/liveSnapshot';
import type { Mode } from '../../core/record';
import { MODE_LABELS, PHASE_LABELS } from '../format';
import { extentAxis, FROM_ZERO, valueAxis } from './axes';
import { CHART_HEIGHT, ChartCard, MARGIN, renderTick } from './ChartCard';
import { PHASE_COLORS } from './palette';
import { useChartSnapshot } from './useChartSnapshot';

const LATENCY_POINTS_PER_MODE = 45;

/**
 * The stacked series of the latency chart: the record's phases, with the network split into its
 * uplink and downlink parts once the clock offset to the server is known (before that, and for
 * requests without it, the round trip's network part stays whole). They add up to the total.
 */
const LATENCY_SERIES = [
  { key: 'deviceMs', label: PHASE_LABELS.deviceMs, color: PHASE_COLORS.deviceMs },
  { key: 'encodeMs', label: PHASE_LABELS.encodeMs, color: PHASE_COLORS.encodeMs },
  { key: 'uplinkMs', label: 'network up', color: PHASE_COLORS.uplinkMs },
  { key: 'downlinkMs', label: 'network down', color: PHASE_COLORS.downlinkMs },
  { key: 'unsplitNetworkMs', label: 'network (clock offset unknown)', color: PHASE_COLORS.unsplitNetworkMs },
  { key: 'serverQueueMs', label: PHASE_LABELS.serverQueueMs, color: PHASE_COLORS.serverQueueMs },
  { key: 'serverComputeMs', label: PHASE_LABELS.serverComputeMs, color: PHASE_COLORS.serverComputeMs },
  { key: 'overheadMs', label: PHASE_LABELS.overheadMs, color: PHASE_COLORS.overheadMs },
] as const;

type LatencyRow = { seq: number; totalMs: number } & Record<(typeof LATENCY_SERIES)[number]['key'], number>;

function latencyRow(point: LivePoint): LatencyRow {
  const split = point.uplinkMs !== null;
  return {
    seq: point.seq,
    totalMs: point.totalMs,
    deviceMs: point.deviceMs,
    encodeMs: point.encodeMs,
    uplinkMs: split ? point.uplinkMs! : 0,
    downlinkMs: split ? point.networkMs - point.uplinkMs! : 0,
    unsplitNetworkMs: split ? 0 : point.networkMs,
    serverQueueMs: point.serverQueueMs,
    serverComputeMs: point.serverComputeMs,
    overheadMs: point.overheadMs,
  };
}

/**
 * Stacked areas rather than bars: one SVG path per phase instead of one element per request and
 * phase, which is most of what a redraw costs.
 */
export const LatencyChart = memo(function LatencyChart({ mode }: { mode: Mode }) {
  const testId = `charts.latency.${mode}`;
  const { attach, snapshot } = useChartSnapshot(testId);
  const data = useMemo(
    () =>
      snapshot.points
        .filter((point) => point.mode === mode && point.ok)
        .slice(-LATENCY_POINTS_PER_MODE)
        .map(latencyRow),
    [snapshot.points, mode],
  );
  // Series that are zero throughout are not drawn (on-device has no network at all): every
  // series is a cost on each redraw.
  const shownSignature = LATENCY_SERIES.filter((series) => data.some((row) => row[series.key] > 0))
    .map((series) => series.key)
    .join(',');
  const shown = useMemo(
    () => LATENCY_SERIES.filter((series) => shownSignature.split(',').includes(series.key)),
    [shownSignature],
  );
  const legend = useMemo(
    () => shown.map((series) => ({ label: series.label, color: series.color })),
    [shown],
  );
  const xAxis = useMemo(() => extentAxis(data, 'seq'), [data]);
  const yAxis = useMemo(() => valueAxis(data, ['totalMs'], FROM_ZERO), [data]);
  return (
    <ChartCard
      attach={attach}
      version={snapshot.version}
      title={`${MODE_LABELS[mode]}: latency per request, by phase`}
      testId={testId}
      legend={legend}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <AreaChart data={data} margin={MARGIN}>
          <XAxis
            dataKey="seq"
            type="number"
            domain={xAxis.domain}
            ticks={xAxis.ticks}
            tick={renderTick}
            interval={0}
          />
          <YAxis
            unit=" ms"
            width={58}
            domain={yAxis.domain}
            ticks={yAxis.ticks}
            tick={renderTick}
            interval={0}
          />
          {shown.map((series) => (
            <Area
              key={series.key}
              dataKey={series.key}
              name={series.label}
              stackId="phases"
              type="stepAfter"
              stroke="none"
              fill={series.color}
              fillOpacity={0.9}
              dot={false}
              activeDot={false}
              isAnimationActive={false}
            />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});
