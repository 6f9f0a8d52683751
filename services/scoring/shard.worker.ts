import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { openDatabase } from '../db/database.js';
import { RiskRepository } from './risk.repository.js';
import { newStageClock, scoreShard, type ModelScorer, type ShardDeps } from './score.service.js';
import type { FromShardWorker, ShardWorkerData, ToShardWorker } from './shard.protocol.js';
import { SeriesRepository, intakeContext } from './series.repository.js';

/**
 * One scoring thread: its own connections to PostgreSQL, then one shard at
 * a time (read, features, rules, levels, write) exactly as scoreShard runs
 * inline. The model is not loaded here: its predictions are asked of the
 * owning thread, whose inference pool already holds it, so a refused
 * artifact, the fallback to rules only and /readyz stay in one place.
 * Started through shard.worker.mjs, which registers tsx first.
 */

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('shard.worker.ts runs in a worker thread (see shard.threads.ts)');
  return parentPort;
}

const port = requirePort();
const data = workerData as ShardWorkerData;
const send = (message: FromShardWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const asked = new Map<number, { resolve: (p: Float32Array) => void; reject: (err: Error) => void }>();
let nextAsk = 1;

const model: ModelScorer | null =
  data.modelVersion === null
    ? null
    : {
        version: data.modelVersion,
        predict: (x, n) =>
          new Promise<Float32Array>((resolve, reject) => {
            const id = nextAsk++;
            asked.set(id, { resolve, reject });
            // Handed over, not copied: scoreShard has taken what it reads
            // afterwards (the last steps, for the explanation's drivers).
            send({ kind: 'predict', id, x, n }, [x.buffer as ArrayBuffer]);
          }),
      };

try {
  const database = openDatabase(data.databaseUrl, 2);
  const deps: ShardDeps = {
    series: new SeriesRepository(database),
    risks: new RiskRepository(database),
    thresholds: data.thresholds,
    model,
    log: pino({ level: data.logLevel, base: { service: 'layoff-ews', thread: 'scoring' } }, pino.destination(2)),
  };
  port.on('message', (message: ToShardWorker) => {
    switch (message.kind) {
      case 'shard': {
        const clock = newStageClock();
        scoreShard({ ...deps, clock }, message.runId, message.period, message.shard, intakeContext(message.intakes)).then(
          (result) => send({ kind: 'done', id: message.id, result, clock }),
          (err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            send({ kind: 'failed', id: message.id, name: e.name, message: e.message });
          },
        );
        break;
      }
      case 'predicted':
      case 'predict-failed': {
        const waiting = asked.get(message.id);
        if (!waiting) break;
        asked.delete(message.id);
        if (message.kind === 'predicted') waiting.resolve(message.p);
        else waiting.reject(new Error(message.message));
        break;
      }
      case 'close':
        void database.close().finally(() => send({ kind: 'closed' }));
        break;
    }
  });
  send({ kind: 'ready' });
} catch (err) {
  send({ kind: 'startup-failed', message: err instanceof Error ? err.message : String(err) });
}
