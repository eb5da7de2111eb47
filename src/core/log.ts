/**
 * Tiny namespaced logger shared by the browser and Node.
 *
 * This module is the only place that writes to the console, so tests can silence or capture
 * every log line with one call (setLogSink) and nobody needs a stray console.log.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  readonly namespace: string;
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  /** A logger whose namespace is `<this>:<name>`. */
  child(name: string): Logger;
}

export type LogSink = (
  level: Exclude<LogLevel, 'silent'>,
  namespace: string,
  message: string,
  details: unknown[],
) => void;

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && value in RANK;
}

function initialLevel(): LogLevel {
  // globalThis.process is undefined in the browser; reading it this way keeps the module DOM- and Node-free.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const fromEnv = env?.['SPLITSCOPE_LOG'] ?? env?.['LOG_LEVEL'];
  return isLogLevel(fromEnv) ? fromEnv : 'info';
}

const consoleSink: LogSink = (level, namespace, message, details) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${namespace}] ${message}`;
  // Warnings and errors go to stderr in Node (console.warn/error), info/debug to stdout.
  const write = level === 'error' ? console.error : level === 'warn' ? console.warn : console.log;
  if (details.length > 0) write(line, ...details);
  else write(line);
};

let currentLevel: LogLevel = initialLevel();
let currentSink: LogSink = consoleSink;

export function setLogLevel(level: LogLevel): void {
  currentLevel = level;
}

export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Replace where log lines go (tests capture them); returns the previous sink. */
export function setLogSink(sink: LogSink | null): LogSink {
  const previous = currentSink;
  currentSink = sink ?? consoleSink;
  return previous;
}

export function parseLogLevel(value: string): LogLevel | null {
  return isLogLevel(value) ? value : null;
}

export function createLogger(namespace: string): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, details: unknown[]): void => {
    if (RANK[level] < RANK[currentLevel]) return;
    currentSink(level, namespace, message, details);
  };
  return {
    namespace,
    debug: (message, ...details) => emit('debug', message, details),
    info: (message, ...details) => emit('info', message, details),
    warn: (message, ...details) => emit('warn', message, details),
    error: (message, ...details) => emit('error', message, details),
    child: (name) => createLogger(`${namespace}:${name}`),
  };
}
