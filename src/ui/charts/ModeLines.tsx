/** A line per mode over session time: the shape of the bytes, accuracy and throughput charts. */
import { useMemo } from 'react';
import { Line, LineChart, ResponsiveContainer, YAxis } from 'recharts';
import type { LivePoint } from '../../app/liveSnapshot';
import { MODES, type Mode } from '../../core/record';
import { MODE_LABELS } from '../format';
import { rowsTimeAxis, valueAxis, type ValueAxis } from './axes';
import { CHART_HEIGHT, ChartCard, MARGIN, SMALL_DOT, renderTick, sessionTimeXAxis } from './ChartCard';
import { MODE_COLORS, REFERENCE_COLOR } from './palette';

export interface ReferenceLevel {
  y: number;
  label: string;
}

/** Rows keyed by mode so several modes share one x axis; a missing mode is a gap. */
export function byMode(
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

export function ModeLines(props: {
  attach: (element: HTMLElement | null) => void;
  version: number;
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
  const xAxis = useMemo(() => rowsTimeAxis(props.rows, 't'), [props.rows]);
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
      version={props.version}
      title={props.title}
      testId={props.testId}
      note={props.note}
      legend={legend}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={props.rows} margin={MARGIN}>
          {sessionTimeXAxis(xAxis)}
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
