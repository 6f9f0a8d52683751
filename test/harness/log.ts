import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../services/log.js';

/** A real pino logger whose lines are kept, so tests can read what would be logged. */
export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}
