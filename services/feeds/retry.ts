/**
 * Errors steer retries: transient faults (network, HTTP 5xx/429, timeouts,
 * a database that restarted or is busy) are retried with exponential backoff
 * and jitter; everything else is permanent.
 */

export class TransientError extends Error {
  override name = 'TransientError';
}

const TRANSIENT_SQLSTATE = /^(08|53|57P0[123]|40001|40P01|55P03)/;
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (TRANSIENT_NET.has(e.code) || TRANSIENT_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && /Connection terminated|terminating connection|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err ? isTransient(e.cause) : false;
}

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs?: number;
  isTransient?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export function backoffMs(attempt: number, baseMs: number, maxMs = 60_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const transient = options.isTransient ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !transient(err) || options.signal?.aborted === true) throw err;
      const delay = backoffMs(attempt, options.baseMs, options.maxMs);
      options.onRetry?.(err, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
