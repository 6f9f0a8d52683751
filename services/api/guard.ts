/**
 * Small helpers the probes and collectors share: a deadline on a promise, and
 * an error turned into one short line fit for a response or a log (no stack,
 * no credentials in URLs).
 */

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles with the work, or rejects with TimeoutError after `ms`. The work is
 * not cancelled (a hung query keeps its connection until it ends), but its
 * late rejection is handled, so it cannot become an unhandled rejection.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const MAX_REASON = 200;

/** One line, at most 200 characters, with any user:password@ in a URL masked. */
export function oneLineReason(err: unknown): string {
  let text = describe(err);
  text = text.split(/\r?\n/, 1)[0] ?? '';
  text = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@').trim();
  if (text === '') text = 'failed';
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    // Node's connect errors (one per address tried) come as an AggregateError without a message.
    const inner: unknown = err.errors[0];
    const code = (err as { code?: unknown }).code;
    if (inner !== undefined) return describe(inner);
    return typeof code === 'string' ? code : 'failed';
  }
  if (err instanceof Error) {
    if (err.message !== '') return err.message;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.name;
  }
  return typeof err === 'string' ? err : 'failed';
}
