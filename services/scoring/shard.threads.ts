import { Worker } from 'node:worker_threads';
import type { Thresholds } from '../../config/thresholds.schema.js';
import type { ModelScorer, Shard, ShardResult, StageClock } from './score.service.js';
import type { FromShardWorker, ShardWorkerData, ToShardWorker } from './shard.protocol.js';
import type { NewEmployerIntake } from './series.js';

/**
 * Shards scored in worker threads, so that reading, features, rules and
 * writing use every core instead of one event loop. Each thread keeps its
 * own PostgreSQL connections and scores one shard at a time; the model's
 * predictions are asked of this (owning) thread, whose ModelScorer — the
 * inference pool — serves every scoring thread. A thread that dies fails
 * its shard with the reason; the others go on.
 */

export interface ShardThreads {
  readonly threads: number;
  score(runId: number, period: string, shard: Shard, intakes: readonly NewEmployerIntake[]): Promise<{ result: ShardResult; clock: StageClock }>;
  /** Waits for shards in flight, then stops the threads. */
  close(): Promise<void>;
}

export interface ShardThreadsOptions {
  databaseUrl: string;
  thresholds: Thresholds;
  threads: number;
  model: ModelScorer | null;
  logLevel?: string;
  /** Default 60 s. */
  startupTimeoutMs?: number;
}

const WORKER_SCRIPT = new URL('./shard.worker.mjs', import.meta.url);

interface Slot {
  index: number;
  worker: Worker;
  alive: boolean;
  busy: number;
  pending: Map<number, { resolve: (v: { result: ShardResult; clock: StageClock }) => void; reject: (err: Error) => void }>;
  closed: Promise<void>;
}

export async function startShardThreads(opts: ShardThreadsOptions): Promise<ShardThreads> {
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`scoring threads must be a positive integer, got ${opts.threads}`);
  const workerData: ShardWorkerData = {
    databaseUrl: opts.databaseUrl,
    thresholds: opts.thresholds,
    modelVersion: opts.model?.version ?? null,
    logLevel: opts.logLevel ?? 'warn',
  };
  const model = opts.model;
  let nextId = 1;
  let closing = false;
  const slots: Slot[] = [];

  const fail = (slot: Slot, reason: string): void => {
    if (!slot.alive) return;
    slot.alive = false;
    const lost = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of lost) p.reject(new Error(`scoring thread ${slot.index} ${reason}; its shard was not scored`));
  };

  const answerPredict = (slot: Slot, id: number, x: Float32Array, n: number): void => {
    const reply = (message: ToShardWorker, transfer: ArrayBuffer[] = []): void => {
      if (slot.alive) slot.worker.postMessage(message, transfer);
    };
    if (model === null) {
      reply({ kind: 'predict-failed', id, message: 'no model in this process' });
      return;
    }
    model.predict(x, n).then(
      (p) => reply({ kind: 'predicted', id, p }, [p.buffer as ArrayBuffer]),
      (err: unknown) => reply({ kind: 'predict-failed', id, message: err instanceof Error ? err.message : String(err) }),
    );
  };

  const started = await Promise.allSettled(
    Array.from({ length: opts.threads }, (_, index) => {
      const worker = new Worker(WORKER_SCRIPT, { workerData });
      let onClosed: () => void = () => undefined;
      const slot: Slot = { index, worker, alive: true, busy: 0, pending: new Map(), closed: new Promise<void>((r) => (onClosed = r)) };
      slots.push(slot);
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`scoring thread ${index} did not start within ${opts.startupTimeoutMs ?? 60_000} ms`)), opts.startupTimeoutMs ?? 60_000);
        timer.unref();
        worker.on('message', (message: FromShardWorker) => {
          switch (message.kind) {
            case 'ready':
              clearTimeout(timer);
              resolve();
              break;
            case 'startup-failed':
              clearTimeout(timer);
              reject(new Error(`scoring thread ${index} could not start: ${message.message}`));
              break;
            case 'predict':
              answerPredict(slot, message.id, message.x, message.n);
              break;
            case 'done':
            case 'failed': {
              const pending = slot.pending.get(message.id);
              if (!pending) break;
              slot.pending.delete(message.id);
              slot.busy -= 1;
              if (slot.pending.size === 0) worker.unref();
              if (message.kind === 'done') pending.resolve({ result: message.result, clock: message.clock });
              else {
                const err = new Error(message.message);
                err.name = message.name;
                pending.reject(err);
              }
              break;
            }
            case 'closed':
              onClosed();
              break;
          }
        });
        worker.on('error', (err) => {
          clearTimeout(timer);
          fail(slot, `crashed: ${err.message}`);
          reject(new Error(`scoring thread ${index} crashed: ${err.message}`));
        });
        worker.on('exit', (code) => {
          clearTimeout(timer);
          onClosed();
          if (!closing) fail(slot, `exited with code ${code}`);
          slot.alive = false;
          reject(new Error(`scoring thread ${index} exited with code ${code} while starting`));
        });
      });
    }),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  for (const slot of slots) slot.worker.unref();

  return {
    threads: opts.threads,
    score(runId, period, shard, intakes) {
      if (closing) return Promise.reject(new Error('scoring threads are closed'));
      let slot: Slot | undefined;
      for (const s of slots) if (s.alive && (slot === undefined || s.busy < slot.busy)) slot = s;
      if (!slot) return Promise.reject(new Error('no scoring thread is running'));
      const target = slot;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        target.busy += 1;
        if (target.pending.size === 1) target.worker.ref();
        target.worker.postMessage({ kind: 'shard', id, runId, period, shard, intakes } satisfies ToShardWorker);
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all(
        slots.map(async (slot) => {
          if (!slot.alive) return;
          await Promise.allSettled([...slot.pending.values()].map((p) => new Promise<void>((settle) => {
            const { resolve, reject } = p;
            p.resolve = (v) => { resolve(v); settle(); };
            p.reject = (e) => { reject(e); settle(); };
          })));
          slot.worker.ref();
          slot.worker.postMessage({ kind: 'close' } satisfies ToShardWorker);
          const grace = new Promise<void>((r) => setTimeout(r, 5_000).unref());
          await Promise.race([slot.closed, grace]);
          await slot.worker.terminate();
        }),
      );
    },
  };
}
