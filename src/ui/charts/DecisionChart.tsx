/**
 * Auto's decision timeline: the candidate each request ran (a step line over the candidates it
 * chose, labelled on the axis), the requests that missed the target, and below it, on the same
 * time axis, the uplink estimate each decision was made with and the device's emulated slowdown.
 */
import { memo, useMemo } from 'react';
import { Line, LineChart, ResponsiveContainer, YAxis } from 'recharts';
import { LOG, rowsTimeAxis, valueAxis, type LinearAxis } from './axes';
import { ChartCard, MARGIN, renderTick, sessionTimeXAxis, type LegendItem } from './ChartCard';
import { candidateOrder } from './decisionOrder';
import { DECISION_COLOR, RTT_COLOR, SLOWDOWN_COLOR, UPLINK_COLOR } from './palette';
import { useChartSnapshot } from './useChartSnapshot';

const CHOICE_HEIGHT = 150;
const CONTEXT_HEIGHT = 100;
/** Wide enough for "c8-b8-x0.95". */
const CHOICE_AXIS_WIDTH = 78;
const CONTEXT_AXIS_WIDTH = 78;
const SLOWDOWN_AXIS_WIDTH = 34;
const MISSED_DOT = { r: 2.5, fill: RTT_COLOR, stroke: RTT_COLOR };

const LEGEND: LegendItem[] = [
  { label: 'candidate chosen', color: DECISION_COLOR },
  { label: 'missed the target', color: RTT_COLOR, ring: true },
  { label: 'uplink estimate kbit/s (log)', color: UPLINK_COLOR },
  { label: 'device slowdown × (emulated, right)', color: SLOWDOWN_COLOR, dashed: true },
];

interface Row {
  t: number;
  choice: number;
  missed: number | null;
  uplinkKbps: number | null;
  slowdown: number;
}

export const DecisionChart = memo(function DecisionChart() {
  const { attach, snapshot } = useChartSnapshot('charts.decisions');
  const decisions = snapshot.decisions;
  const labels = useMemo(() => candidateOrder(decisions), [decisions]);
  const labelKey = labels.join(',');
  const { rows, axes } = useMemo(() => {
    const index = new Map(labels.map((id, i) => [id, i]));
    const rows: Row[] = decisions.map((point) => {
      const choice = index.get(point.candidate) ?? 0;
      return {
        t: point.t,
        choice,
        missed: !point.ok || point.totalMs > point.sloMs ? choice : null,
        uplinkKbps: point.uplinkKbps,
        slowdown: point.slowdown,
      };
    });
    const records = rows as unknown as Record<string, unknown>[];
    const maxSlowdown = Math.max(1, ...rows.map((row) => row.slowdown));
    const slowdown: LinearAxis = {
      domain: [0, Math.max(2, maxSlowdown * 1.15)],
      ticks: maxSlowdown > 1 ? [1, maxSlowdown] : [1],
    };
    return {
      rows,
      axes: {
        x: rowsTimeAxis(records, 't'),
        uplink: valueAxis(records, ['uplinkKbps'], LOG),
        slowdown,
      },
    };
    // labelKey stands for labels (a new array each snapshot with the same content).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [decisions, labelKey]);
  const choiceAxis = useMemo(() => {
    // At most about eight labels fit the panel's height; with more, every other (or third) one.
    const every = Math.ceil(labels.length / 8);
    const ticks = labels.map((_, i) => i).filter((i) => i % every === 0);
    return {
      domain: [-0.5, Math.max(0.5, labels.length - 0.5)] as [number, number],
      ticks,
      format: (value: number) => labels[value] ?? '',
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labelKey]);
  const last = decisions[decisions.length - 1];
  return (
    <ChartCard
      attach={attach}
      version={snapshot.version}
      title="Auto: the choice over time, with the uplink and the device speed"
      testId="charts.decisions"
      note={
        last
          ? `Each step is a request; target ${last.sloMs} ms per request. The uplink is the estimate the decision was made with.`
          : 'Start Auto to see what it chooses and when.'
      }
      legend={LEGEND}
    >
      <div data-testid="charts.decisions.choice" data-candidates={labelKey} data-points={rows.length}>
        <ResponsiveContainer width="100%" height={CHOICE_HEIGHT}>
          <LineChart data={rows} margin={MARGIN}>
            {sessionTimeXAxis(axes.x)}
            <YAxis
              yAxisId="choice"
              type="number"
              width={CHOICE_AXIS_WIDTH}
              tick={renderTick}
              interval={0}
              domain={choiceAxis.domain}
              ticks={choiceAxis.ticks}
              tickFormatter={choiceAxis.format}
              allowDataOverflow
            />
            <YAxis
              yAxisId="pad"
              orientation="right"
              width={SLOWDOWN_AXIS_WIDTH}
              tick={false}
              axisLine={false}
            />
            <Line
              yAxisId="choice"
              dataKey="choice"
              name="candidate chosen"
              type="stepAfter"
              stroke={DECISION_COLOR}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
            <Line
              yAxisId="choice"
              dataKey="missed"
              name="missed the target"
              stroke="none"
              dot={MISSED_DOT}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <ResponsiveContainer width="100%" height={CONTEXT_HEIGHT}>
        <LineChart data={rows} margin={MARGIN}>
          {sessionTimeXAxis(axes.x)}
          <YAxis
            yAxisId="bw"
            unit=" kb/s"
            width={CONTEXT_AXIS_WIDTH}
            tick={renderTick}
            interval={0}
            scale="log"
            domain={axes.uplink.domain}
            ticks={axes.uplink.ticks}
            allowDataOverflow
          />
          <YAxis
            yAxisId="slowdown"
            orientation="right"
            unit="×"
            width={SLOWDOWN_AXIS_WIDTH}
            tick={renderTick}
            interval={0}
            domain={axes.slowdown.domain}
            ticks={axes.slowdown.ticks}
            allowDataOverflow
          />
          <Line
            yAxisId="bw"
            dataKey="uplinkKbps"
            name="uplink kbit/s"
            stroke={UPLINK_COLOR}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="slowdown"
            dataKey="slowdown"
            name="device slowdown"
            type="stepAfter"
            stroke={SLOWDOWN_COLOR}
            strokeDasharray="4 3"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});
