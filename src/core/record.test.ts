import { describe, expect, it } from 'vitest';
import { computePhases, correctCount, sumOfPhases, type InferenceRecord } from './record';

describe('computePhases', () => {
  it('adds up to the total for a split request', () => {
    const phases = computePhases(
      { start: 100, computeEnd: 112.5, encodeEnd: 112.6, sent: 113.1, end: 190 },
      { queuedMs: 1.5, decodeMs: 0.1, computeMs: 3, totalMs: 5 },
      { offsetMs: 1000, serverReceivedAt: 1000 + 150, serverSentAt: 1000 + 155 },
    );
    expect(phases.totalMs).toBeCloseTo(90, 9);
    expect(sumOfPhases(phases)).toBeCloseTo(phases.totalMs, 9);
    expect(phases.deviceMs).toBeCloseTo(12.5, 9);
    expect(phases.encodeMs).toBeCloseTo(0.1, 9);
    expect(phases.overheadMs).toBeCloseTo(0.5, 9);
    expect(phases.networkMs).toBeCloseTo(76.9 - 5, 9);
    expect(phases.serverQueueMs).toBe(1.5);
    expect(phases.serverComputeMs).toBe(3.5);
    expect(phases.uplinkMs).toBeCloseTo(150 - 113.1, 9);
    expect(phases.uplinkMs! + phases.downlinkMs!).toBeCloseTo(phases.networkMs, 9);
  });

  it('adds up on the device alone, with no network phases', () => {
    const phases = computePhases({ start: 0, computeEnd: 8, encodeEnd: 8, end: 9 });
    expect(phases).toMatchObject({ deviceMs: 8, encodeMs: 0, networkMs: 0, overheadMs: 1, totalMs: 9 });
    expect(sumOfPhases(phases)).toBe(9);
    expect(phases.uplinkMs).toBeNull();
  });

  it('charges the hop from the socket thread to the page as overhead, not network', () => {
    const phases = computePhases(
      { start: 0, computeEnd: 10, encodeEnd: 11, sent: 11.5, received: 60, end: 75 },
      { queuedMs: 1, decodeMs: 0, computeMs: 4, totalMs: 5 },
    );
    expect(phases.networkMs).toBeCloseTo(43.5, 9);
    expect(phases.overheadMs).toBeCloseTo(0.5 + 15, 9);
    expect(sumOfPhases(phases)).toBeCloseTo(75, 9);
  });

  it('books the wait of a request that was sent but never answered as network time', () => {
    const phases = computePhases({ start: 0, computeEnd: 4, encodeEnd: 5, sent: 6, end: 30_006 });
    expect(phases).toMatchObject({
      deviceMs: 4,
      encodeMs: 1,
      overheadMs: 1,
      networkMs: 30_000,
      uplinkMs: null,
    });
    expect(sumOfPhases(phases)).toBe(phases.totalMs);
  });

  it('never lets a phase go negative when the server claims more time than the round trip', () => {
    const phases = computePhases(
      { start: 0, computeEnd: 0, encodeEnd: 2, sent: 2, end: 10 },
      { queuedMs: 20, decodeMs: 0, computeMs: 20, totalMs: 40 },
    );
    expect(phases.networkMs).toBe(0);
    expect(phases.serverQueueMs).toBe(8);
    expect(phases.serverComputeMs).toBe(0);
    expect(sumOfPhases(phases)).toBe(phases.totalMs);
    for (const value of Object.values(phases)) if (value !== null) expect(value).toBeGreaterThanOrEqual(0);
  });

  it('holds for random timelines', () => {
    for (let trial = 0; trial < 500; trial++) {
      const start = Math.random() * 1e6;
      const computeEnd = start + Math.random() * 50;
      const encodeEnd = computeEnd + Math.random() * 5;
      const sent = encodeEnd + Math.random();
      const end = sent + Math.random() * 500;
      const total = Math.random() * (end - sent);
      const queued = Math.random() * total;
      const phases = computePhases(
        { start, computeEnd, encodeEnd, sent, end },
        { queuedMs: queued, decodeMs: 0, computeMs: total - queued, totalMs: total },
        { offsetMs: 0, serverReceivedAt: sent + Math.random() * (end - sent), serverSentAt: end },
      );
      expect(sumOfPhases(phases)).toBeCloseTo(end - start, 6);
    }
  });
});

describe('correctCount', () => {
  it('counts predictions equal to labels', () => {
    const record = {
      images: [
        { index: 0, label: 3, predicted: 3, confidence: 0.9 },
        { index: 1, label: 1, predicted: 2, confidence: 0.5 },
        { index: 2, label: 7, predicted: 7, confidence: 0.99 },
      ],
    } as InferenceRecord;
    expect(correctCount(record)).toBe(2);
  });
});
