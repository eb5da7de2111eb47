import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, getLogLevel, setLogLevel, setLogSink, type LogSink } from './log';

describe('log', () => {
  const level = getLogLevel();
  afterEach(() => {
    setLogLevel(level);
    setLogSink(null);
  });

  it('prefixes namespaces, nests children and filters by level', () => {
    const lines: string[] = [];
    const sink: LogSink = (lvl, ns, message) => lines.push(`${lvl} ${ns} ${message}`);
    setLogSink(sink);
    setLogLevel('info');
    const log = createLogger('server');
    log.debug('hidden');
    log.info('up');
    log.child('infer').warn('slow');
    setLogLevel('error');
    log.warn('hidden too');
    log.error('down');
    expect(lines).toEqual(['info server up', 'warn server:infer slow', 'error server down']);
  });
});
