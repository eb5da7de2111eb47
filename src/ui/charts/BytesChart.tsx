import { memo, useMemo } from 'react';
import { LOG } from './axes';
import { ModeLines, byMode } from './ModeLines';
import { useChartSnapshot } from './useChartSnapshot';

export const BytesChart = memo(function BytesChart() {
  const { attach, snapshot } = useChartSnapshot('charts.bytes');
  const rows = useMemo(
    () =>
      byMode(
        snapshot.points.filter((p) => p.mode !== 'on-device'),
        (p) => p.wireBytesPerImage,
      ),
    [snapshot.points],
  );
  return (
    <ModeLines
      attach={attach}
      version={snapshot.version}
      title="Wire bytes per image"
      testId="charts.bytes"
      rows={rows}
      unit=" B"
      yAxis={LOG}
      note="WebSocket message bytes of each request divided by its images; on-device sends nothing."
    />
  );
});
