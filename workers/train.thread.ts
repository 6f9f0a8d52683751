import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { openDatabase } from '../services/db/database.js';
import type { TrainThreadData, TrainThreadMessage } from './train.protocol.js';
import { trainStage } from './train.stage.js';

/**
 * The retraining stage off the worker's event loop: building the examples,
 * training and judging take minutes of CPU, during which the process's
 * other jobs must keep renewing their locks and the API must keep
 * answering. Its own database connections; log lines go to the owning
 * thread, which writes them under the job's logger. Started through
 * train.thread.mjs, which registers tsx first.
 */

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('train.thread.ts runs in a worker thread (see train.processors.ts)');
  return parentPort;
}

const port = requirePort();
const data = workerData as TrainThreadData;
const send = (message: TrainThreadMessage): void => port.postMessage(message);

const lines = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') send({ kind: 'log', line });
    done();
  },
});

const database = openDatabase(data.databaseUrl, 2);
try {
  const result = await trainStage(
    {
      database,
      thresholds: data.thresholds,
      dataDir: data.dataDir,
      configuredModelDir: data.configuredModelDir,
      log: pino({ level: data.logLevel, base: null, timestamp: false }, lines),
      ...(data.shippedDir !== undefined ? { shippedDir: data.shippedDir } : {}),
    },
    data.options,
  );
  send({ kind: 'done', result });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ kind: 'failed', name: e.name, message: e.message });
} finally {
  await database.close();
}
