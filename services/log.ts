import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.schema.js';

export type { Logger };

/**
 * pino: JSON in production and in pipes, pretty on a terminal. Credentials
 * are redacted by key; personal data never reaches a log line because the
 * feed code logs column names, never values.
 */
export function createLogger(config: Pick<Config, 'log' | 'env'>, destination?: pino.DestinationStream): Logger {
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && config.env !== 'production' && process.stderr.isTTY);
  const options: pino.LoggerOptions = {
    level: config.log.level,
    base: { service: 'layoff-ews' },
    redact: { paths: ['token', '*.token', 'password', '*.password', 'authorization', '*.authorization'], censor: '***' },
  };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } } });
  return pino(options, pino.destination(2));
}
