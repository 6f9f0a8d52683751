import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { reviveError as defaultRevive, serializeError, type FromThread, type Reply, type SerializedError, type ThreadKind, type ToThread } from './protocol.js';

/**
 * The one thread pool of the project, for every kind of thread: inference
 * (models/inference.pool.ts), scoring (services/scoring/shard.threads.ts)
 * and training (workers/train.processors.ts). A fixed set of threads that
 * each start once and then take tasks, the least busy first; the thread
 * side is serveThread (thread.ts). A thread may ask its owner for things
 * while it works (onAsk answers). A thread that dies fails its in-flight
 * tasks at once, with the reason, instead of leaving them hanging; the
 * others go on, and a new thread is started in its place (a thread whose
 * database connection died with a server restart must not leave the pool
 * empty while the process looks healthy): tasks that find no live thread
 * wait for the replacement. A thread that keeps dying (more than
 * `maxRestarts` in a minute) is not replaced again. Idle threads are unref'd, so an idle pool never keeps the
 * process alive. close() lets tasks in flight finish and each thread
 * release what it holds; terminate() stops everything now.
 */

export interface ThreadPoolOptions<K extends ThreadKind> {
  /** The thread's module: a .mjs that registers tsx, then imports the .ts that calls serveThread. */
  script: URL | string;
  /** Each thread's start-up data (cloned into every thread). */
  data: K['data'];
  threads: number;
  /** Names the pool in messages: "<name> thread 0 exited with code 1", "<name> pool is closed". */
  name: string;
  /** Rebuilds a thread's error on this side (keeps classes like ModelArtifactError); default: an Error with its name. */
  reviveError?: (error: SerializedError) => Error;
  /** Default 120 s: loading a model takes about a second. */
  startupTimeoutMs?: number;
  /** Answers a thread's asks; `transfer` moves buffers instead of copying them. */
  onAsk?: (request: K['ask']) => Promise<Reply<K['answer']>>;
  /** How long close() gives each thread to release what it holds and exit before it is terminated; default 5 s. */
  closeTimeoutMs?: number;
  /** Tests: `script` is the module's source (Worker's eval). */
  eval?: boolean;
  /** Replacements allowed per minute before a dying thread is left dead; default 5. */
  maxRestarts?: number;
  /** Told when a thread that died is replaced (or could not be): for the owner's log. */
  onRestart?: (event: { index: number; reason: string; error?: string }) => void;
}

export interface ThreadPool<K extends ThreadKind> {
  /** Threads still running. */
  readonly live: number;
  /** Threads started in place of one that died. */
  readonly restarts: number;
  /** Sends a task to the least busy live thread; `transfer` moves buffers instead of copying them. */
  run(request: K['request'], transfer?: readonly TransferListItem[]): Promise<K['result']>;
  /** Waits for tasks in flight, then has each thread close (its connections) and exit. */
  close(): Promise<void>;
  /** Stops every thread now; tasks in flight fail. */
  terminate(): Promise<void>;
}

interface Pending<Res> {
  resolve: (value: Res) => void;
  reject: (err: Error) => void;
}

interface Slot<K extends ThreadKind> {
  index: number;
  worker: Worker;
  alive: boolean;
  /** Started (said `ready`): a death after this is replaced. */
  ready: boolean;
  pending: Map<number, Pending<K['result']>>;
  /** Settles when the thread has exited. */
  gone: Promise<void>;
}

export async function startThreadPool<K extends ThreadKind>(options: ThreadPoolOptions<K>): Promise<{ pool: ThreadPool<K>; info: K['info'][] }> {
  const { threads, name } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const revive = options.reviveError ?? defaultRevive;
  const startupMs = options.startupTimeoutMs ?? 120_000;
  const slots: Slot<K>[] = [];
  let nextId = 1;
  let stopping = false;
  let closed: Promise<void> | null = null;
  let lastDeath = '';
  let restarts = 0;
  const recentRestarts: number[] = [];
  // Replacements being started, by slot index: a task that finds no live thread waits for one.
  const replacing = new Map<number, Promise<void>>();
  const maxRestarts = options.maxRestarts ?? 5;

  const fail = (slot: Slot<K>, reason: string): void => {
    if (!slot.alive) return;
    slot.alive = false;
    lastDeath = `thread ${slot.index} ${reason}`;
    const lost = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of lost) p.reject(new Error(`${name} thread ${slot.index} ${reason}; ${lost.length} in-flight request(s) failed`));
  };

  const post = (slot: Slot<K>, message: ToThread<K>, transfer: readonly TransferListItem[] = []): void => {
    if (slot.alive) slot.worker.postMessage(message, [...transfer]);
  };

  const answer = (slot: Slot<K>, id: number, request: K['ask']): void => {
    const onAsk = options.onAsk;
    if (!onAsk) {
      post(slot, { kind: 'answer-error', id, error: { name: 'Error', message: `the ${name} pool answers no asks` } });
      return;
    }
    Promise.resolve()
      .then(() => onAsk(request))
      .then(
        ({ value, transfer }) => {
          try {
            post(slot, { kind: 'answer', id, value }, transfer);
          } catch (err) {
            // An answer that cannot be posted (not cloneable) fails the ask, not the pool.
            post(slot, { kind: 'answer-error', id, error: serializeError(err) });
          }
        },
        (err: unknown) => post(slot, { kind: 'answer-error', id, error: serializeError(err) }),
      );
  };

  const start = (index: number): Promise<K['info']> => {
    let exited: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (exited = resolve));
    const worker = new Worker(options.script, { workerData: options.data, ...(options.eval === true ? { eval: true } : {}) });
    const slot: Slot<K> = { index, worker, alive: true, ready: false, pending: new Map(), gone };
    slots[index] = slot;
    return new Promise<K['info']>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} thread ${index} did not start within ${startupMs} ms`)), startupMs);
      timer.unref();
      worker.on('message', (message: FromThread<K>) => {
        switch (message.kind) {
          case 'ask':
            answer(slot, message.id, message.request);
            break;
          case 'ready':
            clearTimeout(timer);
            slot.ready = true;
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
            if (slot.pending.size === 0) worker.unref();
            if (message.kind === 'result') pending.resolve(message.value);
            else pending.reject(revive(message.error));
            break;
          }
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        const wasAlive = slot.alive;
        fail(slot, `crashed: ${err.message}`);
        reject(new Error(`${name} thread ${index} crashed while starting: ${err.message}`));
        if (wasAlive) replace(slot, `crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        exited();
        const wasAlive = slot.alive;
        fail(slot, stopping ? 'was stopped' : `exited with code ${code}`);
        reject(new Error(`${name} thread ${index} exited with code ${code} while starting`));
        if (wasAlive) replace(slot, `exited with code ${code}`);
      });
    });
  };

  /** A started thread died while the pool is open: start another in its place. */
  const replace = (dead: Slot<K>, reason: string): void => {
    if (stopping || !dead.ready || slots[dead.index] !== dead || replacing.has(dead.index)) return;
    const now = Date.now();
    while (recentRestarts.length > 0 && (recentRestarts[0] as number) < now - 60_000) recentRestarts.shift();
    if (recentRestarts.length >= maxRestarts) {
      lastDeath = `thread ${dead.index} ${reason}; not replaced: ${recentRestarts.length} threads replaced in the last minute`;
      options.onRestart?.({ index: dead.index, reason, error: `not replaced: ${recentRestarts.length} replacements in the last minute` });
      return;
    }
    recentRestarts.push(now);
    const replacement = start(dead.index).then(
      () => {
        restarts++;
        const slot = slots[dead.index];
        if (slot !== undefined && slot.pending.size === 0) slot.worker.unref();
        if (stopping) void slot?.worker.terminate();
        options.onRestart?.({ index: dead.index, reason });
      },
      (err: unknown) => {
        lastDeath = `thread ${dead.index} ${reason}; its replacement failed: ${(err as Error).message}`;
        options.onRestart?.({ index: dead.index, reason, error: (err as Error).message });
      },
    );
    replacing.set(dead.index, replacement.finally(() => replacing.delete(dead.index)));
  };

  const started = await Promise.allSettled(Array.from({ length: threads }, (_, index) => start(index)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    stopping = true;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  for (const slot of slots) slot.worker.unref();

  const settled = (): Promise<void> =>
    Promise.all(
      slots.flatMap((slot) =>
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
      ),
    ).then(() => undefined);

  const pool: ThreadPool<K> = {
    get live() {
      return slots.filter((s) => s.alive && s.ready).length;
    },

    get restarts() {
      return restarts;
    },

    run(request, transfer = []) {
      if (stopping) return Promise.reject(new Error(`${name} pool is closed`));
      let slot: Slot<K> | undefined;
      for (const candidate of slots) {
        if (candidate.alive && candidate.ready && (slot === undefined || candidate.pending.size < slot.pending.size)) slot = candidate;
      }
      if (!slot) {
        // Every thread died: wait for a replacement rather than failing the task at once.
        if (replacing.size > 0) return Promise.race(replacing.values()).then(() => pool.run(request, transfer));
        return Promise.reject(new Error(`${name} pool has no live threads (${lastDeath})`));
      }
      const target = slot;
      const id = nextId++;
      return new Promise<K['result']>((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        if (target.pending.size === 1) target.worker.ref();
        try {
          target.worker.postMessage({ kind: 'task', id, request } satisfies ToThread<K>, [...transfer]);
        } catch (err) {
          target.pending.delete(id);
          if (target.pending.size === 0) target.worker.unref();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    },

    close() {
      if (closed) return closed;
      stopping = true;
      const graceMs = options.closeTimeoutMs ?? 5_000;
      closed = settled().then(() =>
        Promise.all(
          slots.map(async (slot) => {
            if (slot.alive) {
              slot.worker.ref();
              post(slot, { kind: 'close' });
              await Promise.race([slot.gone, new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
            }
            await slot.worker.terminate();
          }),
        ).then(() => undefined),
      );
      return closed;
    },

    async terminate() {
      stopping = true;
      for (const slot of slots) fail(slot, 'was stopped');
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
  return { pool, info: started.map((r) => (r as PromiseFulfilledResult<K['info']>).value) };
}
