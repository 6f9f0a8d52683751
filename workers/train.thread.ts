import { Writable } from 'node:stream';
import pino from 'pino';
import { openDatabase } from '../services/db/database.js';
import { maskLogLine } from '../services/log.js';
import { serveThread } from '../services/threads/thread.js';
import type { TrainingThread } from './train.protocol.js';
import { trainStage } from './train.stage.js';

/**
 * The retraining stage off the worker's event loop: building the examples,
 * training and judging take minutes of CPU, during which the process's
 * other jobs must keep renewing their locks and the API must keep
 * answering. Its own database connections; log lines go to the owning
 * thread, which writes them under the job's logger. Started through
 * train.thread.mjs, which registers tsx first.
 */
serveThread<TrainingThread>({
  start(data) {
    const database = openDatabase(data.databaseUrl, 2);
    return {
      info: null,
      async handle(options, ask) {
        const lines = new Writable({
          write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString('utf8').split('\n')) if (line !== '') void ask({ line });
            done();
          },
        });
        const deps = {
          database,
          thresholds: data.thresholds,
          dataDir: data.dataDir,
          configuredModelDir: data.configuredModelDir,
          log: pino({ level: data.logLevel, base: null, timestamp: false, hooks: { streamWrite: maskLogLine } }, lines),
          ...(data.shippedDir !== undefined ? { shippedDir: data.shippedDir } : {}),
        };
        return { value: await trainStage(deps, options) };
      },
      close: () => database.close(),
    };
  },
});
