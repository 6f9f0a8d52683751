/**
 * A request that cannot be carried out as asked (a bad flag, a window with
 * no data): the message says what to change. The CLI exits 2 on it; a
 * queue job fails without retrying the same input.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * How `ews` exits (README, Operations → Exit codes):
 * - ok: everything the command set out to do was done;
 * - failed: an error stopped the command (one line on stderr says why);
 * - usage: a bad flag, argument or configuration value (UsageError, ConfigError);
 * - partial: the command ran to its end but part of its work failed (a
 *   source that could not be read, a batch not loaded or rejected, e-mails
 *   not delivered, nothing to score); stderr names each part and why.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;
