/**
 * Page objects for the SplitScope page. Specs speak in terms of the app (mode, start, counters),
 * never in selectors, and every page load is watched for console errors.
 */
import { test as base, expect, type ConsoleMessage, type Page } from '@playwright/test';
import type { CDPSession, WebSocket as PlaywrightWebSocket } from '@playwright/test';
import { readVarint } from '../src/core/protocol';
import { WIRE_EVENT_CODES } from '../src/core/events';
import { KIND_EVENT, KIND_EVENT_ACK } from '../src/core/wireParser';
import type { InferenceRecord } from '../src/core/record';

export interface SplitScopeSnapshot {
  phase: string;
  backend: { kind: string; label: string } | null;
  webgpu: { available: boolean; reason?: string; adapter?: { vendor: string; architecture: string } } | null;
  crossOriginIsolated: boolean;
  connection: string;
  running: boolean;
  counters: {
    sent: number;
    answered: number;
    failed: number;
    failedByReason: Record<string, number>;
    local: number;
    images: number;
    correct: number;
  };
  estimate: { uplinkBps: number | null; rttMs: number | null; samples: number };
}

export class SplitScopePage {
  readonly consoleErrors: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
  }

  testId(id: string) {
    return this.page.getByTestId(id);
  }

  async open(query = ''): Promise<void> {
    await this.page.goto(`/${query}`);
  }

  async snapshot(): Promise<SplitScopeSnapshot> {
    return this.page.evaluate(() => {
      const api = (window as unknown as { __splitscope: Record<string, unknown> }).__splitscope;
      return {
        phase: api.phase,
        backend: api.backend,
        webgpu: api.webgpu,
        crossOriginIsolated: api.crossOriginIsolated,
        connection: api.connection,
        running: api.running,
        counters: api.counters,
        estimate: api.estimate,
      } as SplitScopeSnapshot;
    });
  }

  async waitUntilReady(timeout = 90_000): Promise<void> {
    await expect(this.testId('status.phase')).toHaveAttribute('data-phase', 'ready', { timeout });
  }

  /** `allow`: errors the browser itself logs for a situation the spec creates on purpose. */
  expectNoConsoleErrors(allow: RegExp[] = []): void {
    const errors = this.consoleErrors.filter((error) => !allow.some((pattern) => pattern.test(error)));
    expect(errors, `console errors:\n${errors.join('\n')}`).toEqual([]);
  }
}

export const test = base.extend<{ app: SplitScopePage }>({
  app: async ({ page }, use) => {
    await use(new SplitScopePage(page));
  },
});

export { expect };

// ---------------------------------------------------------------------------------------------
// Driving a run


export type RunModeId = 'on-device' | 'offload' | 'split' | 'compare';

export interface RunOptions {
  mode: RunModeId;
  imagesPerRequest?: number;
  levelId?: string;
  bits?: number;
  format?: 'png' | 'webp' | 'raw';
  stopAfterImages?: number;
  maxInFlight?: number;
  rate?: { imagesPerSecond: number };
  startIndex?: number;
}

export class RunDriver {
  constructor(private readonly app: SplitScopePage) {}

  async configure(options: RunOptions): Promise<void> {
    const { page } = this.app;
    await this.app.testId(`controls.mode.${options.mode}`).click();
    await this.app.testId('controls.reset').click();
    if (options.levelId) await this.app.testId('controls.level').selectOption(options.levelId);
    if (options.bits) await this.app.testId('controls.bits').fill(String(options.bits));
    if (options.format) await this.app.testId('controls.format').selectOption(options.format);
    if (options.imagesPerRequest)
      await this.app.testId('controls.images-per-request').fill(String(options.imagesPerRequest));
    if (options.maxInFlight) await this.app.testId('controls.max-in-flight').fill(String(options.maxInFlight));
    if (options.rate) {
      await this.app.testId('controls.rate-kind').selectOption('fixed');
      await this.app.testId('controls.images-per-second').fill(String(options.rate.imagesPerSecond));
    } else {
      await this.app.testId('controls.rate-kind').selectOption('max');
    }
    await this.app.testId('controls.start-index').fill(String(options.startIndex ?? 0));
    await this.app.testId('controls.stop-after').fill(String(options.stopAfterImages ?? 0));
    await page.evaluate(() => undefined);
  }

  async start(): Promise<void> {
    await this.app.testId('controls.start').click();
  }

  async stop(): Promise<void> {
    await this.app.testId('controls.stop').click({ timeout: 5000 }).catch(() => undefined);
  }

  /** Waits until the run stops by itself (stop-after) and every request has ended. */
  async waitForRunEnd(timeout: number): Promise<void> {
    await expect
      .poll(async () => (await this.app.snapshot()).running, { timeout, intervals: [500] })
      .toBe(false);
    await expect
      .poll(
        async () => {
          const records = await this.records();
          return records.length;
        },
        { timeout: 60_000, intervals: [500] },
      )
      .toBeGreaterThan(0);
  }

  records(): Promise<InferenceRecord[]> {
    return this.app.page.evaluate(
      () => (window as unknown as { __splitscope: { records(): unknown[] } }).__splitscope.records() as never,
    );
  }
}

/**
 * Counts the payload bytes of every `infer` WebSocket message the page sends, by request id, as
 * Playwright sees them (framesent): the ground truth for the app's wire-byte figures.
 */
export class FrameRecorder {
  readonly inferBytesByRequest = new Map<number, number>();
  readonly sentMessages: number[] = [];

  constructor(page: Page) {
    page.on('websocket', (socket: PlaywrightWebSocket) => {
      socket.on('framesent', ({ payload }) => {
        if (typeof payload === 'string') {
          this.sentMessages.push(Buffer.byteLength(payload));
          return;
        }
        this.sentMessages.push(payload.length);
        const requestId = inferRequestId(new Uint8Array(payload));
        if (requestId !== null) this.inferBytesByRequest.set(requestId, payload.length);
      });
    });
  }
}

/** The request id inside a compact `infer` frame, or null for any other message. */
export function inferRequestId(frame: Uint8Array): number | null {
  let at = 1;
  if (frame[0] === KIND_EVENT_ACK) {
    const ack = readVarint(frame, at);
    if (!ack) return null;
    at = ack.next;
  } else if (frame[0] !== KIND_EVENT) {
    return null;
  }
  if (frame[at] !== WIRE_EVENT_CODES.infer) return null;
  // body: u8 version, u8 mode, varint requestId
  return readVarint(frame, at + 3)?.value ?? null;
}

/** DevTools' throttle, through the same CDP command the Network panel uses. */
export class Throttle {
  private constructor(private readonly session: CDPSession) {}

  static async attach(page: Page): Promise<Throttle> {
    const session = await page.context().newCDPSession(page);
    await session.send('Network.enable');
    return new Throttle(session);
  }

  async uplink(bitsPerSecond: number | null): Promise<void> {
    await this.session.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: bitsPerSecond === null ? -1 : bitsPerSecond / 8,
    });
  }
}
