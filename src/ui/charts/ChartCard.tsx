/** The frame every chart draws in: its card, its HTML legend, and the plain-SVG tick labels. */
import { memo, type ReactNode } from 'react';
import { XAxis } from 'recharts';
import type { TimeAxis } from './axes';
import { TICK_COLOR } from './palette';

export const CHART_HEIGHT = 200;
// Every prop below is a module constant on purpose: recharts 3 copies its children's props into its
// own store from effects, and a prop that is a new object on each render re-dispatches there and
// re-runs the chart's selectors on every redraw (measured: most of a redraw's cost).
export const MARGIN = { top: 4, right: 8, bottom: 0, left: 0 };
export const SMALL_DOT = { r: 2 };

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

export function renderTick(props: BaseTickContentProps) {
  const { x, y, index, textAnchor, verticalAnchor, payload, tickFormatter } = props;
  // The axis passes its own props through, `unit` among them.
  const unit = (props as { unit?: unknown }).unit;
  const label = tickFormatter ? tickFormatter(payload.value, index) : String(payload.value);
  const dy = verticalAnchor === 'start' ? '0.71em' : verticalAnchor === 'end' ? '0' : '0.355em';
  return (
    <text x={x} y={y} dy={dy} textAnchor={textAnchor} fill={TICK_COLOR} fontSize={10}>
      {label}
      {typeof unit === 'string' ? unit : ''}
    </text>
  );
}

/**
 * The session-time x axis (seconds) the time charts share. A function returning the element, not
 * a component: recharts finds its axes among a chart's children by their type.
 */
export function sessionTimeXAxis(axis: TimeAxis) {
  return (
    <XAxis
      dataKey="t"
      type="number"
      domain={axis.domain}
      ticks={axis.ticks}
      unit=" s"
      tick={renderTick}
      interval={0}
      tickFormatter={axis.format}
    />
  );
}

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
  /** A ringed dot rather than a filled swatch. */
  ring?: boolean;
}

/**
 * A plain HTML legend: recharts' own Legend and Tooltip subscribe to the chart's store and
 * recompute on every redraw, which a chart that redraws ten times a second cannot afford.
 */
export const ChartLegend = memo(function ChartLegend({ items }: { items: readonly LegendItem[] }) {
  return (
    <ul className="chart-legend">
      {items.map((item) => (
        <li key={item.label}>
          <span
            className={item.dashed ? 'swatch dashed' : item.ring ? 'swatch ring' : 'swatch'}
            style={item.dashed || item.ring ? { borderColor: item.color } : { background: item.color }}
          />
          {item.label}
        </li>
      ))}
    </ul>
  );
});

export function ChartCard({
  attach,
  title,
  testId,
  note,
  legend,
  version,
  children,
}: {
  title: string;
  testId: string;
  children: ReactNode;
  note?: string;
  attach: (element: HTMLElement | null) => void;
  legend?: readonly LegendItem[];
  /** The live snapshot this drawing shows: the summary and every chart should show the same one. */
  version: number;
}) {
  return (
    <section
      ref={attach}
      className="card chart"
      data-testid={testId}
      data-snapshot-version={version}
      aria-label={title}
    >
      <h3>{title}</h3>
      {note && <p className="muted small">{note}</p>}
      {legend && <ChartLegend items={legend} />}
      <div className="chart-body">{children}</div>
    </section>
  );
}
