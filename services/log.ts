import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { maskPii, maskPiiDeep } from './domain/pii.js';

export type { Logger };

/**
 * pino: JSON in production and in pipes, pretty on a terminal. Credentials
 * are redacted by key. Personal data: the feed code logs column names, never
 * values, and as the last line of defence every line is masked as a whole
 * just before it is written (`maskLogLine`): message, bound and merged
 * objects, child bindings and serialised errors alike.
 */
export function createLogger(config: Pick<Config, 'log' | 'env'>, destination?: pino.DestinationStream): Logger {
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && config.env !== 'production' && process.stderr.isTTY);
  const options: pino.LoggerOptions = {
    level: config.log.level,
    base: { service: 'layoff-ews' },
    redact: { paths: ['token', '*.token', 'password', '*.password', 'authorization', '*.authorization'], censor: '***' },
    hooks: { streamWrite: maskLogLine },
  };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } } });
  return pino(options, pino.destination(2));
}

const PINO_HEAD = /^\{"level":\d+,"time":\d+/;

/**
 * One serialised log line with every personal identifier masked. A line
 * without any (nearly all) is returned as it is after one scan. A line with
 * one is parsed and masked value by value, so it stays valid JSON (a number
 * that is a phone number becomes the masked string); were that to leave a
 * finding spanning two values, the text itself is masked. For the pino
 * options of loggers made elsewhere (threads), as `hooks: { streamWrite }`.
 */
export function maskLogLine(line: string): string {
  // pino's own head ({"level":30,"time":1796678575292) holds no personal
  // data, and its 13-digit time would send every line past maskPii's quick test.
  const head = PINO_HEAD.exec(line)?.[0].length ?? 0;
  const rest = head === 0 ? line : line.slice(head);
  if (maskPii(rest) === rest) return line;
  const masked = maskPii(line);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return masked;
  }
  const end = line.endsWith('\n') ? '\n' : '';
  const rebuilt = JSON.stringify(maskPiiDeep(value));
  const again = maskPii(rebuilt);
  return (again === rebuilt ? rebuilt : again) + end;
}
