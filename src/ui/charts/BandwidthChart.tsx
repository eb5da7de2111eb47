import { memo, useMemo } from 'react';
import { Line, LineChart, ResponsiveContainer, YAxis } from 'recharts';
import { FROM_ZERO, LOG, rowsTimeAxis, valueAxis } from './axes';
import { CHART_HEIGHT, ChartCard, MARGIN, renderTick, sessionTimeXAxis, type LegendItem } from './ChartCard';
import { RTT_COLOR, UPLINK_COLOR } from './palette';
import { useChartSnapshot } from './useChartSnapshot';

const BANDWIDTH_LEGEND: LegendItem[] = [
  { label: 'uplink kbit/s (left, log)', color: UPLINK_COLOR },
  { label: 'network RTT ms (right)', color: RTT_COLOR },
];

export const BandwidthChart = memo(function BandwidthChart() {
  const { attach, snapshot } = useChartSnapshot('charts.bandwidth');
  const estimates = snapshot.estimates;
  const axes = useMemo(() => {
    const rows = estimates as unknown as Record<string, unknown>[];
    return {
      x: rowsTimeAxis(rows, 't'),
      bandwidth: valueAxis(rows, ['uplinkKbps'], LOG),
      rtt: valueAxis(rows, ['rttMs'], FROM_ZERO),
    };
  }, [estimates]);
  return (
    <ChartCard
      attach={attach}
      version={snapshot.version}
      title="Estimated uplink bandwidth and RTT"
      testId="charts.bandwidth"
      note="From the traffic itself and idle probes: 1500-byte quanta over the longest time a quantum took in the last 3 s (the throttle releases quanta on its own clock, so a message on an idle link may take only part of one)."
      legend={BANDWIDTH_LEGEND}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={estimates} margin={MARGIN}>
          {sessionTimeXAxis(axes.x)}
          <YAxis
            yAxisId="bw"
            unit=" kb/s"
            width={70}
            tick={renderTick}
            interval={0}
            scale="log"
            domain={axes.bandwidth.domain}
            ticks={axes.bandwidth.ticks}
            allowDataOverflow
          />
          <YAxis
            yAxisId="rtt"
            orientation="right"
            unit=" ms"
            width={56}
            tick={renderTick}
            interval={0}
            domain={axes.rtt.domain}
            ticks={axes.rtt.ticks}
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
            yAxisId="rtt"
            dataKey="rttMs"
            name="network RTT ms"
            stroke={RTT_COLOR}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});
