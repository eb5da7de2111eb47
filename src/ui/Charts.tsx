import { memo, useDeferredValue, useMemo } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
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
import { useAppStore } from '../app/store';
import { OnlyWhenVisible } from './OnlyWhenVisible';
import type { LivePoint, LiveSnapshot } from '../app/liveSnapshot';
import { splitConfigId } from '../core/manifest';
import { MODES, PHASE_KEYS, type Mode } from '../core/record';
import { MODE_COLORS, MODE_LABELS, PHASE_COLORS, PHASE_LABELS, formatBytes } from './format';

const CHART_HEIGHT = 200;
const formatSeconds = (value: number) => value.toFixed(0);
const LATENCY_POINTS_PER_MODE = 40;

function ChartCard(props: { title: string; testId: string; children: React.ReactNode; note?: string }) {
  return (
    <section className="card chart" data-testid={props.testId} aria-label={props.title}>
      <h3>{props.title}</h3>
      {props.note && <p className="muted small">{props.note}</p>}
      <div className="chart-body">{props.children}</div>
    </section>
  );
}

const LatencyChart = memo(function LatencyChart({ mode, points }: { mode: Mode; points: LivePoint[] }) {
  const data = useMemo(
    () => points.filter((point) => point.mode === mode && point.ok).slice(-LATENCY_POINTS_PER_MODE),
    [points, mode],
  );
  return (
    <ChartCard
      title={`${MODE_LABELS[mode]}: latency per request, by phase`}
      testId={`charts.latency.${mode}`}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <BarChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} barCategoryGap={1}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="seq" tick={{ fontSize: 10 }} />
          <YAxis unit=" ms" width={58} tick={{ fontSize: 10 }} />
          <Tooltip formatter={(value) => `${Number(value).toFixed(2)} ms`} />
          {PHASE_KEYS.map((key) => (
            <Bar
              key={key}
              dataKey={key}
              name={PHASE_LABELS[key]}
              stackId="phases"
              fill={PHASE_COLORS[key]}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});

/** Rows keyed by mode so several modes share one x axis; a missing mode is a gap. */
function byMode(points: LivePoint[], value: (point: LivePoint) => number | null) {
  return points.map((point) => ({ t: Number(point.t.toFixed(3)), [point.mode]: value(point) }));
}

const ModeLines = memo(function ModeLines(props: {
  title: string;
  testId: string;
  rows: Record<string, number | null>[];
  unit: string;
  domain?: [number | string, number | string];
  reference?: { y: number; label: string }[];
  note?: string;
  scale?: 'log' | 'linear';
}) {
  return (
    <ChartCard title={props.title} testId={props.testId} note={props.note}>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={props.rows} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            domain={['dataMin', 'dataMax']}
            unit=" s"
            tick={{ fontSize: 10 }}
            tickFormatter={formatSeconds}
          />
          <YAxis
            unit={props.unit}
            width={62}
            tick={{ fontSize: 10 }}
            domain={props.domain ?? ['auto', 'auto']}
            scale={props.scale ?? 'auto'}
            allowDataOverflow={props.scale === 'log'}
          />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {MODES.map((mode) => (
            <Line
              key={mode}
              dataKey={mode}
              name={MODE_LABELS[mode]}
              stroke={MODE_COLORS[mode]}
              dot={props.rows.length < 30 ? { r: 2 } : false}
              connectNulls
              isAnimationActive={false}
            />
          ))}
          {props.reference?.map((reference) => (
            <ReferenceLine
              key={reference.label}
              y={reference.y}
              stroke="#475569"
              strokeDasharray="4 4"
              label={{ value: reference.label, fontSize: 10, position: 'insideBottomRight' }}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});

const BandwidthChart = memo(function BandwidthChart({ estimates }: { estimates: LiveSnapshot['estimates'] }) {
  return (
    <ChartCard
      title="Estimated uplink bandwidth and RTT"
      testId="charts.bandwidth"
      note="From the traffic itself (charged 1500-byte quanta over link-busy time, 3 s window) and idle probes."
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={estimates} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            domain={['dataMin', 'dataMax']}
            unit=" s"
            tick={{ fontSize: 10 }}
            tickFormatter={formatSeconds}
          />
          <YAxis
            yAxisId="bw"
            unit=" kb/s"
            width={70}
            tick={{ fontSize: 10 }}
            scale="log"
            domain={['auto', 'auto']}
          />
          <YAxis yAxisId="rtt" orientation="right" unit=" ms" width={56} tick={{ fontSize: 10 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Line
            yAxisId="bw"
            dataKey="uplinkKbps"
            name="uplink kbit/s"
            stroke="#0f766e"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rtt"
            dataKey="rttMs"
            name="network RTT ms"
            stroke="#be123c"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});

const RateAccuracyChart = memo(function RateAccuracyChart({ perMode }: { perMode: LiveSnapshot['perMode'] }) {
  const { manifest, settings, offloadSizes } = useAppStore(
    useShallow((state) => ({
      manifest: state.manifest,
      settings: state.settings,
      offloadSizes: state.offloadSizes,
    })),
  );
  const series = useMemo(() => {
    if (!manifest) return null;
    const liveConfig = splitConfigId(settings.levelId, settings.bits);
    const configs = manifest.levels.flatMap((level) =>
      level.bits.map((entry) => ({
        bytes: entry.payloadBytes,
        accuracy: entry.accuracy * 100,
        name: splitConfigId(level.id, entry.bits),
        live: splitConfigId(level.id, entry.bits) === liveConfig,
      })),
    );
    const full = manifest.full.accuracy.accuracy * 100;
    return {
      split: configs.filter((config) => !config.live),
      splitLive: configs.filter((config) => config.live),
      full,
      offload: offloadSizes
        ? [
            { bytes: offloadSizes.png, accuracy: full, name: 'offload PNG (lossless)' },
            { bytes: offloadSizes.raw, accuracy: full, name: 'offload raw' },
          ]
        : [],
    };
  }, [manifest, settings.levelId, settings.bits, offloadSizes]);
  if (!series) return null;
  const measured = MODES.filter((mode) => mode !== 'on-device' && perMode[mode].accuracy !== null).map(
    (mode) => ({
      mode,
      bytes: perMode[mode].wireBytesPerImage ?? 0,
      accuracy: (perMode[mode].accuracy ?? 0) * 100,
      name: `${MODE_LABELS[mode]} live (${perMode[mode].lastConfig})`,
    }),
  );
  return (
    <ChartCard
      title="Accuracy against bytes per image"
      testId="charts.rate-accuracy"
      note="Grey: every split configuration in the manifest (payload bytes, 10k test images). Ringed: the selected one. Pale orange: offload PNG and raw (mean size of 500 test images; lossless, so the full model's accuracy). Solid: this session, wire bytes per image. Dashed: the full model (on-device sends 0 B)."
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT + 40}>
        <ScatterChart margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="bytes"
            type="number"
            scale="log"
            domain={[1, 2048]}
            ticks={[1, 4, 16, 64, 256, 1024]}
            unit=" B"
            tick={{ fontSize: 10 }}
            allowDataOverflow
          />
          <YAxis
            dataKey="accuracy"
            type="number"
            unit="%"
            width={52}
            domain={[60, 100]}
            tick={{ fontSize: 10 }}
            allowDataOverflow
          />
          <ZAxis range={[36, 36]} />
          <Tooltip
            formatter={(value, name) =>
              name === 'bytes' ? formatBytes(Number(value)) : Number(value).toFixed(2)
            }
          />
          <ReferenceLine
            y={series.full}
            stroke="#0e9f6e"
            strokeDasharray="4 4"
            label={{ value: 'full model', fontSize: 10 }}
          />
          <Scatter name="split configs" data={series.split} fill="#94a3b8" isAnimationActive={false} />
          <Scatter
            name="offload, lossless"
            data={series.offload}
            fill="#fde68a"
            stroke="#d97706"
            isAnimationActive={false}
          />
          <Scatter
            name="selected"
            data={series.splitLive}
            fill="#ffffff"
            stroke="#4f46e5"
            strokeWidth={2}
            isAnimationActive={false}
          />
          {measured.map((point) => (
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

/**
 * The charts draw a deferred copy of the live snapshot: React renders it as a low-priority,
 * time-sliced update, so a redraw never holds the main thread for long while socket replies
 * wait to be timestamped. (Rendering synchronously inflated the measured downlink by hundreds of
 * milliseconds on a busy 2-core machine.)
 */
export function Charts() {
  const live = useDeferredValue(useAppStore((state) => state.live));
  const { points, throughput, estimates, perMode } = live;
  const { mode, manifest, settings } = useAppStore(
    useShallow((state) => ({
      mode: state.settings.mode,
      manifest: state.manifest,
      settings: state.settings,
    })),
  );
  const shownModes = useMemo(() => {
    const seen = new Set(points.map((point) => point.mode));
    const modes = mode === 'compare' ? MODES : [mode];
    return MODES.filter((m) => modes.includes(m) || seen.has(m));
  }, [points, mode]);
  const bytesRows = useMemo(
    () =>
      byMode(
        points.filter((p) => p.mode !== 'on-device'),
        (p) => p.wireBytesPerImage,
      ),
    [points],
  );
  const accuracyRows = useMemo(
    () => byMode(points, (p) => (p.runningAccuracy === null ? null : p.runningAccuracy * 100)),
    [points],
  );
  const throughputRows = useMemo(
    () =>
      throughput.map((row) => ({
        ...row,
        'on-device': row['on-device'] || null,
        offload: row.offload || null,
        split: row.split || null,
      })),
    [throughput],
  );
  const references = useMemo(() => {
    if (!manifest) return [];
    const level = manifest.levels.find((entry) => entry.id === settings.levelId);
    const bits = level?.bits.find((entry) => entry.bits === settings.bits);
    const lines = [
      {
        y: manifest.full.accuracy.accuracy * 100,
        label: `full model ${(manifest.full.accuracy.accuracy * 100).toFixed(2)}%`,
      },
    ];
    if (bits && level)
      lines.push({
        y: bits.accuracy * 100,
        label: `${level.id}-b${bits.bits} ${(bits.accuracy * 100).toFixed(2)}%`,
      });
    return lines;
  }, [manifest, settings.levelId, settings.bits]);

  const cardHeight = CHART_HEIGHT + 60;
  return (
    <div className="charts">
      {shownModes.map((m) => (
        <OnlyWhenVisible key={m} minHeight={cardHeight}>
          <LatencyChart mode={m} points={points} />
        </OnlyWhenVisible>
      ))}
      <OnlyWhenVisible minHeight={cardHeight}>
        <ModeLines
          title="Wire bytes per image"
          testId="charts.bytes"
          rows={bytesRows}
          unit=" B"
          scale="log"
          domain={[1, 'auto']}
          note="WebSocket message bytes of each request divided by its images; on-device sends nothing."
        />
      </OnlyWhenVisible>
      <OnlyWhenVisible minHeight={cardHeight}>
        <ModeLines
          title="Running accuracy against the true labels"
          testId="charts.accuracy"
          rows={accuracyRows}
          unit="%"
          domain={[50, 100]}
          reference={references}
        />
      </OnlyWhenVisible>
      <OnlyWhenVisible minHeight={cardHeight}>
        <ModeLines
          title="Throughput (images answered per second)"
          testId="charts.throughput"
          rows={throughputRows}
          unit="/s"
        />
      </OnlyWhenVisible>
      <OnlyWhenVisible minHeight={cardHeight}>
        <BandwidthChart estimates={estimates} />
      </OnlyWhenVisible>
      <OnlyWhenVisible minHeight={cardHeight}>
        <RateAccuracyChart perMode={perMode} />
      </OnlyWhenVisible>
    </div>
  );
}
