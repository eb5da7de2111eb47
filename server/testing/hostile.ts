/**
 * A hostile client's toolkit for the fuzz suite (server/fuzz.test.ts) and the soak (bench/fuzz.ts):
 * the real tail server as a child process, so a crash is an exit we can see, and raw
 * engine.io/socket.io frames over a raw WebSocket (`ws`, socket.io's own dependency), so nothing
 * a well-behaved client library would refuse to send is out of reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { Decoder, ExtensionCodec, encode } from '@msgpack/msgpack';
import sharp from 'sharp';
import WebSocket from 'ws';
import { SERVER_NODE_FLAGS } from '../nodeFlags';
import { REPO_ROOT } from './helpers';

export interface ChildServer {
  port: number;
  url: string;
  pid: number;
  /** null while running. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Resident set size from /proc (Linux); null elsewhere. */
  rssBytes(): number | null;
  kill(signal?: NodeJS.Signals): void;
}

/** server/index.ts on a random port, node itself as the process (no npx/tsx wrapper), logs captured. */
export async function spawnServer(extraArgs: string[] = [], timeoutMs = 60_000): Promise<ChildServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...SERVER_NODE_FLAGS,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'server/index.ts'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-static',
      '--log-level',
      'info',
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exitState: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitState = { code, signal };
      resolve(exitState);
    }),
  );
  const started = Date.now();
  let port = 0;
  while (!port) {
    const match = /local: +https?:\/\/localhost:(\d+)\//.exec(output);
    if (match) port = Number(match[1]);
    else if (exitState) throw new Error(`server exited before listening:\n${output}`);
    else if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`server did not print its URL within ${timeoutMs} ms:\n${output}`);
    } else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const pid = child.pid!;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid,
    exit: () => exitState,
    exited,
    output: () => output,
    rssBytes: () => {
      try {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return match ? Number(match[1]) * 1024 : null;
      } catch {
        return null;
      }
    },
    kill: (signal = 'SIGTERM') => {
      if (!exitState) child.kill(signal);
    },
  };
}

// notepack (socket.io-msgpack-parser) writes undefined as fixext 1 of type 0.
const extensions = new ExtensionCodec();
extensions.register({
  type: 0,
  encode: () => null,
  decode: (data) => (data.length === 1 ? undefined : data),
});
const replyDecoder = new Decoder({ extensionCodec: extensions });

export interface ReplyPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** msgpack bytes of a socket.io packet, exactly as a stock msgpack client would build them. */
export function msgpackFrame(packet: Record<string, unknown>): Uint8Array {
  return encode(packet);
}

export type Outcome = { kind: 'reply'; packet: ReplyPacket } | { kind: 'closed' } | { kind: 'timeout' };

/**
 * One raw engine.io v4 WebSocket session: answers the server's pings, decodes its msgpack
 * packets, and says whether an ack id was answered or the socket closed.
 */
export class RawSession {
  private readonly ws: WebSocket;
  private readonly replies = new Map<number, ReplyPacket[]>();
  private readonly waiters = new Set<() => void>();
  private closedFlag = false;
  /** Packets that were not acks (CONNECT, DISCONNECT, events such as server-closing). */
  readonly events: ReplyPacket[] = [];
  /** Error text if the upgrade was refused (status and body), else null. */
  refusal: string | null = null;
  readonly opened: Promise<void>;
  private rejectOpen: (error: Error) => void = () => undefined;

  constructor(port: number, options: { origin?: string } = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
      ...(options.origin ? { origin: options.origin } : {}),
      maxPayload: 64 * 1024 * 1024,
    });
    this.ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        this.refusal = `${response.statusCode ?? 0} ${body}`;
        this.rejectOpen(new Error(this.refusal));
        this.markClosed();
      });
    });
    this.ws.on('error', () => this.markClosed());
    this.ws.on('close', () => this.markClosed());
    this.opened = new Promise<void>((resolve, reject) => {
      this.rejectOpen = reject;
      this.ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          const text = data.toString();
          if (text.startsWith('0')) resolve();
          else if (text === '2') this.ws.send('3');
          return;
        }
        let packet: ReplyPacket;
        try {
          packet = replyDecoder.decode(data) as ReplyPacket;
        } catch {
          return;
        }
        if (packet.type === 3 && typeof packet.id === 'number') {
          const list = this.replies.get(packet.id) ?? [];
          list.push(packet);
          this.replies.set(packet.id, list);
        } else {
          this.events.push(packet);
        }
        this.notify();
      });
      const failed = (): void => reject(new Error(this.refusal ?? 'websocket closed before open'));
      this.ws.once('close', failed);
      this.ws.once('error', failed);
    });
    this.opened.catch(() => undefined);
  }

  private markClosed(): void {
    this.closedFlag = true;
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  get closed(): boolean {
    return this.closedFlag || this.ws.readyState !== WebSocket.OPEN;
  }

  /** Opens the engine.io session and the socket.io namespace '/' (msgpack CONNECT). */
  async connect(timeoutMs = 5000): Promise<void> {
    await this.opened;
    this.send(msgpackFrame({ type: 0, nsp: '/' }));
    const ok = await this.until(() => this.events.some((p) => p.type === 0), timeoutMs);
    if (!ok) throw new Error(`no socket.io CONNECT reply (${this.closed ? 'closed' : 'timeout'})`);
  }

  send(frame: Uint8Array | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  clearReplies(): void {
    this.replies.clear();
  }

  /** Replies received so far for this ack id. */
  repliesTo(id: number): ReplyPacket[] {
    return this.replies.get(id) ?? [];
  }

  /** Resolves true when predicate holds, false when the socket closed or the time ran out first. */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate()) return finish(true);
        if (this.closed) return finish(false);
      };
      const timer = setTimeout(() => finish(predicate()), timeoutMs);
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first reply to `id`, or why there was none. */
  async outcome(id: number, timeoutMs: number): Promise<Outcome> {
    const answered = await this.until(() => this.repliesTo(id).length > 0, timeoutMs);
    if (answered) return { kind: 'reply', packet: this.repliesTo(id)[0]! };
    return this.closed ? { kind: 'closed' } : { kind: 'timeout' };
  }

  close(): void {
    this.ws.terminate();
  }
}

/** `error.code` of a typed error reply, or 'ok', or null when the reply is not a Response. */
export function replyCode(packet: ReplyPacket): string | null {
  const response = Array.isArray(packet.data) ? (packet.data[0] as unknown) : undefined;
  if (!response || typeof response !== 'object') return null;
  const { ok, error } = response as { ok?: unknown; error?: { code?: unknown } };
  if (ok === true) return 'ok';
  if (ok === false && typeof error?.code === 'string') return error.code;
  return null;
}

export function hex(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return `text:${JSON.stringify(bytes.slice(0, 80))}`;
  return (
    Buffer.from(bytes.subarray(0, 96)).toString('hex') + (bytes.length > 96 ? `…(${bytes.length} B)` : '')
  );
}

/** Hex to bytes, for the packets. */
export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** A 28×28 PNG padded with a tEXt chunk to exactly `size` bytes: the largest legal offload image. */
export async function pngOfSize(size: number, seed: number): Promise<Uint8Array> {
  const pixels = Buffer.alloc(784, 0);
  for (let i = 0; i < 784; i++) pixels[i] = (i * 31 + seed * 17) & 0xff;
  const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const iend = png.subarray(png.length - 12);
  const dataLength = size - png.length - 12;
  const chunk = Buffer.alloc(12 + dataLength);
  chunk.writeUInt32BE(dataLength, 0);
  chunk.write('tEXt', 4, 'latin1');
  chunk.write('pad\0', 8, 'latin1');
  chunk.fill(0x78, 12, 8 + dataLength);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + dataLength)), 8 + dataLength);
  return new Uint8Array(Buffer.concat([png.subarray(0, png.length - 12), chunk, iend]));
}
