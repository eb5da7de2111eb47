/**
 * Drives the SplitScope page through its own controls, for the Playwright specs and for the
 * end-to-end benchmark alike. No test-runner imports here: the benchmark runs it as a plain script.
 */
import type { CDPSession, ConsoleMessage, Page, WebSocket as PlaywrightWebSocket } from '@playwright/test';
import { WIRE_EVENT_CODES } from '../src/core/events';
import { readVarint } from '../src/core/protocol';
import type { InferenceRecord } from '../src/core/record';
import { KIND_EVENT, KIND_EVENT_ACK } from '../src/core/wireParser';

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

export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
    await this.page.locator('[data-testid="status.phase"][data-phase="ready"]').waitFor({ timeout });
  }
}

export type RunModeId = 'on-device' | 'offload' | 'split' | 'compare' | 'auto';

export interface RunOptions {
  mode: RunModeId;
  imagesPerRequest?: number;
  levelId?: string;
  bits?: number;
  format?: 'png' | 'webp' | 'raw';
  webpQuality?: number;
  stopAfterImages?: number;
  maxInFlight?: number;
  rate?: { imagesPerSecond: number };
  startIndex?: number;
  /** Emulated device slowdown factor (default 1: the device's real speed). */
  slowdown?: number;
  /** Split mode's early-exit threshold (default off). */
  exitThreshold?: number | null;
  /** Auto mode's latency target per request, ms (default: the page's, 250). */
  sloMs?: number;
}

export class RunDriver {
  constructor(private readonly app: SplitScopePage) {}

  /** Sets every control the run depends on and clears the previous session's records. */
  async configure(options: RunOptions): Promise<void> {
    const app = this.app;
    await app.testId(`controls.mode.${options.mode}`).click();
    await app.testId('controls.reset').click();
    if (options.mode === 'auto' && options.sloMs !== undefined)
      await app.testId('controls.slo').fill(String(options.sloMs));
    if (options.levelId) await app.testId('controls.level').selectOption(options.levelId);
    if (options.bits) await app.testId('controls.bits').fill(String(options.bits));
    if (options.format) await app.testId('controls.format').selectOption(options.format);
    if (options.format === 'webp' && options.webpQuality)
      await app.testId('controls.webp-quality').fill(String(options.webpQuality));
    if (options.imagesPerRequest)
      await app.testId('controls.images-per-request').fill(String(options.imagesPerRequest));
    if (options.maxInFlight) await app.testId('controls.max-in-flight').fill(String(options.maxInFlight));
    if (options.rate) {
      await app.testId('controls.rate-kind').selectOption('fixed');
      await app.testId('controls.images-per-second').fill(String(options.rate.imagesPerSecond));
    } else {
      await app.testId('controls.rate-kind').selectOption('max');
    }
    await app.testId('controls.start-index').fill(String(options.startIndex ?? 0));
    await app.testId('controls.slowdown').selectOption(String(options.slowdown ?? 1));
    const exit = options.exitThreshold ?? null;
    await app.testId('controls.exit-threshold').selectOption(exit === null ? 'off' : String(exit));
    await app.testId('controls.stop-after').fill(String(options.stopAfterImages ?? 0));
  }

  async start(): Promise<void> {
    await this.app.testId('controls.start').click();
  }

  async stop(): Promise<void> {
    await this.app
      .testId('controls.stop')
      .click({ timeout: 5000 })
      .catch(() => undefined);
  }

  /** Waits until the run stops by itself (stop-after) and every request it sent has ended. */
  async waitForRunEnd(timeoutMs: number): Promise<void> {
    await waitFor(
      () => this.app.snapshot(),
      (snapshot) => !snapshot.running,
      timeoutMs,
      'the run to stop',
    );
    await waitFor(
      () => this.app.snapshot(),
      ({ counters }) => counters.sent === counters.answered + counters.failed,
      60_000,
      'every request to end',
    );
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

  /** Uplink in bit/s (null: off). Download is left unthrottled; latency adds nothing to WebSockets. */
  async uplink(bitsPerSecond: number | null): Promise<void> {
    await this.session.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: bitsPerSecond === null ? -1 : bitsPerSecond / 8,
    });
  }
}
