import { memo, useMemo } from 'react';
import { FROM_ZERO } from './axes';
import { ModeLines } from './ModeLines';
import { useChartSnapshot } from './useChartSnapshot';

export const ThroughputChart = memo(function ThroughputChart() {
  const { attach, snapshot } = useChartSnapshot('charts.throughput');
  const rows = useMemo(
    () =>
      snapshot.throughput.map((row) => ({
        ...row,
        'on-device': row['on-device'] || null,
        offload: row.offload || null,
        split: row.split || null,
      })),
    [snapshot.throughput],
  );
  return (
    <ModeLines
      attach={attach}
      version={snapshot.version}
      title="Throughput (images answered per second)"
      testId="charts.throughput"
      rows={rows}
      unit="/s"
      yAxis={FROM_ZERO}
      note="Images answered in the trailing window (3 s, or the time since the stream began when shorter), per second."
    />
  );
});
