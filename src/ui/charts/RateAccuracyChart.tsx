import { memo, useMemo } from 'react';
import {
  CartesianGrid,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from 'recharts';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../app/store';
import { formatBytes } from '../format';
import { CHART_HEIGHT, ChartCard, MARGIN, renderTick, type LegendItem } from './ChartCard';
import {
  FULL_MODEL_COLOR,
  MODE_COLORS,
  OFFLOAD_FILL,
  SELECTED_CONFIG_COLOR,
  SPLIT_CONFIG_COLOR,
  WEBP_REFERENCE_COLOR,
} from './palette';
import { rateAccuracySeries } from './rateAccuracy';
import { useChartSnapshot } from './useChartSnapshot';

const BYTES_EXTENT: [number, number] = [1, 2048];
const BYTES_TICKS = [1, 4, 16, 64, 256, 1024];
const DOT_AREA: [number, number] = [36, 36];
const formatRateAccuracy = (value: unknown, name: unknown) =>
  name === 'bytes' ? formatBytes(Number(value)) : Number(value).toFixed(2);
const formatPercentTick = (value: number) => value.toFixed(Number.isInteger(value) ? 0 : 1);

/**
 * Reference lines carry no label inside the plot (a label there lands on the dots near it); the
 * legend above the chart names them instead.
 */
export const RateAccuracyChart = memo(function RateAccuracyChart() {
  const { attach, snapshot } = useChartSnapshot('charts.rate-accuracy');
  const perMode = snapshot.perMode;
  const { manifest, levelId, bits, offloadSizes } = useAppStore(
    useShallow((state) => ({
      manifest: state.manifest,
      levelId: state.settings.levelId,
      bits: state.settings.bits,
      offloadSizes: state.offloadSizes,
    })),
  );
  const series = useMemo(
    () => (manifest ? rateAccuracySeries(manifest, { levelId, bits }, offloadSizes, perMode) : null),
    [manifest, levelId, bits, offloadSizes, perMode],
  );
  const legend = useMemo((): LegendItem[] => {
    if (!series) return [];
    return [
      { label: 'split configs (manifest, 10k images)', color: SPLIT_CONFIG_COLOR },
      { label: 'selected config', color: SELECTED_CONFIG_COLOR, ring: true },
      ...(series.offload.length ? [{ label: 'offload PNG / raw (lossless)', color: OFFLOAD_FILL }] : []),
      ...series.measured.map((point) => ({ label: point.name, color: MODE_COLORS[point.mode] })),
      { label: `full model ${series.full.toFixed(2)}%`, color: FULL_MODEL_COLOR, dashed: true },
      ...(series.webp
        ? [{ label: `WebP q${series.webp.quality} mean size`, color: WEBP_REFERENCE_COLOR, dashed: true }]
        : []),
    ];
  }, [series]);
  if (!series) return null;
  return (
    <ChartCard
      attach={attach}
      version={snapshot.version}
      title="Accuracy against bytes per image"
      testId="charts.rate-accuracy"
      legend={legend}
      note="Manifest points: payload bytes, accuracy on 10k test images. Offload PNG and raw: mean size of 500 test images; lossless, so the full model's accuracy. WebP's line is its mean size in this browser (lossy: its accuracy is what an offload WebP run measures). This session: wire bytes per image. On-device sends 0 B."
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT + 40}>
        <ScatterChart margin={MARGIN}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="bytes"
            type="number"
            scale="log"
            domain={BYTES_EXTENT}
            ticks={BYTES_TICKS}
            unit=" B"
            tick={renderTick}
            allowDataOverflow
          />
          <YAxis
            dataKey="accuracy"
            type="number"
            unit="%"
            width={56}
            domain={series.yAxis.domain}
            ticks={series.yAxis.ticks}
            interval={0}
            tick={renderTick}
            tickFormatter={formatPercentTick}
            allowDataOverflow
          />
          <ZAxis range={DOT_AREA} />
          <Tooltip formatter={formatRateAccuracy} />
          <ReferenceLine y={series.full} stroke={FULL_MODEL_COLOR} strokeDasharray="4 4" />
          {series.webp && (
            <ReferenceLine x={series.webp.bytes} stroke={WEBP_REFERENCE_COLOR} strokeDasharray="2 3" />
          )}
          <Scatter
            name="split configs"
            data={series.split}
            fill={SPLIT_CONFIG_COLOR}
            isAnimationActive={false}
          />
          <Scatter
            name="offload, lossless"
            data={series.offload}
            fill={OFFLOAD_FILL}
            stroke={WEBP_REFERENCE_COLOR}
            isAnimationActive={false}
          />
          <Scatter
            name="selected"
            data={series.splitLive}
            fill="#ffffff"
            stroke={SELECTED_CONFIG_COLOR}
            strokeWidth={2}
            isAnimationActive={false}
          />
          {series.measured.map((point) => (
            <Scatter
              key={point.mode}
              name={point.name}
              data={[point]}
              fill={MODE_COLORS[point.mode]}
              isAnimationActive={false}
            />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});
