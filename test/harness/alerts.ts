import { sql } from 'kysely';
import type { Database } from '../../services/db/database.js';
import { RiskRepository, type EmployerRiskRow } from '../../services/scoring/risk.repository.js';
import { addMonths, monthRange, periodDate } from '../../services/domain/period.js';
import { usccBucket as bucketOf } from '../../services/domain/uscc.js';
import { uscc } from './feed-source.js';
import type { Logger } from '../../services/log.js';
import { deliverPending } from '../../services/notify/deliver.js';
import { openTransport } from '../../services/notify/transport.js';
import type { NotifyConfig } from '../../config/notify.schema.js';
import type { FindingKind } from '../../services/domain/explanation.js';
import type { Level } from '../../services/domain/level.js';
import type { KeyGroups } from '../../services/scoring/keygroups.js';

/**
 * Scoring runs with chosen results, written through the scoring stage's own
 * repository, so the alert and notification tests control exactly which
 * employers stand at which level.
 */

export interface SeedEmployer {
  serial: number;
  city?: string;
  level: Level | null;
  /** Default: the level (a rule hit); null for a model-only level. */
  ruleLevel?: Level | null;
  kinds?: string[];
  rules?: string[];
  name?: string;
  probability?: number | null;
  /** This month's separations of migrant workers and graduates, and the estimated jobs at stake among them; default: not reported. */
  keyGroups?: Partial<KeyGroups>;
}

const NOT_REPORTED: KeyGroups = { separated: 50, separatedMigrant: null, separatedGraduate: null, jobsAtStakeMigrant: null, jobsAtStakeGraduate: null };

export async function seedRun(database: Database, period: string, employers: readonly SeedEmployer[], cities: { code: string; level: Level | null; dataMissing?: boolean }[] = []): Promise<number> {
  const risks = new RiskRepository(database);
  const runId = await risks.startRun(period, null, 'seeded by a test');
  const rows: EmployerRiskRow[] = employers.map((e) => {
    const code = uscc(e.serial);
    const kinds = e.kinds ?? (e.level !== null ? ['layoff'] : []);
    const rules = e.rules ?? (kinds.includes('layoff') ? ['law41'] : []);
    return {
      bucket: bucketOf(code),
      uscc: code,
      name: e.name ?? `测试企业${e.serial}有限公司`,
      cityCode: e.city ?? '510100',
      regionCode: `${(e.city ?? '510100').slice(0, 4)}04`,
      industryCode: 'C39',
      workforce: 300,
      level: e.level,
      ruleLevel: e.ruleLevel === undefined ? e.level : e.ruleLevel,
      probability: e.probability ?? null,
      jobsAtStake: 60,
      excessSeparations: 45,
      rules,
      kinds,
      explanation: {
        rules: rules.map((r, i) => ({
          rule: r, kind: (kinds[i] ?? kinds[0] ?? 'layoff') as FindingKind, summary: `本月减员 50 人，较自身基线多 45 人（${r}）`,
          window: { from: period, to: period }, numbers: { excess: 45 }, threshold: '', source: '',
        })),
        reasons: [],
        model: null,
      },
      ...NOT_REPORTED,
      ...e.keyGroups,
    };
  });
  // Replace the period's rows wholesale, as a full run would.
  await database.pool.query('DELETE FROM employer_risk WHERE period = $1::date', [periodDate(period)]);
  await risks.writeShard(period, { bucketFrom: 0, bucketTo: 255 }, runId, rows);
  await risks.writeCities(
    period,
    runId,
    cities.map((c) => ({
      cityCode: c.code, industrySection: '*', level: c.level, dataMissing: c.dataMissing ?? false, missingFeeds: c.dataMissing ? ['headcount'] : [],
      employers: 100, expectedJobLosses: 500, observedLayoffs: 3, observedJobLosses: 120, uiNewClaims: 900, uiClaimsRatio: 1.6,
      registeredUnemployed: 5000, surveyedRate: 5.8, explanation: { signals: [{ name: 'ui_claims_ratio', value: 1.6, level: c.level }], missing: [] },
      separated: 400, separatedMigrant: 120, separatedGraduate: 15, migrantReporters: 60, graduateReporters: 55, jobsAtStake: 300, jobsAtStakeMigrant: 96.5, jobsAtStakeGraduate: 12,
    })),
  );
  await risks.finishRun(runId, 'done', rows.length, 1);
  return runId;
}

/** 24 months of social-insurance history for an employer, so its e-mail carries a chart. */
export async function seedHistory(database: Database, serial: number, period: string, city = '510100'): Promise<void> {
  const code = uscc(serial);
  const months = monthRange(addMonths(period, -23), period);
  for (const [i, p] of months.entries()) {
    await sql`SELECT ews_ensure_month_partition('social_insurance', ${periodDate(p)}::date)`.execute(database.db);
    await sql`
      INSERT INTO social_insurance (bucket, uscc, period, name, region_code, city_code, industry_code, insured, hired, separated, arrears_months, wage_base_total, batch_id)
      VALUES (${bucketOf(code)}, ${code}, ${periodDate(p)}::date, '测试企业', ${`${city.slice(0, 4)}04`}, ${city}, 'C39', ${300 - (i === 23 ? 50 : 0)}, 5, ${i === 23 ? 55 : 5}, 0, 1500000, 0)
      ON CONFLICT DO NOTHING`.execute(database.db);
  }
}

/** Empties what a test of the alert stage writes (alerts, their history and runs, the outbox, scores), so each test starts clean. */
export async function resetAlertTables(database: Database): Promise<void> {
  await sql`TRUNCATE alert, alert_event, alert_run, notification, score_run, city_risk RESTART IDENTITY`.execute(database.db);
  await sql`DELETE FROM employer_risk`.execute(database.db);
}

/** Sends every e-mail waiting in the outbox over the configured transport, as `ews notify send` does. */
export async function sendOutbox(database: Database, notify: NotifyConfig, log: Logger, leaseMs: number): Promise<{ sent: number; failed: number; deferred: number }> {
  const transport = openTransport(notify, { socketTimeoutMs: 5_000 });
  try {
    return await deliverPending({ database, transport, log, leaseMs });
  } finally {
    transport.close();
  }
}
