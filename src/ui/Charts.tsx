import { memo, useMemo } from 'react';
import {
  Area,
  AreaChart,
  CartesianGrid,
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
import type { LivePoint } from '../app/liveSnapshot';
import { useChartSnapshot } from './useChartSnapshot';
import { extentTicks, linearAxis, logAxis, type LinearAxis } from './axisTicks';
import { splitConfigId } from '../core/manifest';
import { MODES, type Mode } from '../core/record';
import { MODE_COLORS, MODE_LABELS, PHASE_COLORS, PHASE_LABELS, formatBytes } from './format';

const CHART_HEIGHT = 200;
const formatSeconds = (value: number) => value.toFixed(0);
const formatRateAccuracy = (value: unknown, name: unknown) =>
  name === 'bytes' ? formatBytes(Number(value)) : Number(value).toFixed(2);

// Every prop below is a module constant on purpose: recharts 3 copies its children's props into its
// own store from effects, and a prop that is a new object on each render re-dispatches there and
// re-runs the chart's selectors on every redraw (measured: most of a redraw's cost).
const MARGIN = { top: 4, right: 8, bottom: 0, left: 0 };
const SMALL_DOT = { r: 2 };

/**
 * Axis labels as plain SVG text. Recharts' own tick component measures every new label in the
 * DOM (a forced layout of the page) to decide about wrapping, which short numbers never need.
 */
interface BaseTickContentProps {
  x: number;
  y: number;
  index: number;
  textAnchor?: 'start' | 'middle' | 'end' | 'inherit';
  verticalAnchor?: 'start' | 'middle' | 'end';
  payload: { value: number | string };
  tickFormatter?: (value: number | string, index: number) => string;
}

function renderTick(props: BaseTickContentProps) {
  const { x, y, index, textAnchor, verticalAnchor, payload, tickFormatter } = props;
  // The axis passes its own props through, `unit` among them.
  const unit = (props as { unit?: unknown }).unit;
  const label = tickFormatter ? tickFormatter(payload.value, index) : String(payload.value);
  const dy = verticalAnchor === 'start' ? '0.71em' : verticalAnchor === 'end' ? '0' : '0.355em';
  return (
    <text x={x} y={y} dy={dy} textAnchor={textAnchor} fill="#64748b" fontSize={10}>
      {label}
      {typeof unit === 'string' ? unit : ''}
    </text>
  );
}
const BYTES_EXTENT: [number, number] = [1, 2048];
const BYTES_TICKS = [1, 4, 16, 64, 256, 1024];
const RATE_ACCURACY_EXTENT: [number, number] = [60, 100];
const DOT_AREA: [number, number] = [36, 36];
const FULL_MODEL_LABEL = { value: 'full model', fontSize: 10 };
const webpLabels = new Map<number, object>();
/** One label object per quality, so the reference line's props stay the same between redraws. */
function webpLabel(quality: number): object {
  let label = webpLabels.get(quality);
  if (!label) {
    label = { value: `WebP q${quality}`, fontSize: 10, position: 'insideBottomLeft', angle: -90 };
    webpLabels.set(quality, label);
  }
  return label;
}
const LATENCY_POINTS_PER_MODE = 45;

interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
}

/**
 * A plain HTML legend: recharts' own Legend and Tooltip subscribe to the chart's store and
 * recompute on every redraw, which a chart that redraws ten times a second cannot afford.
 */
const ChartLegend = memo(function ChartLegend({ items }: { items: readonly LegendItem[] }) {
  return (
    <ul className="chart-legend">
      {items.map((item) => (
        <li key={item.label}>
          <span
            className={item.dashed ? 'swatch dashed' : 'swatch'}
            style={item.dashed ? { borderColor: item.color } : { background: item.color }}
          />
          {item.label}
        </li>
      ))}
    </ul>
  );
});

/**
 * The stacked series of the latency chart: the record's phases, with the network split into its
 * uplink and downlink parts once the clock offset to the server is known (before that, and for
 * requests without it, the round trip's network part stays whole). They add up to the total.
 */
const LATENCY_SERIES = [
  { key: 'deviceMs', label: PHASE_LABELS.deviceMs, color: PHASE_COLORS.deviceMs },
  { key: 'encodeMs', label: PHASE_LABELS.encodeMs, color: PHASE_COLORS.encodeMs },
  { key: 'uplinkMs', label: 'network up', color: '#f59e0b' },
  { key: 'downlinkMs', label: 'network down', color: '#fcd34d' },
  { key: 'unsplitNetworkMs', label: 'network (clock offset unknown)', color: '#fb923c' },
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
const BANDWIDTH_LEGEND: LegendItem[] = [
  { label: 'uplink kbit/s (left, log)', color: '#0f766e' },
  { label: 'network RTT ms (right)', color: '#be123c' },
];

function ChartCard({
  attach,
  title,
  testId,
  note,
  legend,
  children,
}: {
  title: string;
  testId: string;
  children: React.ReactNode;
  note?: string;
  attach: (element: HTMLElement | null) => void;
  legend?: readonly LegendItem[];
}) {
  return (
    <section ref={attach} className="card chart" data-testid={testId} aria-label={title}>
      <h3>{title}</h3>
      {note && <p className="muted small">{note}</p>}
      {legend && <ChartLegend items={legend} />}
      <div className="chart-body">{children}</div>
    </section>
  );
}

/**
 * Stacked areas rather than bars: one SVG path per phase instead of one element per request and
 * phase, which is most of what a redraw costs.
 */
const LatencyChart = memo(function LatencyChart({ mode }: { mode: Mode }) {
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

/** Smallest and largest finite value of `keys` over `rows`. */
function rangeOf(rows: readonly Record<string, unknown>[], keys: readonly string[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows)
    for (const key of keys) {
      const value = row[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  return [min, max];
}

/** The time (or sequence) axis of a live chart: exactly the data's extent, round ticks inside. */
function extentAxis(rows: readonly Record<string, unknown>[], key: string): LinearAxis {
  const [min, max] = rangeOf(rows, [key]);
  if (!Number.isFinite(min)) return { domain: [0, 1], ticks: [0, 1] };
  return { domain: [min, max > min ? max : min + 1], ticks: extentTicks(min, max > min ? max : min + 1) };
}

type ValueAxis = { kind: 'from-zero' } | { kind: 'log' } | { kind: 'fixed'; axis: LinearAxis };

function valueAxis(
  rows: readonly Record<string, unknown>[],
  keys: readonly string[],
  spec: ValueAxis,
): LinearAxis {
  if (spec.kind === 'fixed') return spec.axis;
  const [min, max] = rangeOf(rows, keys);
  if (!Number.isFinite(min)) return spec.kind === 'log' ? logAxis(1, 10) : linearAxis(0, 1, 4, true);
  return spec.kind === 'log' ? logAxis(min, max) : linearAxis(0, max, 4, true);
}

const ACCURACY_AXIS: ValueAxis = {
  kind: 'fixed',
  axis: { domain: [50, 100], ticks: [50, 60, 70, 80, 90, 100] },
};
const FROM_ZERO: ValueAxis = { kind: 'from-zero' };
const LOG: ValueAxis = { kind: 'log' };

interface ReferenceLevel {
  y: number;
  label: string;
}
const REFERENCE_COLOR = '#475569';

/** Rows keyed by mode so several modes share one x axis; a missing mode is a gap. */
function byMode(
  points: LivePoint[],
  value: (point: LivePoint) => number | null,
  references: readonly ReferenceLevel[] = [],
) {
  return points.map((point) => {
    const row: Record<string, number | null> = { t: Number(point.t.toFixed(3)), [point.mode]: value(point) };
    references.forEach((reference, index) => (row[`reference${index}`] = reference.y));
    return row;
  });
}

/** The modes that have a value in some row, in the usual order; the same array while that set is unchanged. */
function useModesIn(rows: readonly Record<string, unknown>[]): readonly Mode[] {
  const signature = MODES.filter((mode) => rows.some((row) => typeof row[mode] === 'number')).join(',');
  return useMemo(() => (signature ? (signature.split(',') as Mode[]) : []), [signature]);
}

function ModeLines(props: {
  attach: (element: HTMLElement | null) => void;
  title: string;
  testId: string;
  rows: Record<string, number | null>[];
  unit: string;
  yAxis: ValueAxis;
  /** Horizontal reference levels, drawn as dashed lines over keys `reference0`, `reference1`… in rows. */
  reference?: readonly ReferenceLevel[];
  note?: string;
}) {
  // A line per mode present in the rows, not per mode there could be.
  const modes = useModesIn(props.rows);
  const xAxis = useMemo(() => extentAxis(props.rows, 't'), [props.rows]);
  const yAxis = useMemo(() => valueAxis(props.rows, modes, props.yAxis), [props.rows, modes, props.yAxis]);
  const legend = useMemo(
    () => [
      ...modes.map((mode) => ({ label: MODE_LABELS[mode], color: MODE_COLORS[mode] })),
      ...(props.reference ?? []).map((reference) => ({
        label: reference.label,
        color: REFERENCE_COLOR,
        dashed: true,
      })),
    ],
    [modes, props.reference],
  );
  return (
    <ChartCard
      attach={props.attach}
      title={props.title}
      testId={props.testId}
      note={props.note}
      legend={legend}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={props.rows} margin={MARGIN}>
          <XAxis
            dataKey="t"
            type="number"
            domain={xAxis.domain}
            ticks={xAxis.ticks}
            unit=" s"
            tick={renderTick}
            interval={0}
            tickFormatter={formatSeconds}
          />
          <YAxis
            unit={props.unit}
            width={62}
            tick={renderTick}
            interval={0}
            domain={yAxis.domain}
            ticks={yAxis.ticks}
            scale={props.yAxis.kind === 'log' ? 'log' : 'linear'}
            allowDataOverflow
          />
          {modes.map((mode) => (
            <Line
              key={mode}
              dataKey={mode}
              name={MODE_LABELS[mode]}
              stroke={MODE_COLORS[mode]}
              dot={props.rows.length < 30 ? SMALL_DOT : false}
              connectNulls
              isAnimationActive={false}
            />
          ))}
          {props.reference?.map((reference, index) => (
            <Line
              key={reference.label}
              dataKey={`reference${index}`}
              name={reference.label}
              stroke={REFERENCE_COLOR}
              strokeDasharray="4 4"
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

const BandwidthChart = memo(function BandwidthChart() {
  const { attach, snapshot } = useChartSnapshot('charts.bandwidth');
  const estimates = snapshot.estimates;
  const axes = useMemo(() => {
    const rows = estimates as unknown as Record<string, unknown>[];
    return {
      x: extentAxis(rows, 't'),
      bandwidth: valueAxis(rows, ['uplinkKbps'], LOG),
      rtt: valueAxis(rows, ['rttMs'], FROM_ZERO),
    };
  }, [estimates]);
  return (
    <ChartCard
      attach={attach}
      title="Estimated uplink bandwidth and RTT"
      testId="charts.bandwidth"
      note="From the traffic itself and idle probes: 1500-byte quanta over the longest time a quantum took in the last 3 s (the throttle releases quanta on its own clock, so a message on an idle link may take only part of one)."
      legend={BANDWIDTH_LEGEND}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={estimates} margin={MARGIN}>
          <XAxis
            dataKey="t"
            type="number"
            domain={axes.x.domain}
            ticks={axes.x.ticks}
            unit=" s"
            tick={renderTick}
            interval={0}
            tickFormatter={formatSeconds}
          />
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

const RateAccuracyChart = memo(function RateAccuracyChart() {
  const { attach, snapshot } = useChartSnapshot('charts.rate-accuracy');
  const perMode = snapshot.perMode;
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
      webp: offloadSizes?.webp ?? null,
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
      attach={attach}
      title="Accuracy against bytes per image"
      testId="charts.rate-accuracy"
      note="Grey: every split configuration in the manifest (payload bytes, 10k test images). Ringed: the selected one. Pale orange: offload PNG and raw (mean size of 500 test images; lossless, so the full model's accuracy); the dotted line: WebP q50's mean size in this browser (lossy: its accuracy is what an offload WebP run measures). Solid: this session, wire bytes per image. Dashed: the full model (on-device sends 0 B)."
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
            width={52}
            domain={RATE_ACCURACY_EXTENT}
            tick={renderTick}
            allowDataOverflow
          />
          <ZAxis range={DOT_AREA} />
          <Tooltip formatter={formatRateAccuracy} />
          <ReferenceLine y={series.full} stroke="#0e9f6e" strokeDasharray="4 4" label={FULL_MODEL_LABEL} />
          {series.webp && (
            <ReferenceLine
              x={series.webp.bytes}
              stroke="#d97706"
              strokeDasharray="2 3"
              label={webpLabel(series.webp.quality)}
            />
          )}
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

const BytesChart = memo(function BytesChart() {
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
      title="Wire bytes per image"
      testId="charts.bytes"
      rows={rows}
      unit=" B"
      yAxis={LOG}
      note="WebSocket message bytes of each request divided by its images; on-device sends nothing."
    />
  );
});

const AccuracyChart = memo(function AccuracyChart() {
  const { attach, snapshot } = useChartSnapshot('charts.accuracy');
  const { manifest, levelId, bits } = useAppStore(
    useShallow((state) => ({
      manifest: state.manifest,
      levelId: state.settings.levelId,
      bits: state.settings.bits,
    })),
  );
  const references = useMemo(() => {
    if (!manifest) return [];
    const level = manifest.levels.find((entry) => entry.id === levelId);
    const entry = level?.bits.find((candidate) => candidate.bits === bits);
    const line = (y: number, label: string): ReferenceLevel => ({ y, label });
    const lines = [
      line(
        manifest.full.accuracy.accuracy * 100,
        `full model ${(manifest.full.accuracy.accuracy * 100).toFixed(2)}%`,
      ),
    ];
    if (entry && level)
      lines.push(
        line(entry.accuracy * 100, `${level.id}-b${entry.bits} ${(entry.accuracy * 100).toFixed(2)}%`),
      );
    return lines;
  }, [manifest, levelId, bits]);
  const rows = useMemo(
    () =>
      byMode(
        snapshot.points,
        (p) => (p.runningAccuracy === null ? null : p.runningAccuracy * 100),
        references,
      ),
    [snapshot.points, references],
  );
  return (
    <ModeLines
      attach={attach}
      title="Running accuracy against the true labels"
      testId="charts.accuracy"
      rows={rows}
      unit="%"
      yAxis={ACCURACY_AXIS}
      reference={references}
    />
  );
});

const ThroughputChart = memo(function ThroughputChart() {
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
      title="Throughput (images answered per second)"
      testId="charts.throughput"
      rows={rows}
      unit="/s"
      yAxis={FROM_ZERO}
    />
  );
});

/**
 * Each chart takes the live snapshot from the chart scheduler when its turn comes (a few charts
 * per frame, within a time budget), so a stream of 50 inferences a second never turns a frame
 * into one long task of seven recharts redraws.
 */
export function Charts() {
  const mode = useAppStore((state) => state.settings.mode);
  // Which latency charts exist changes rarely; the points themselves are the charts' business.
  const seenModes = useAppStore(
    useShallow((state) => MODES.filter((m) => state.live.perMode[m].requests > 0)),
  );
  const shownModes = MODES.filter((m) => mode === 'compare' || m === mode || seenModes.includes(m));
  return (
    <div className="charts">
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
