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
