import type { TransferListItem } from 'node:worker_threads';

/**
 * What a thread pool (pool.ts) and its threads (thread.ts) say to each
 * other. A thread starts once (loads a model, opens its connections) and
 * says `ready` with what it wants its owner to know, or `startup-failed`;
 * then it takes tasks and answers each with a `result` or an `error`.
 * While it works on a task it may `ask` the owning thread for something
 * only the owner has (scoring threads ask for the model's predictions, the
 * training thread hands over its log lines), and is sent the `answer`.
 * `close` asks it to release what it holds and exit.
 *
 * This folder is below every user of it (models/, the stages, workers/):
 * it imports nothing from the project.
 */

/** The types one kind of thread and the pool that starts it agree on. */
export interface ThreadKind {
  /** What each thread is started with (its workerData; structured-cloned). */
  data: unknown;
  /** What a started thread tells its owner (the model's metadata, say). */
  info: unknown;
  request: unknown;
  result: unknown;
  /** What the thread may ask of its owner while it works (`never`: nothing). */
  ask: unknown;
  answer: unknown;
}

export interface SerializedError {
  name: string;
  message: string;
}

/** A value to post, and the buffers to move with it instead of copying them. */
export interface Reply<T> {
  value: T;
  transfer?: readonly TransferListItem[];
}

/** Owner → thread. */
export type ToThread<K extends ThreadKind> =
  | { kind: 'task'; id: number; request: K['request'] }
  | { kind: 'answer'; id: number; value: K['answer'] }
  | { kind: 'answer-error'; id: number; error: SerializedError }
  | { kind: 'close' };

/** Thread → owner (the ids of asks are the thread's own). */
export type FromThread<K extends ThreadKind> =
  | { kind: 'ready'; info: K['info'] }
  | { kind: 'startup-failed'; error: SerializedError }
  | { kind: 'result'; id: number; value: K['result'] }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'ask'; id: number; request: K['ask'] };

export function serializeError(err: unknown): SerializedError {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

/** An Error with the name and message the other side threw. */
export function reviveError(error: SerializedError): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}
