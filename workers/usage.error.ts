/**
 * A request that cannot be carried out as asked (a bad flag, a window with
 * no data): the message says what to change. The CLI exits 2 on it; a
 * queue job fails without retrying the same input.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
