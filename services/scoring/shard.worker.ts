import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { serializeError } from '../../models/worker-pool.js';
import type { ControlMessage, TaskMessage, WorkerMessage } from '../../models/worker-pool.js';
import { openDatabase } from '../db/database.js';
import { RiskRepository } from './risk.repository.js';
import { newStageClock, scoreShard, type ModelScorer, type ShardDeps } from './score.service.js';
import type { PredictAsk, ShardDone, ShardTask, ShardWorkerData } from './shard.protocol.js';
import { SeriesRepository, intakeContext } from './series.repository.js';

/**
 * One scoring thread: its own connections to PostgreSQL, then whole shards
 * (read, features, rules, levels, write) exactly as scoreShard runs inline.
 * The model is not loaded here: its predictions are asked of the owning
 * thread, whose inference pool already holds it, so a refused artifact, the
 * fallback to rules only and /readyz stay in one place. Started through
 * shard.worker.mjs, which registers tsx first.
 */

type Outgoing = WorkerMessage<null, ShardDone, PredictAsk>;

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('shard.worker.ts runs in a worker thread (see shard.threads.ts)');
  return parentPort;
}

const port = requirePort();
const data = workerData as ShardWorkerData;
const send = (message: Outgoing, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const asked = new Map<number, { resolve: (p: Float32Array) => void; reject: (err: Error) => void }>();
let nextAsk = 1;

const model: ModelScorer | null =
  data.modelVersion === null
    ? null
    : {
        version: data.modelVersion,
        reference: data.modelReference,
        predict: (x, n) =>
          new Promise<Float32Array>((resolve, reject) => {
            const id = nextAsk++;
            asked.set(id, { resolve, reject });
            // Handed over, not copied: scoreShard has taken what it reads
            // afterwards (the last steps, for the explanation's drivers).
            send({ kind: 'ask', id, request: { x, n } }, [x.buffer as ArrayBuffer]);
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
  port.on('message', (message: TaskMessage<ShardTask> | ControlMessage<Float32Array>) => {
    switch (message.kind) {
      case 'task': {
        const { runId, period, shard, intakes } = message.request;
        const clock = newStageClock();
        scoreShard({ ...deps, clock }, runId, period, shard, intakeContext(intakes)).then(
          (result) => send({ kind: 'result', id: message.id, value: { result, clock } }),
          (err: unknown) => send({ kind: 'error', id: message.id, error: serializeError(err) }),
        );
        break;
      }
      case 'answer':
      case 'answer-error': {
        const waiting = asked.get(message.id);
        if (!waiting) break;
        asked.delete(message.id);
        if (message.kind === 'answer') waiting.resolve(message.value);
        else waiting.reject(new Error(message.error.message));
        break;
      }
      case 'close':
        void database.close().finally(() => process.exit(0));
        break;
    }
  });
  send({ kind: 'ready', info: null });
} catch (err) {
  send({ kind: 'startup-failed', error: serializeError(err) });
}
