import pino from 'pino';
import { openDatabase } from '../db/database.js';
import { maskLogLine } from '../log.js';
import { serveThread } from '../threads/thread.js';
import { RiskRepository } from './risk.repository.js';
import { scoreShard, type ShardDeps } from './score.service.js';
import { newStageClock } from './shard.types.js';
import type { ScoringThread } from './shard.protocol.js';
import { SeriesRepository, intakeContext } from './series.repository.js';

/**
 * One scoring thread: its own connections to PostgreSQL, then whole shards
 * (read, features, rules, levels, write) exactly as scoreShard runs inline.
 * The model is not loaded here: its predictions are asked of the owning
 * thread, whose inference pool already holds it, so a refused artifact, the
 * fallback to rules only and /readyz stay in one place. Started through
 * shard.worker.mjs, which registers tsx first.
 */
serveThread<ScoringThread>({
  start(data) {
    const database = openDatabase(data.databaseUrl, 2);
    const deps: Omit<ShardDeps, 'model'> = {
      series: new SeriesRepository(database),
      risks: new RiskRepository(database),
      thresholds: data.thresholds,
      log: pino({ level: data.logLevel, base: { service: 'layoff-ews', thread: 'scoring' }, hooks: { streamWrite: maskLogLine } }, pino.destination(2)),
    };
    const { modelVersion: version, modelReference: reference } = data;
    return {
      info: null,
      async handle({ runId, period, shard, intakes }, ask) {
        // Handed over, not copied: scoreShard has taken what it reads
        // afterwards (the last steps, for the explanation's drivers).
        const model = version === null ? null : { version, reference, predict: (x: Float32Array, n: number) => ask({ x, n }, [x.buffer as ArrayBuffer]) };
        const clock = newStageClock();
        const result = await scoreShard({ ...deps, model }, runId, period, shard, intakeContext(intakes), clock);
        return { value: { result, clock } };
      },
      close: () => database.close(),
    };
  },
});
