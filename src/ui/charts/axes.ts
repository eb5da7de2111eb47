/**
 * Axis ticks computed here, cheaply, for the charts that redraw ten times a second: recharts'
 * own "nice" ticks go through decimal.js on every redraw (measured: a visible share of a redraw).
 */

const STEPS = [1, 2, 2.5, 5, 10];

/** A round step that splits `span` into at most `count` intervals. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = STEPS.find((candidate) => candidate * magnitude >= raw) ?? 10;
  return step * magnitude;
}

export interface LinearAxis {
  domain: [number, number];
  ticks: number[];
}

/**
 * Domain and ticks for values between `min` and `max`: the domain is rounded out to whole steps
 * (from zero when `fromZero`), and the ticks are every step inside it.
 */
export function linearAxis(min: number, max: number, count = 4, fromZero = false): LinearAxis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [0, 1] };
  let low = fromZero ? Math.min(0, min) : min;
  let high = max;
  if (high <= low) high = low + 1;
  const step = niceStep(high - low, count);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let value = low; value <= high + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  return { domain: [ticks[0]!, ticks[ticks.length - 1]!], ticks };
}

/**
 * Ticks for a data-extent axis (time, sequence numbers): round values inside [min, max] only, at
 * least `minStep` apart (whole seconds, whole requests).
 */
export function extentTicks(min: number, max: number, count = 5, minStep = 1): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return Number.isFinite(min) ? [min] : [];
  const step = Math.max(minStep, niceStep(max - min, count));
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max; value += step)
    ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

/** Powers of ten that cover [min, max] on a log axis (at least two). */
export function logAxis(min: number, max: number): LinearAxis {
  const safeMin = Math.max(min, 1e-9);
  const low = Math.floor(Math.log10(safeMin));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(max, safeMin))));
  const ticks: number[] = [];
  for (let exponent = low; exponent <= high; exponent++) ticks.push(10 ** exponent);
  return { domain: [ticks[0]!, ticks[ticks.length - 1]!], ticks };
}

/** Decimals that show every multiple of `step` exactly (0.25 → 2, 5 → 0). */
export function decimalsFor(step: number): number {
  for (let decimals = 0; decimals < 8; decimals++) {
    const scaled = step * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return decimals;
  }
  return 8;
}

// One formatter per number of decimals, so a redraw with the same step passes recharts the same prop.
const formatters = new Map<number, (value: number) => string>();
function formatterFor(decimals: number): (value: number) => string {
  let format = formatters.get(decimals);
  if (!format) {
    // "2.5 5 7.5", not "2.5 5.0 7.5": dropping trailing zeros keeps neighbouring labels distinct.
    format = (value: number) => String(Number(value.toFixed(decimals)));
    formatters.set(decimals, format);
  }
  return format;
}

export interface TimeAxis extends LinearAxis {
  /** Tick label: as many decimals as the step needs, so neighbouring ticks never read the same. */
  format: (value: number) => string;
}

/**
 * A session-time axis (seconds) over exactly the data's extent, with round ticks inside it at
 * any zoom: whole seconds over long spans, tenths or hundredths under a second. At least two ticks
 * whenever the span is positive (recharts would otherwise pick its own and print "0 0 0 0").
 */
export function timeAxis(min: number, max: number, count = 5): TimeAxis {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    return { domain: [0, 1], ticks: [0, 1], format: String };
  const high = max > min ? max : min + 1;
  const step = niceStep(high - min, count);
  const ticks: number[] = [];
  // Within a rounding error of an end, a tick is put on the end itself.
  for (let value = Math.ceil(min / step - 1e-9) * step; value <= high + step * 1e-9; value += step)
    ticks.push(Math.min(Math.max(Number(value.toPrecision(12)), min), high));
  return { domain: [min, high], ticks, format: formatterFor(decimalsFor(step)) };
}

/**
 * A value axis fitted to the data with a small margin (a tenth of the spread, at least `minPad`),
 * never past `ceiling`: points that differ by a point or two stay apart instead of sitting on
 * one flat line of a fixed 0-100 axis.
 */
export function fittedAxis(values: readonly number[], minPad: number, ceiling = Infinity): LinearAxis {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return linearAxis(0, 1);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const pad = Math.max((max - min) * 0.1, minPad);
  const axis = linearAxis(min - pad, Math.min(ceiling, max + pad), 4);
  if (axis.domain[1] <= ceiling) return axis;
  const ticks = axis.ticks.filter((tick) => tick <= ceiling);
  if (ticks[ticks.length - 1] !== ceiling) ticks.push(ceiling);
  return { domain: [axis.domain[0], ceiling], ticks };
}

/** Smallest and largest finite value of `keys` over `rows`. */
export function rangeOf(rows: readonly Record<string, unknown>[], keys: readonly string[]): [number, number] {
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

/** A sequence-number axis of a live chart: exactly the data's extent, whole-number ticks inside. */
export function extentAxis(rows: readonly Record<string, unknown>[], key: string): LinearAxis {
  const [min, max] = rangeOf(rows, [key]);
  if (!Number.isFinite(min)) return { domain: [0, 1], ticks: [0, 1] };
  return { domain: [min, max > min ? max : min + 1], ticks: extentTicks(min, max > min ? max : min + 1) };
}

/** The session-time axis of a live chart over `rows[key]` (seconds). */
export function rowsTimeAxis(rows: readonly Record<string, unknown>[], key: string): TimeAxis {
  const [min, max] = rangeOf(rows, [key]);
  return timeAxis(Number.isFinite(min) ? min : 0, Number.isFinite(max) ? max : 1);
}

export type ValueAxis = { kind: 'from-zero' } | { kind: 'log' } | { kind: 'fixed'; axis: LinearAxis };

export const FROM_ZERO: ValueAxis = { kind: 'from-zero' };
export const LOG: ValueAxis = { kind: 'log' };

export function valueAxis(
  rows: readonly Record<string, unknown>[],
  keys: readonly string[],
  spec: ValueAxis,
): LinearAxis {
  if (spec.kind === 'fixed') return spec.axis;
  const [min, max] = rangeOf(rows, keys);
  if (!Number.isFinite(min)) return spec.kind === 'log' ? logAxis(1, 10) : linearAxis(0, 1, 4, true);
  return spec.kind === 'log' ? logAxis(min, max) : linearAxis(0, max, 4, true);
}
