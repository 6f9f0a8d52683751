/**
 * npm run bench:ingest -- --employers 1000000 [--seed 1]
 *
 * Ingests one month of the social-insurance feed for N employers from a
 * generated source into a fresh `ews_bench` database on the configured (or
 * embedded) PostgreSQL, then times `psql \copy` of the same rows into the
 * same table as the limit to compare with. Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { loadConfig } from '../config/config.load.js';
import { benchServer } from './server.js';
import { openDatabase } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { FEEDS } from '../services/feeds/feed.spec.js';
import { ingestBatch } from '../services/feeds/ingest.service.js';
import { openSource } from '../services/feeds/source.js';
import { createLogger } from '../services/log.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { employers: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
  const employers = Number(values.employers);
  const seed = Number(values.seed);
  if (!Number.isInteger(employers) || employers < 1) throw new Error(`--employers must be a whole number ≥ 1, got "${values.employers}"`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number ≥ 0, got "${values.seed}"`);
  const config = loadConfig();
  const log = createLogger({ ...config, log: { ...config.log, level: 'warn' } });
  const say = (s: string): void => void process.stderr.write(`${s}\n`);

  // 1. The source, generated once per (employers, seed) and reused.
  const out = resolve(config.dataDir, 'bench', `ingest-${employers}-${seed}`);
  if (!existsSync(resolve(out, 'feeds', 'manifest.json'))) {
    say(`generating ${employers} employers × 1 month into ${out} …`);
    await run(process.execPath, [resolve(ROOT, 'bin/ews.js'), 'generate', '--out', out, '--employers', String(employers), '--months', '1', '--seed', String(seed), '--no-defects', '--json']);
  }

  // 2. A fresh database on the configured server.
  const server = await benchServer(config);
  const serverUrl = server.url;
  const stopEmbedded = (): Promise<void> => server.stop();
  const benchUrl = withDatabase(serverUrl, 'ews_bench');
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS ews_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE ews_bench');
  await admin.end();
  const database = openDatabase(benchUrl, 4);
  try {
    await migrate(database.pool);
    const source = openSource({ name: 'bench', url: `file://${resolve(out, 'feeds')}/` }, { timeoutMs: 30_000, retries: 0, retryBaseMs: 1000, spoolDir: resolve(config.dataDir, 'spool') });
    const manifest = await source.readManifest();
    const entry = manifest.entries.find((e) => e.feed === 'social_insurance');
    if (!entry) throw new Error('the generated source has no social_insurance batch');
    await database.pool.query('CHECKPOINT');

    // 3. Our ingest, timed.
    say(`ingesting ${entry.file} (${entry.rows} rows) …`);
    const t0 = process.hrtime.bigint();
    const outcome = await ingestBatch({ batches: new BatchRepository(database), log }, source, entry);
    const ingestS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (outcome.status !== 'loaded') throw new Error(`batch not loaded: ${outcome.status} ${outcome.reason ?? ''}`);
    const peakRssMib = process.resourceUsage().maxRSS / 1024;

    // 4. The limit: psql \copy of the same rows into the same table.
    const cols = [...FEEDS.social_insurance.columns.map(([n]) => n), 'batch_id'].join(', ');
    const dump = resolve(config.dataDir, 'bench', `si-${employers}-${seed}.copy`);
    const client = await database.pool.connect();
    try {
      await pipeline(client.query(copyTo(`COPY (SELECT ${cols} FROM social_insurance) TO STDOUT`)), createWriteStream(dump));
    } finally {
      client.release();
    }
    await database.pool.query('TRUNCATE social_insurance');
    await database.pool.query('CHECKPOINT');
    const t1 = process.hrtime.bigint();
    await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', benchUrl, '-c', `\\copy social_insurance (${cols}) FROM '${dump}'`]);
    const copyS = Number(process.hrtime.bigint() - t1) / 1e9;
    const copied = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM social_insurance');
    if (copied.rows[0]?.n !== outcome.rowsLoaded) throw new Error(`\\copy loaded ${copied.rows[0]?.n} rows, ingest ${outcome.rowsLoaded}`);

    const result = {
      rows: outcome.rowsLoaded,
      ingest_s: round(ingestS, 2),
      rows_per_s: Math.round(outcome.rowsLoaded / ingestS),
      copy_s: round(copyS, 2),
      ratio_vs_copy: round(ingestS / copyS, 2),
      peak_rss_mib: Math.round(peakRssMib),
    };
    console.log(`ingest: ${result.rows} rows in ${result.ingest_s} s (${result.rows_per_s} rows/s), peak RSS ${result.peak_rss_mib} MiB`);
    console.log(`psql \\copy of the same rows: ${result.copy_s} s; ingest / \\copy = ${result.ratio_vs_copy} (target ≤ 3, RSS < 512 MiB)`);
    console.log(JSON.stringify(result));
  } finally {
    await database.close();
    await stopEmbedded();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} exited with ${code}`))));
  });
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:ingest: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
