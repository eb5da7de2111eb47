import { describe, expect, it } from 'vitest';
import { ChartScheduler } from './chartScheduler';

/** A manual clock and frame queue: each chart render "costs" a set number of milliseconds. */
function harness(costMs: Record<string, number>, frameBudgetMs = 12) {
  let clock = 0;
  const frames: (() => void)[] = [];
  const drawn: string[] = [];
  const scheduler = new ChartScheduler<{ version: number }>(
    { version: 0 },
    {
      frameBudgetMs,
      now: () => clock,
      requestFrame: (callback) => frames.push(callback),
    },
  );
  const register = (id: string) =>
    scheduler.register(id, () => {
      drawn.push(id);
      clock += costMs[id] ?? 1;
    });
  const runFrame = () => {
    const frame = frames.shift();
    if (!frame) throw new Error('no frame scheduled');
    frame();
  };
  return { scheduler, register, runFrame, drawn, frames };
}

describe('ChartScheduler', () => {
  it('draws every chart in one frame when they fit the budget', () => {
    const h = harness({ a: 2, b: 2, c: 2 });
    ['a', 'b', 'c'].forEach(h.register);
    h.scheduler.offer({ version: 1 });
    h.runFrame();
    expect(h.drawn).toEqual(['a', 'b', 'c']);
    expect(h.frames).toHaveLength(0);
  });

  it('stops a frame once the budget is spent and goes on, stalest first, in the next', () => {
    const h = harness({ a: 8, b: 8, c: 8 }, 12);
    ['a', 'b', 'c'].forEach(h.register);
    h.scheduler.offer({ version: 1 });
    h.runFrame();
    expect(h.drawn).toEqual(['a', 'b']);
    h.runFrame();
    expect(h.drawn).toEqual(['a', 'b', 'c']);
    // A new snapshot: c is now the freshest, so a and b go first.
    h.scheduler.offer({ version: 2 });
    h.runFrame();
    expect(h.drawn.slice(3)).toEqual(['a', 'b']);
    h.runFrame();
    expect(h.drawn.slice(5)).toEqual(['c']);
  });

  it('skips charts off screen and catches them up when they come back', () => {
    const h = harness({});
    ['a', 'b'].forEach(h.register);
    h.scheduler.setVisible('b', false);
    h.scheduler.offer({ version: 1 });
    h.runFrame();
    expect(h.drawn).toEqual(['a']);
    expect(h.frames).toHaveLength(0);
    h.scheduler.setVisible('b', true);
    h.runFrame();
    expect(h.drawn).toEqual(['a', 'b']);
  });

  it('draws a chart once per snapshot, however many frames pass', () => {
    const h = harness({});
    h.register('a');
    h.scheduler.offer({ version: 1 });
    h.scheduler.offer({ version: 2 });
    h.runFrame();
    expect(h.drawn).toEqual(['a']);
    expect(h.frames).toHaveLength(0);
  });

  it('counts updates and render time per chart, and forgets unregistered charts', () => {
    const h = harness({ a: 3 });
    const unregister = h.register('a');
    h.scheduler.offer({ version: 1 });
    h.runFrame();
    h.scheduler.offer({ version: 2 });
    h.runFrame();
    expect(h.scheduler.stats()).toEqual({ a: { updates: 2, totalMs: 6, maxMs: 3, visible: true } });
    unregister();
    h.scheduler.offer({ version: 3 });
    expect(h.scheduler.stats()).toEqual({});
    h.runFrame();
    expect(h.drawn).toEqual(['a', 'a']);
  });

  it('starts drawing a new snapshot through requestFirstFrame and continues in later frames', () => {
    let clock = 0;
    const firstFrames: (() => void)[] = [];
    const frames: (() => void)[] = [];
    const drawn: string[] = [];
    const scheduler = new ChartScheduler<{ version: number }>(
      { version: 0 },
      {
        frameBudgetMs: 12,
        now: () => clock,
        requestFrame: (callback) => frames.push(callback),
        requestFirstFrame: (callback) => firstFrames.push(callback),
      },
    );
    for (const id of ['a', 'b', 'c'])
      scheduler.register(id, () => {
        drawn.push(id);
        clock += 8;
      });
    scheduler.offer({ version: 1 });
    // Only the first-frame request: the publisher's own frame draws what fits its budget...
    expect([firstFrames.length, frames.length]).toEqual([1, 0]);
    firstFrames.shift()!();
    expect(drawn).toEqual(['a', 'b']);
    // ...and the rest waits for the next animation frame, not for another first-frame request.
    expect([firstFrames.length, frames.length]).toEqual([0, 1]);
    // A snapshot offered while that frame is pending joins it instead of asking for another.
    scheduler.offer({ version: 2 });
    expect([firstFrames.length, frames.length]).toEqual([0, 1]);
    // The round of version 1 finishes first (c), then version 2's round starts in the next frame.
    frames.shift()!();
    expect(drawn).toEqual(['a', 'b', 'c']);
    frames.shift()!();
    expect(drawn).toEqual(['a', 'b', 'c', 'a', 'b']);
    frames.shift()!();
    expect(drawn).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(frames).toHaveLength(0);
    // With nothing pending, the next snapshot starts in its publisher's frame again.
    scheduler.offer({ version: 3 });
    expect([firstFrames.length, frames.length]).toEqual([1, 0]);
  });

  it('draws one snapshot into every chart on screen before any gets a newer one', () => {
    let clock = 0;
    const frames: (() => void)[] = [];
    const shown: Record<string, number> = {};
    const scheduler = new ChartScheduler<{ version: number }>(
      { version: 0 },
      { frameBudgetMs: 12, now: () => clock, requestFrame: (callback) => frames.push(callback) },
    );
    for (const id of ['summary', 'a', 'b'])
      scheduler.register(id, (snapshot) => {
        shown[id] = snapshot.version;
        clock += 8;
      });
    scheduler.offer({ version: 1 });
    frames.shift()!();
    // Version 2 comes while version 1 is half drawn: the rest of the page still gets version 1.
    scheduler.offer({ version: 2 });
    frames.shift()!();
    expect(shown).toEqual({ summary: 1, a: 1, b: 1 });
    frames.shift()!();
    frames.shift()!();
    expect(shown).toEqual({ summary: 2, a: 2, b: 2 });
    expect(frames).toHaveLength(0);
    // A chart mounting now starts from what the others show.
    expect(scheduler.current().version).toBe(2);
  });

  it('flushAll draws the newest snapshot into every chart at once, off screen too', () => {
    const h = harness({ a: 20, b: 20, c: 20 }, 12);
    ['a', 'b', 'c'].forEach(h.register);
    h.scheduler.setVisible('c', false);
    h.scheduler.offer({ version: 1 });
    expect(h.scheduler.flushAll().version).toBe(1);
    expect([...h.drawn].sort()).toEqual(['a', 'b', 'c']);
    // Nothing left to draw for version 1.
    h.runFrame();
    expect(h.drawn).toHaveLength(3);
  });
});
