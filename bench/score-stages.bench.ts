/**
 * npm run bench:score-stages -- [--employers 1000000] [--months 36] [--shards 4] [--rounds 5]
 *
 * The scoring stage's parts on one thread, one after the other, on the
 * first `--shards` of the 64 shards of bench:score's database (built the
 * same way when it is missing): reading a shard, building its features,
 * and the rules with the levels (judgeEmployer, as scoreShard runs it).
 * Prints employers per second for each, best of `--rounds`, and a digest
 * of every judgement and every feature window, so that a change made for
 * speed can be shown to leave the output as it was. The whole stage
 * (threads, model, writes) is bench:score. Last line: one JSON object
 * {"employers", "read_per_s", "features_per_s", "rules_per_s", "digest"}.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.load.js';
import { openDatabase, withDatabaseName } from '../services/db/database.js';
import { buildFeatures } from '../services/scoring/features.js';
import { addMonths } from '../services/domain/period.js';
import { judgeEmployer } from '../services/scoring/judgement.js';
import { HISTORY_MONTHS, shards } from '../services/scoring/score.service.js';
import { withPeers } from '../services/scoring/rules/index.js';
import type { SeriesBatch } from '../services/scoring/series.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { wholeNumber } from './args.js';
import { ensureHistory, LAST_PERIOD } from './history.js';
import { benchServer } from './server.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      employers: { type: 'string', default: '1000000' },
      months: { type: 'string', default: '36' },
      shards: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const employers = wholeNumber('employers', values.employers, 1, 5_000_000);
  const months = wholeNumber('months', values.months, 25, 60);
  const take = wholeNumber('shards', values.shards, 1, 64);
  const rounds = wholeNumber('rounds', values.rounds, 1, 50);
  const config = loadConfig();
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const server = await benchServer(config);
  try {
    if (await ensureHistory(server.url, 'ews_bench_score', employers, months, { say })) say(`built ${employers} employers × ${months} months`);
    const database = openDatabase(withDatabaseName(server.url, 'ews_bench_score'), 2);
    try {
      const series = new SeriesRepository(database);
      const thresholds = config.scoring.thresholds;
      const ctx = await series.newIntakes([addMonths(LAST_PERIOD, -1), LAST_PERIOD]);
      const list = shards(64).slice(0, take);

      let read = Infinity;
      let batches: SeriesBatch[] = [];
      for (let r = 0; r < Math.min(rounds, 2); r++) {
        const t0 = performance.now();
        const got: SeriesBatch[] = [];
        for (const shard of list) got.push(await series.readShard({ period: LAST_PERIOD, months: HISTORY_MONTHS, ...shard }));
        read = Math.min(read, (performance.now() - t0) / 1000);
        batches = got;
      }
      const n = batches.reduce((s, b) => s + b.size, 0);
      const rowsOf = (b: SeriesBatch): number[] => Array.from({ length: b.size }, (_, i) => i);

      let features = Infinity;
      let rules = Infinity;
      let sink = 0;
      for (let r = 0; r < rounds; r++) {
        let t0 = performance.now();
        for (const b of batches) sink += buildFeatures(b, rowsOf(b))[0] ?? 0;
        features = Math.min(features, (performance.now() - t0) / 1000);
        t0 = performance.now();
        // As scoreShard runs them: the peers' dispersion of the shard first, then every employer.
        for (const b of batches) {
          const shardCtx = withPeers(ctx, b, thresholds);
          for (let i = 0; i < b.size; i++) sink += judgeEmployer(b, i, shardCtx, thresholds, null).jobsAtStake;
        }
        rules = Math.min(rules, (performance.now() - t0) / 1000);
      }

      const hash = createHash('sha256');
      for (const b of batches) {
        const shardCtx = withPeers(ctx, b, thresholds);
        for (let i = 0; i < b.size; i++) hash.update(JSON.stringify(judgeEmployer(b, i, shardCtx, thresholds, null)));
        hash.update(new Uint8Array(buildFeatures(b, rowsOf(b)).buffer));
      }
      const digest = hash.digest('hex').slice(0, 16);
      const perS = (s: number): number => Math.round(n / s);
      say(`${n} employers (${take} of 64 shards of ${employers}), one thread, best of ${rounds} (reading: of ${Math.min(rounds, 2)})`);
      say(`read       ${String(perS(read)).padStart(8)} employers/s (PostgreSQL and this thread together)`);
      say(`features   ${String(perS(features)).padStart(8)} employers/s`);
      say(`rules      ${String(perS(rules)).padStart(8)} employers/s (rules, jobs at stake and level)`);
      say(`digest of every judgement and feature window: ${digest}${Number.isFinite(sink) ? '' : ' (non-finite sink)'}`);
      console.log(JSON.stringify({ employers: n, read_per_s: perS(read), features_per_s: perS(features), rules_per_s: perS(rules), digest }));
    } finally {
      await database.close();
    }
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:score-stages: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
