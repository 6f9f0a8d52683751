import type { Worker } from 'node:worker_threads';

/**
 * A fixed set of worker threads that each start once (load a model, say) and
 * then answer requests. The protocol is four messages; a worker that dies
 * fails its in-flight requests at once instead of leaving them hanging.
 * Idle workers are unref'd, so an idle pool never keeps the process alive.
 */

export interface SerializedError {
  name: string;
  message: string;
}

/** Main thread → worker: a task. */
export interface TaskMessage<Req> {
  kind: 'task';
  id: number;
  request: Req;
}

/** Main thread → worker: the answer to one of its asks, or (graceful pools) the request to finish. */
export type ControlMessage<Answer> =
  | { kind: 'answer'; id: number; value: Answer }
  | { kind: 'answer-error'; id: number; error: SerializedError }
  | { kind: 'close' };

/** Worker → main thread. `ask` requests something only the main thread has (ids are the worker's own). */
export type WorkerMessage<Info, Res, Ask = never> =
  | { kind: 'ready'; info: Info }
  | { kind: 'startup-failed'; error: SerializedError }
  | { kind: 'result'; id: number; value: Res }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'ask'; id: number; request: Ask };

export interface WorkerPoolOptions<Ask = never, Answer = never> {
  threads: number;
  /** Names the workers in messages; default "inference worker". */
  label?: string;
  /** Rebuilds a worker's error on this side (keeps classes like ModelArtifactError). */
  reviveError?: (error: SerializedError) => Error;
  /** Default 120 s: loading a model takes about a second. */
  startupTimeoutMs?: number;
  /** Answers a worker's asks; `transfer` moves buffers instead of copying them. */
  onAsk?: (request: Ask) => Promise<{ value: Answer; transfer?: readonly ArrayBuffer[] }>;
  /**
   * Workers that hold resources (database connections) are sent `close`
   * and given this long to exit on their own before they are terminated.
   */
  gracefulCloseMs?: number;
}

export interface WorkerPool<Req, Res> {
  /** Workers still running. */
  readonly live: number;
  /** Sends to the least busy live worker; `transfer` moves buffers instead of copying them. */
  run(request: Req, transfer?: readonly ArrayBuffer[]): Promise<Res>;
  /** Waits for in-flight requests, then stops every worker. */
  close(): Promise<void>;
}

interface Pending<Res> {
  resolve: (value: Res) => void;
  reject: (err: Error) => void;
}

interface Slot<Res> {
  index: number;
  worker: Worker;
  alive: boolean;
  pending: Map<number, Pending<Res>>;
  /** Settles when the worker has exited. */
  gone: Promise<void>;
  exited: () => void;
}

export function serializeError(err: unknown): SerializedError {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

function defaultRevive(error: SerializedError): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}

export async function startWorkerPool<Info, Req, Res, Ask = never, Answer = never>(
  spawn: (index: number) => Worker,
  options: WorkerPoolOptions<Ask, Answer>,
): Promise<{ pool: WorkerPool<Req, Res>; info: Info[] }> {
  const threads = options.threads;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const revive = options.reviveError ?? defaultRevive;
  const label = options.label ?? 'inference worker';
  const poolName = label.replace(/ worker$/, '');
  const slots: Slot<Res>[] = [];
  let nextId = 1;
  let closing = false;
  let lastDeath = '';

  const fail = (slot: Slot<Res>, reason: string): void => {
    if (!slot.alive) return;
    slot.alive = false;
    lastDeath = `worker ${slot.index} ${reason}`;
    const lost = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of lost) p.reject(new Error(`${label} ${slot.index} ${reason}; ${lost.length} in-flight request(s) failed`));
  };

  const answer = (slot: Slot<Res>, id: number, request: Ask): void => {
    const reply = (message: ControlMessage<Answer>, transfer: readonly ArrayBuffer[] = []): void => {
      if (slot.alive) slot.worker.postMessage(message, [...transfer]);
    };
    if (!options.onAsk) {
      reply({ kind: 'answer-error', id, error: { name: 'Error', message: `this ${poolName} pool answers no requests` } });
      return;
    }
    options.onAsk(request).then(
      ({ value, transfer }) => reply({ kind: 'answer', id, value }, transfer),
      (err: unknown) => reply({ kind: 'answer-error', id, error: serializeError(err) }),
    );
  };

  const infos = await Promise.allSettled(
    Array.from({ length: threads }, (_, index) => {
      let exited: () => void = () => undefined;
      const gone = new Promise<void>((resolve) => (exited = resolve));
      const slot: Slot<Res> = { index, worker: spawn(index), alive: true, pending: new Map(), gone, exited: () => exited() };
      slots.push(slot);
      return new Promise<Info>((resolve, reject) => {
        let started = false;
        const timer = setTimeout(() => {
          if (!started) reject(new Error(`${label} ${index} did not start within ${options.startupTimeoutMs ?? 120_000} ms`));
        }, options.startupTimeoutMs ?? 120_000);
        timer.unref();
        slot.worker.on('message', (message: WorkerMessage<Info, Res, Ask>) => {
          switch (message.kind) {
            case 'ask':
              answer(slot, message.id, message.request);
              break;
            case 'ready':
              started = true;
              clearTimeout(timer);
              resolve(message.info);
              break;
            case 'startup-failed':
              clearTimeout(timer);
              reject(revive(message.error));
              break;
            case 'result':
            case 'error': {
              const pending = slot.pending.get(message.id);
              if (!pending) break;
              slot.pending.delete(message.id);
              if (slot.pending.size === 0) slot.worker.unref();
              if (message.kind === 'result') pending.resolve(message.value);
              else pending.reject(revive(message.error));
              break;
            }
          }
        });
        slot.worker.on('error', (err) => {
          clearTimeout(timer);
          fail(slot, `crashed: ${err.message}`);
          reject(new Error(`${label} ${index} crashed while starting: ${err.message}`));
        });
        slot.worker.on('exit', (code) => {
          clearTimeout(timer);
          slot.exited();
          if (!closing) fail(slot, `exited with code ${code}`);
          else slot.alive = false;
          reject(new Error(`${label} ${index} exited with code ${code} while starting`));
        });
      });
    }),
  );

  const failed = infos.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    closing = true;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  for (const slot of slots) slot.worker.unref();

  const pool: WorkerPool<Req, Res> = {
    get live() {
      return slots.filter((s) => s.alive).length;
    },
    run(request, transfer = []) {
      if (closing) return Promise.reject(new Error(`${poolName} pool is closed`));
      let slot: Slot<Res> | undefined;
      for (const candidate of slots) {
        if (candidate.alive && (slot === undefined || candidate.pending.size < slot.pending.size)) slot = candidate;
      }
      if (!slot) return Promise.reject(new Error(`${poolName} pool has no live workers (${lastDeath})`));
      const target = slot;
      const id = nextId++;
      return new Promise<Res>((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        if (target.pending.size === 1) target.worker.ref();
        const message: TaskMessage<Req> = { kind: 'task', id, request };
        try {
          target.worker.postMessage(message, [...transfer]);
        } catch (err) {
          target.pending.delete(id);
          if (target.pending.size === 0) target.worker.unref();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      const inFlight = slots.flatMap((slot) =>
        [...slot.pending.values()].map(
          (p) =>
            new Promise<void>((settle) => {
              const { resolve, reject } = p;
              p.resolve = (value) => {
                resolve(value);
                settle();
              };
              p.reject = (err) => {
                reject(err);
                settle();
              };
            }),
        ),
      );
      await Promise.all(inFlight);
      const graceMs = options.gracefulCloseMs;
      await Promise.all(
        slots.map(async (slot) => {
          if (graceMs !== undefined && slot.alive) {
            slot.worker.ref();
            slot.worker.postMessage({ kind: 'close' } satisfies ControlMessage<Answer>);
            await Promise.race([slot.gone, new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
          }
          await slot.worker.terminate();
        }),
      );
    },
  };
  return { pool, info: infos.map((r) => (r as PromiseFulfilledResult<Info>).value) };
}
