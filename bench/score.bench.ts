/**
 * npm run bench:score -- --employers 1000000 [--months 36] [--shards 32] [--rebuild]
 *
 * Scores one month for N employers with M months of history: features,
 * model, rules, levels, written back, exactly what `ews score` runs, as a
 * night runs it: reading the pack the night before left (series_pack) and
 * the month scored. The night before is scored first, from the facts alone,
 * and its figure printed too (it is not the one in the JSON line). Then,
 * in the same process, times bare `model.predict` on ready tensors as the
 * limit to compare with. Last line: one JSON object.
 *
 * The history is generated inside PostgreSQL (bench/history.ts) into a
 * database `ews_bench_score` that is kept between runs and rebuilt only when
 * its size differs or with --rebuild. Building 1,000,000 × 36 takes several
 * minutes; it is not timed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../config/config.load.js';
import { benchServer } from './server.js';
import { wholeNumber } from './args.js';
import { ensureHistory, LAST_PERIOD } from './history.js';
import { initTf } from '../models/backend.js';
import { loadArtifact } from '../models/artifact.js';
import { poolScorer, startInferencePool } from '../models/inference.pool.js';
import { resolveModelArtifact } from '../models/registry.js';
import { openDatabase } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { createLogger } from '../services/log.js';
import { FEATURE_SPEC, FEATURE_STEPS, FEATURES_PER_STEP } from '../services/scoring/features.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { addMonths, periodDate } from '../services/domain/period.js';
import { scorePeriod } from '../services/scoring/score.run.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { startShardThreads } from '../services/scoring/shard.threads.js';


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      employers: { type: 'string', default: '1000000' },
      months: { type: 'string', default: '36' },
      shards: { type: 'string' },
      rebuild: { type: 'boolean', default: false },
    },
  });
  const employers = wholeNumber('employers', values.employers, 1, 5_000_000);
  const months = wholeNumber('months', values.months, 25, 60);
  const config = loadConfig();
  const shardCount = values.shards !== undefined ? wholeNumber('shards', values.shards, 1, 256) : Math.max(config.scoring.shards, Math.ceil(employers / 20_000));
  const log = createLogger({ ...config, log: { ...config.log, level: 'warn' } });
  const say = (s: string): void => void process.stderr.write(`${s}\n`);

  const server = await benchServer(config);
  const serverUrl = server.url;
  const stopEmbedded = (): Promise<void> => server.stop();
  const benchUrl = withDatabase(serverUrl, 'ews_bench_score');
  const stopPool: (() => Promise<void>)[] = [];
  try {
    const t0build = performance.now();
    if (await ensureHistory(serverUrl, 'ews_bench_score', employers, months, { rebuild: values.rebuild, say })) {
      say(`built ${employers} employers × ${months} months in ${Math.round((performance.now() - t0build) / 1000)} s`);
    }
    const database = openDatabase(benchUrl, 4);
    stopPool.push(() => database.close());
    await migrate(database.pool); // a kept database may predate the latest migrations
    // The artifact scoring would load: MODEL_DIR, else the registry's current version, else the shipped model.
    const modelDir = resolveModelArtifact({ configuredDir: config.scoring.modelDir, dataDir: config.dataDir, expected: FEATURE_SPEC }).dir;
    const pool = await startInferencePool(modelDir, FEATURE_SPEC, { threads: config.scoring.modelThreads });
    stopPool.push(() => pool.close());
    const model = poolScorer(pool);
    const threads = config.scoring.threads > 0 ? await startShardThreads({ databaseUrl: benchUrl, thresholds: config.scoring.thresholds, threads: config.scoring.threads, model }) : null;
    if (threads) stopPool.push(() => threads.close());
    const deps = {
      series: new SeriesRepository(database),
      risks: new RiskRepository(database),
      thresholds: config.scoring.thresholds,
      cityBands: config.scoring.cityRisk,
      model,
      log,
    };
    // The night before, with no pack kept: every shard reads its 25 months
    // from the facts and leaves the pack that the timed night reads.
    const before = addMonths(LAST_PERIOD, -1);
    await database.pool.query('DELETE FROM series_pack_state');
    await database.pool.query('DELETE FROM employer_risk WHERE period >= $1', [periodDate(before)]);
    await database.pool.query('DELETE FROM series_pack WHERE period >= $1', [periodDate(before)]);
    // What autovacuum does between two nights: without it, each rerun of
    // the bench on a kept database writes among the dead rows of the last.
    await database.pool.query('VACUUM employer_risk, series_pack, series_pack_state');
    say(`scoring ${before} from the facts (no pack yet) in ${shardCount} shards …`);
    const t0first = performance.now();
    const first = await scorePeriod(deps, before, { shards: shardCount, runner: threads });
    const firstClock = first.clock;
    const firstS = (performance.now() - t0first) / 1000;
    say(`  ${first.employers} employers in ${firstS.toFixed(2)} s: ${Math.round(first.employers / firstS)} employers/s (read ${firstClock.read.toFixed(2)} s summed over shards)`);
    // A day passes between two nights: autovacuum and checkpoints deal with
    // the night before's million rows then, not during the next night's run.
    await database.pool.query('VACUUM (ANALYZE) employer_risk, series_pack, series_pack_state');
    await database.pool.query('CHECKPOINT');

    say(`scoring ${LAST_PERIOD} in ${shardCount} shards from the pack of ${before} (model ${pool.version}, ${config.scoring.threads} scoring threads, ${config.scoring.modelThreads} inference threads) …`);
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    const result = await scorePeriod(deps, LAST_PERIOD, { shards: shardCount, runner: threads });
    const clock = result.clock;
    const scoreS = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds();
    const peakRssMib = process.resourceUsage().maxRSS / 1024;
    const written = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM employer_risk WHERE period = $1', [periodDate(LAST_PERIOD)]);
    if (written.rows[0]?.n !== result.employers) throw new Error(`scored ${result.employers} employers but ${written.rows[0]?.n} rows were written`);
    if (result.shardsFromPack !== shardCount) say(`note: only ${result.shardsFromPack} of ${shardCount} shards read the pack`);
    if (threads) {
      await threads.close();
      stopPool.pop();
    }
    await pool.close();
    stopPool.pop();

    // The limit: bare model.predict on ready tensors, in this process (one wasm thread).
    const predictOnly = await barePredict(modelDir);

    const n = result.employers;
    const perS = (s: number): number => (s > 0 ? Math.round(n / s) : 0);
    say('');
    say(`stage          seconds   employers/s   (stages of the two lanes overlap; each is summed over shards)`);
    for (const [stage, s] of Object.entries(clock) as [string, number][]) say(`${stage.padEnd(14)} ${s.toFixed(2).padStart(7)}   ${String(perS(s)).padStart(11)}`);
    say(`${'whole stage'.padEnd(14)} ${scoreS.toFixed(2).padStart(7)}   ${String(perS(scoreS)).padStart(11)}`);
    say(`bare model.predict on ready tensors: ${predictOnly} windows/s (1 wasm thread)`);
    say(`CPU while scoring: this process (all threads) ${(cpu1.node - cpu0.node).toFixed(1)} s, PostgreSQL ${cpu1.postgres === null || cpu0.postgres === null ? 'unknown' : (cpu1.postgres - cpu0.postgres).toFixed(1)} s, of ${(2 * scoreS).toFixed(1)} core-seconds on 2 cores`);
    say(`levels: Ⅰ ${result.levels['1']}  Ⅱ ${result.levels['2']}  Ⅲ ${result.levels['3']}  Ⅳ ${result.levels['4']}; peak RSS ${Math.round(peakRssMib)} MiB`);
    const out = {
      employers: n,
      score_s: round(scoreS, 2),
      employers_per_s: perS(scoreS),
      predict_only_per_s: predictOnly,
      ratio_vs_predict: round(predictOnly / perS(scoreS), 2),
      peak_rss_mib: Math.round(peakRssMib),
    };
    console.log(JSON.stringify(out));
  } finally {
    for (const stop of stopPool.reverse()) await stop();
    await stopEmbedded();
  }
}

/** Windows per second of bare model.predict on a ready [4096, steps, features] tensor, best of five. */
async function barePredict(dir: string): Promise<number> {
  await initTf();
  const loaded = await loadArtifact(dir, FEATURE_SPEC);
  const rows = 4096;
  const data = new Float32Array(rows * FEATURE_STEPS * FEATURES_PER_STEP);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  const x = tf.tensor3d(data, [rows, FEATURE_STEPS, FEATURES_PER_STEP]);
  let best = 0;
  for (let round = 0; round < 6; round++) {
    const t0 = performance.now();
    let done = 0;
    while (done < 16 * rows) {
      const y = loaded.model.predict(x, { batchSize: rows }) as tf.Tensor;
      await y.data();
      y.dispose();
      done += rows;
    }
    const perS = done / ((performance.now() - t0) / 1000);
    if (round > 0) best = Math.max(best, perS); // the first round warms up
  }
  x.dispose();
  loaded.model.dispose();
  return Math.round(best);
}

/**
 * CPU seconds used so far by this process (every thread) and by all
 * PostgreSQL processes of this machine, with the backends that ended
 * (Linux /proc; null elsewhere).
 * Other PostgreSQL servers here are idle while the bench runs.
 */
function cpuSeconds(): { node: number; postgres: number | null } {
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1e6, postgres: postgresCpu() };
}

function postgresCpu(): number | null {
  let ticks = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
    const fields = stat.slice(close + 2).split(' ');
    // utime, stime, and (for the postmaster) those of the backends that exited
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / 100; // USER_HZ
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:score: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
