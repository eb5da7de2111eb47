import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantile } from './stats';
import { markovOnOffTrace, shippedTraces, stepTrace } from './traceGenerator';
import {
  TRACE_OPPORTUNITY_BYTES,
  TraceFormatError,
  TraceLink,
  capacityPerStep,
  formatMahimahiTrace,
  meanCapacityBps,
  opportunitiesBetween,
  parseMahimahiTrace,
} from './uplinkTrace';

describe('parseMahimahiTrace', () => {
  it('reads repeated times as several opportunities and takes the last time as the period', () => {
    const trace = parseMahimahiTrace('1\n1\n3\n\n10\n', 'tiny');
    expect(Array.from(trace.opportunitiesMs)).toEqual([1, 1, 3, 10]);
    expect(trace.periodMs).toBe(10);
    expect(trace.name).toBe('tiny');
  });

  it('names the line of a bad entry', () => {
    expect(() => parseMahimahiTrace('1\n2\nabc\n')).toThrow(/line 3/);
    expect(() => parseMahimahiTrace('5\n4\n')).toThrow(/must not decrease/);
    expect(() => parseMahimahiTrace('1.5\n')).toThrow(TraceFormatError);
    expect(() => parseMahimahiTrace('-1\n')).toThrow(TraceFormatError);
    expect(() => parseMahimahiTrace('\n\n')).toThrow(/no delivery opportunities/);
    expect(() => parseMahimahiTrace('0\n0\n')).toThrow(/period/);
  });

  it('round-trips through its own format', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 200 }), (raw) => {
        const times = [...raw].sort((a, b) => a - b);
        if (times[times.length - 1] === 0) times.push(1);
        const trace = parseMahimahiTrace(times.join('\n'));
        expect(parseMahimahiTrace(formatMahimahiTrace(trace)).opportunitiesMs).toEqual(trace.opportunitiesMs);
      }),
    );
  });
});

describe('opportunitiesBetween', () => {
  const trace = parseMahimahiTrace('1\n1\n3\n10\n');

  it('counts half-open windows and loops the trace', () => {
    expect(opportunitiesBetween(trace, 0, 10)).toBe(3);
    expect(opportunitiesBetween(trace, 0, 20)).toBe(7);
    expect(opportunitiesBetween(trace, 10, 11)).toBe(1);
    expect(opportunitiesBetween(trace, 0, 10.5)).toBe(4);
    expect(opportunitiesBetween(trace, 10.5, 20.5)).toBe(4);
    expect(opportunitiesBetween(trace, 0, 1000.5)).toBe(400);
    expect(opportunitiesBetween(trace, 5, 5)).toBe(0);
  });

  it('adds up over adjacent windows', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (a, b, c) => {
          const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
          expect(opportunitiesBetween(trace, x, y) + opportunitiesBetween(trace, y, z)).toBe(
            opportunitiesBetween(trace, x, z),
          );
        },
      ),
    );
  });
});

describe('TraceLink', () => {
  it('serves a message ceil(bytes / 1500) opportunities after it is sent', () => {
    const link = new TraceLink(stepTrace('flat', [{ kbps: 1200, durationMs: 1000 }]));
    // 1.2 Mbit/s is one opportunity every 10 ms, at 10, 20, 30, ...
    expect(link.send(0, 100)).toBe(10);
    expect(link.send(15, 3000)).toBe(30);
    expect(link.send(100, 3001)).toBe(120);
  });

  it('packs messages queued behind another into the same opportunity, as mm-link serves bytes', () => {
    const link = new TraceLink(stepTrace('flat', [{ kbps: 1200, durationMs: 1000 }]));
    expect(link.send(0, 1000)).toBe(10);
    expect(link.send(5, 400)).toBe(10);
    expect(link.send(6, 200)).toBe(20);
  });

  it('loses the opportunities of an idle link', () => {
    const link = new TraceLink(stepTrace('flat', [{ kbps: 1200, durationMs: 1000 }]));
    expect(link.send(0, 1000)).toBe(10);
    expect(link.send(50, 100)).toBe(50);
    expect(link.send(51, 100)).toBe(60);
  });

  it('waits out an outage and replays a segment from an offset', () => {
    const trace = stepTrace('outage', [
      { kbps: 1200, durationMs: 100 },
      { kbps: 0, durationMs: 400 },
      { kbps: 1200, durationMs: 500 },
    ]);
    const link = new TraceLink(trace, 150);
    // Link time 0 is trace time 150, inside the outage that ends at 500.
    expect(link.send(0, 100)).toBe(510 - 150);
  });

  it('never delivers before a message is sent, and in FIFO order', () => {
    const markov = shippedTraces()[1]!;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.double({ min: 0, max: 50, noNaN: true })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 120_000 }),
        (messages, offset) => {
          const link = new TraceLink(markov, offset);
          let at = 0;
          let previousArrival = Number.NEGATIVE_INFINITY;
          for (const [bytes, gap] of messages) {
            at += gap;
            const arrival = link.send(at, bytes);
            expect(arrival).toBeGreaterThanOrEqual(at);
            expect(arrival).toBeGreaterThanOrEqual(previousArrival);
            previousArrival = arrival;
          }
        },
      ),
    );
  });

  it('carries exactly the bytes the trace offers when it is kept busy', () => {
    const trace = markovOnOffTrace('m', {
      seed: 3,
      durationMs: 20_000,
      onKbps: 500,
      spread: 2,
      meanOnMs: 2000,
      meanOffMs: 500,
      offKbps: 0,
    });
    const link = new TraceLink(trace);
    let lastArrival = 0;
    const messages = 200;
    for (let i = 0; i < messages; i++) lastArrival = link.send(0, TRACE_OPPORTUNITY_BYTES);
    expect(opportunitiesBetween(trace, 0, lastArrival + 1e-9)).toBe(messages);
  });
});

describe('generated traces', () => {
  it('step traces hold each rate within one opportunity per step', () => {
    const trace = stepTrace('s', [
      { kbps: 2000, durationMs: 3000 },
      { kbps: 64, durationMs: 3000 },
    ]);
    const rates = Array.from(capacityPerStep(trace, 1000));
    expect(rates).toHaveLength(6);
    for (const rate of rates.slice(0, 3)) expect(Math.abs(rate - 2_000_000)).toBeLessThanOrEqual(12_000);
    for (const rate of rates.slice(3)) expect(Math.abs(rate - 64_000)).toBeLessThanOrEqual(12_000);
  });

  it('a Markov on/off trace is repeatable from its seed and has outages', () => {
    const spec = {
      seed: 11,
      durationMs: 60_000,
      onKbps: 800,
      spread: 3,
      meanOnMs: 5000,
      meanOffMs: 2000,
      offKbps: 0,
    };
    const a = markovOnOffTrace('a', spec);
    expect(markovOnOffTrace('a', spec).opportunitiesMs).toEqual(a.opportunitiesMs);
    expect(markovOnOffTrace('a', { ...spec, seed: 12 }).opportunitiesMs).not.toEqual(a.opportunitiesMs);
    const rates = Array.from(capacityPerStep(a, 1000));
    expect(rates.filter((rate) => rate === 0).length).toBeGreaterThan(3);
    expect(Math.max(...rates)).toBeGreaterThan(800_000 / 3);
  });

  it('the shipped trace files equal what the generator makes', () => {
    for (const trace of shippedTraces()) {
      const file = path.resolve('traces', `${trace.name}.up`);
      expect(readFileSync(file, 'utf8')).toBe(formatMahimahiTrace(trace));
    }
  });
});

// The real cellular traces sit beside the repository (../shared/traces), never in it.
const sharedTraces = path.resolve('..', 'shared', 'traces');
describe.skipIf(!existsSync(sharedTraces))('the real cellular traces in ../shared/traces', () => {
  const read = (file: string) =>
    parseMahimahiTrace(readFileSync(path.join(sharedTraces, file), 'utf8'), file.replace(/\.up$/, ''));

  it('match the figures their README gives', () => {
    const tmobile = read('TMobile-UMTS-driving.up');
    expect(tmobile.periodMs / 1000).toBeCloseTo(931, 0);
    expect(meanCapacityBps(tmobile) / 1000).toBeCloseTo(943, -1);
    const tmobileRates = Array.from(capacityPerStep(tmobile));
    expect(tmobileRates.filter((rate) => rate === 0)).toHaveLength(27);
    expect(quantile(tmobileRates, 0.5) / 1000).toBeCloseTo(1080, -2);

    const verizon = read('Verizon-LTE-short.up');
    expect(meanCapacityBps(verizon) / 1000).toBeCloseTo(5946, -2);
    expect(Array.from(capacityPerStep(verizon)).filter((rate) => rate === 0)).toHaveLength(1);
  });
});
