import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { CITIES } from '../../config/cities.js';
import { configSchema, type Config } from '../../config/config.schema.js';
import { poolScorer, startInferencePool } from '../../models/inference.pool.js';
import { processRun } from '../../services/alerts/alert.service.js';
import { createAuth } from '../../services/api/auth.js';
import { ConsoleService } from '../../services/console/console.service.js';
import type { Database } from '../../services/db/database.js';
import { scopeOf, type Principal, type Role } from '../../services/domain/access.js';
import { addMonths, monthRange } from '../../services/domain/period.js';
import { usccBucket } from '../../services/domain/uscc.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatch, pendingEntries } from '../../services/feeds/ingest.service.js';
import { openSource } from '../../services/feeds/source.js';
import type { Logger } from '../../services/log.js';
import { sendOutbox } from '../../services/notify/deliver.js';
import { FEATURE_SPEC } from '../../services/scoring/features.js';
import { RiskRepository } from '../../services/scoring/risk.repository.js';
import { scorePeriod } from '../../services/scoring/score.run.js';
import { SeriesRepository } from '../../services/scoring/series.repository.js';
import { generateProvince } from '../../services/synth/province.generate.js';

/**
 * A small province for the console, made by the real pipeline: a generated
 * province (1,500 employers × 27 months) ingested feed by feed, ten months
 * scored with the shipped model, each month's alerts raised and their
 * e-mails written as .eml files, so every series, evidence and history the
 * pages show is what the service would show. Then one account per role.
 * Used by the browser test (test/console-browser.test.ts) and by
 * `npm run screenshots` (scripts/screenshots.ts).
 */

export const LAST_PERIOD = '2026-10';
export const CITY = '510100';
export const PASSWORD = 'Sichuan-console-2026';
/** An employer name a hostile or broken feed could carry: the pages must show it as text. */
export const HOSTILE_NAME = '四川丰恒<b id="injected">文化</b>传播<img src=x onerror="document.title=1">有限公司';

export interface ConsoleAccount {
  email: string;
  password: string;
  role: Role;
  cityCode: string | null;
}

export interface SeededAlert {
  id: number;
  name: string;
  subject: string;
  cityCode: string;
  level: number;
}

export interface ConsoleWorld {
  period: string;
  accounts: Record<'province' | 'city' | 'viewer' | 'ops' | 'lockable', ConsoleAccount>;
  /** An open employer alert of CITY, the one the city official acts on. */
  cityAlert: SeededAlert;
  /** An active employer alert of another city (its e-mail link must show a city official nothing). */
  otherAlert: SeededAlert;
  /** The alert of the employer renamed to HOSTILE_NAME (when asked for). */
  hostileAlert: SeededAlert | null;
  /** Open employer alerts of CITY at the end of the seed. */
  cityOpen: number;
}

export function consoleConfig(dir: string, over: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    dataDir: join(dir, 'data'),
    scoring: { shards: 4, threads: 0, modelThreads: 1 },
    notify: {
      outboxDir: join(dir, 'outbox'),
      consoleUrl: 'http://127.0.0.1:3000',
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `jyc-${c.code}@hrss.example.cn` }]])),
      province: [{ email: 'yjzx@hrss.example.cn', levels: [1, 2] }],
    },
    ...over,
  });
}

interface TruthEvent {
  type: string;
  uscc: string;
  city_code: string;
  period: string;
  size: number;
}

/** The largest layoff or closure of CITY in the last four months of the ground truth: the employer the console's HTML test renames. */
function layoffToRename(truthDir: string): string {
  const events = readFileSync(join(truthDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TruthEvent)
    .filter((e) => (e.type === 'layoff' || e.type === 'closure') && e.city_code === CITY && e.period >= addMonths(LAST_PERIOD, -3) && e.size >= 10)
    .sort((a, b) => b.size - a.size);
  const first = events[0];
  if (first === undefined) throw new Error(`seedConsole: the generated province has no layoff of 10 or more in ${CITY} since ${addMonths(LAST_PERIOD, -3)}`);
  return first.uscc;
}

async function employerAlerts(database: Database) {
  const rows = await database.db
    .selectFrom('alert')
    .select(['alert_id', 'name', 'subject', 'city_code', 'level', 'status', 'kind'])
    .where('subject_type', '=', 'employer')
    .orderBy('level')
    .orderBy('alert_id')
    .execute();
  return rows.map((r) => ({ id: r.alert_id, name: r.name, subject: r.subject, cityCode: r.city_code.trim(), level: r.level, status: r.status, kind: r.kind }));
}

export async function seedConsole(database: Database, config: Config, dir: string, log: Logger, options: { hostileName?: boolean } = {}): Promise<ConsoleWorld> {
  const summary = await generateProvince({ outDir: join(dir, 'province'), employers: 1_500, months: 27, seed: 5, lastPeriod: LAST_PERIOD, defects: true });
  const batches = new BatchRepository(database);
  const source = openSource({ name: 'exchange', url: `file://${summary.sourceDir}/` }, { timeoutMs: 5_000, retries: 0, retryBaseMs: 10, spoolDir: join(dir, 'spool') });
  for (const entry of (await pendingEntries({ batches, log }, source)).pending) await ingestBatch({ batches, log }, source, entry);

  // The name as the platform delivered it, in every month, before anything was scored.
  let hostileUscc: string | null = null;
  if (options.hostileName !== false) {
    hostileUscc = layoffToRename(summary.truthDir);
    await sql`UPDATE social_insurance SET name = ${HOSTILE_NAME} WHERE bucket = ${usccBucket(hostileUscc)} AND uscc = ${hostileUscc}`.execute(database.db);
  }

  const pool = await startInferencePool(fileURLToPath(new URL('../../models/default', import.meta.url)), FEATURE_SPEC, { threads: 1 });
  try {
    const deps = {
      series: new SeriesRepository(database), risks: new RiskRepository(database), thresholds: config.scoring.thresholds,
      cityBands: config.scoring.cityRisk, model: poolScorer(pool), log,
    };
    // Month by month, as the nights would have: score, raise the alerts, send the e-mails.
    for (const period of monthRange(addMonths(LAST_PERIOD, -9), LAST_PERIOD)) {
      const run = await scorePeriod(deps, period, { shards: config.scoring.shards, modelNote: null });
      await processRun({ database, alerts: config.alerts, notify: config.notify, log }, run.runId);
      await sendOutbox(database, config.notify, log);
    }
  } finally {
    await pool.close();
  }

  const auth = createAuth(config, database);
  const account = async (key: string, role: Role, cityCode: string | null): Promise<ConsoleAccount> => {
    const email = `${key}@hrss.example.cn`;
    await auth.addUser({ email, role, cityCode, password: PASSWORD });
    return { email, password: PASSWORD, role, cityCode };
  };
  const accounts = {
    province: await account('zhang.wei', 'province', null),
    city: await account('li.na.chengdu', 'city', CITY),
    viewer: await account('wang.fang', 'viewer', null),
    ops: await account('ops.duty', 'ops', null),
    lockable: await account('zhao.lei.zigong', 'city', '510300'),
  };

  // Offices elsewhere have already acted on some alerts: acknowledged one, resolved another.
  const alerts = await employerAlerts(database);
  const service = new ConsoleService(database, config);
  const province: Principal = { accountId: 1, email: accounts.province.email, role: 'province', cityCode: null, via: 'session' };
  const elsewhere = alerts.filter((a) => a.cityCode !== CITY && a.status === 'open');
  const [toAck, toResolve] = elsewhere;
  if (toAck !== undefined) await service.acknowledge(province, scopeOf(province), toAck.id, '已电话联系企业人事负责人，正在核实', '127.0.0.1');
  if (toResolve !== undefined) await service.resolve(province, scopeOf(province), toResolve.id, '已采取稳岗措施', '企业申请稳岗返还，暂缓裁员', '127.0.0.1');

  const after = await employerAlerts(database);
  const pickAlert = (a: (typeof after)[number] | undefined, what: string): SeededAlert => {
    if (a === undefined) throw new Error(`seedConsole: no ${what} in the seeded province`);
    return { id: a.id, name: a.name, subject: a.subject, cityCode: a.cityCode, level: a.level };
  };
  const hostile = hostileUscc === null ? undefined : after.find((a) => a.subject === hostileUscc && a.kind === 'layoff');
  if (hostileUscc !== null && hostile === undefined) throw new Error(`seedConsole: the renamed employer ${hostileUscc} raised no layoff alert; the generator or the scoring changed: pick another employer`);
  const cityOpen = after.filter((a) => a.cityCode === CITY && a.status === 'open');
  return {
    period: LAST_PERIOD,
    accounts,
    // One the e-mails named: an employer with an unreported-layoff alert is e-mailed under that one (routing.ts, inhibition).
    cityAlert: pickAlert(
      cityOpen.find((a) => a.subject !== hostileUscc && a.kind === 'layoff' && !after.some((b) => b.subject === a.subject && b.kind === 'unreported')),
      `open layoff alert in ${CITY}`,
    ),
    otherAlert: pickAlert(after.find((a) => a.cityCode !== CITY && (a.status === 'open' || a.status === 'acknowledged') && !a.name.includes('成都')), 'active alert outside the city'),
    hostileAlert: hostile === undefined ? null : pickAlert(hostile, 'hostile alert'),
    cityOpen: cityOpen.length,
  };
}
