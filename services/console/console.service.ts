import type { Config } from '../../config/config.schema.js';
import { CITIES } from '../../config/cities.js';
import { AlertRepository, type ActionAudit } from '../alerts/alert.repository.js';
import type { Database } from '../db/database.js';
import { inScope, maskedEmail, type Principal, type Scope } from '../domain/access.js';
import { readEmployerExplanation } from '../domain/explanation.js';
import { addMonths, periodOf } from '../domain/period.js';
import { cityName } from '../domain/region.js';
import { ConsoleRepository, type AlertQuery, type EmployerWho } from './console.repository.js';
import { KeyGroupRepository } from './keygroups.repository.js';

/**
 * The console's reads and actions, shaped once for the API (JSON) and the
 * pages (HTML) alike. Every function takes the caller's scope and passes it
 * to the repositories, which read only inside it.
 */

export const SERIES_MONTHS = 24;
/** How long one process reuses a scope's acknowledgement times. */
export const ACK_TIMES_TTL_MS = 15_000;

type ListRow = Awaited<ReturnType<ConsoleRepository['listAlerts']>>['items'][number];

const month = (d: string | null): string | null => (d === null ? null : periodOf(d));

export function alertItem(r: ListRow) {
  return {
    id: r.alert_id,
    cityCode: r.city_code,
    cityName: cityName(r.city_code),
    level: r.level,
    peakLevel: r.peak_level,
    status: r.status,
    kind: r.kind,
    subjectType: r.subject_type,
    subject: r.subject,
    name: r.name,
    modelOnly: r.model_only,
    firstPeriod: periodOf(r.first_period),
    lastPeriod: periodOf(r.last_period),
    openedAt: r.opened_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    disposition: r.disposition,
    reopenCount: r.reopen_count,
    updatedAt: r.updated_at,
  };
}

export type AlertItem = ReturnType<typeof alertItem>;

export class ConsoleService {
  readonly repo: ConsoleRepository;
  readonly alerts: AlertRepository;
  readonly keyGroups: KeyGroupRepository;
  private readonly ackCache = new Map<string, { at: number; rows: ReturnType<ConsoleRepository['ackTimes']> }>();

  constructor(
    database: Database,
    private readonly config: Config,
  ) {
    this.repo = new ConsoleRepository(database);
    this.alerts = new AlertRepository(database);
    this.keyGroups = new KeyGroupRepository(database);
  }

  async listAlerts(scope: Scope, q: AlertQuery, page: number, pageSize: number) {
    const { items, total } = await this.repo.listAlerts(scope, q, { offset: (page - 1) * pageSize, limit: pageSize });
    return { items: items.map(alertItem), total, page, pageSize };
  }

  async alertDetail(scope: Scope, id: number) {
    const found = await this.repo.alert(scope, id);
    if (found === undefined) return undefined;
    const { alert, history, emails } = found;
    const to = periodOf(alert.last_period);
    const from = addMonths(to, -(SERIES_MONTHS - 1));
    const employer = alert.subject_type === 'employer' ? await this.employer(scope, alert.subject, from, to, knownEmployer(alert)) : undefined;
    const city = alert.subject_type === 'city' ? await this.city(scope, alert.city_code, from, to) : undefined;
    const explanation = alert.subject_type === 'employer' ? await this.repo.employerExplanation(scope, alert.subject, to) : undefined;
    return {
      alert: {
        ...alertItem(alert),
        comment: alert.comment,
        evidence: alert.evidence,
        escalatedAt: alert.escalated_at,
        firstNotifiedAt: alert.first_notified_at,
        lastRemindedAt: alert.last_reminded_at,
      },
      history: history.map((h) => ({
        at: h.at,
        action: h.action,
        fromStatus: h.from_status,
        toStatus: h.to_status,
        fromLevel: h.from_level,
        toLevel: h.to_level,
        period: month(h.period),
        runId: h.run_id,
        actor: h.actor,
        disposition: h.disposition,
        comment: h.comment,
      })),
      emails: emails.map((e) => ({
        id: e.notification_id,
        kind: e.kind,
        status: e.status,
        recipient: maskedEmail(e.recipient),
        createdAt: e.created_at,
        sentAt: e.sent_at,
        attempts: e.attempts,
      })),
      employer: employer ?? null,
      /** Why the employer has its level in the alert's latest month: reasons, each rule with its threshold and source, the model's drivers. */
      explanation: explanation === undefined ? null : readEmployerExplanation(explanation),
      city: city ?? null,
    };
  }

  /** An employer's months, or undefined outside the scope. */
  async employer(scope: Scope, uscc: string, from?: string, to?: string, known?: EmployerWho) {
    const latest = known ?? (await this.repo.employerCity(uscc));
    if (latest === undefined || !inScope(scope, latest.city_code)) return undefined;
    const end = to ?? periodOf(latest.period);
    const start = from ?? addMonths(end, -(SERIES_MONTHS - 1));
    const data = await this.repo.employerMonths(scope, uscc, start, end, latest);
    if (data === undefined) return undefined;
    const byMonth = new Map<string, Record<string, unknown>>();
    const at = (p: string) => {
      const key = periodOf(p);
      let m = byMonth.get(key);
      if (m === undefined) {
        m = { period: key };
        byMonth.set(key, m);
      }
      return m;
    };
    for (const r of data.insurance) {
      Object.assign(at(r.period), {
        insured: r.insured, hired: r.hired, separated: r.separated, arrearsMonths: r.arrears_months, wageBaseTotal: Number(r.wage_base_total),
        uiClaims: r.ui_claims, separatedTransfer: r.separated_transfer, separatedNatural: r.separated_natural,
        separatedMigrant: r.separated_migrant, separatedGraduate: r.separated_graduate,
      });
    }
    for (const r of data.headcount) {
      Object.assign(at(r.period), { jobsBegin: r.jobs_begin, jobsEnd: r.jobs_end, jobsLost: r.jobs_lost, lossReason: r.loss_reason, plannedLayoffs: r.planned_layoffs, furloughed: r.furloughed });
    }
    for (const r of data.risk) {
      Object.assign(at(r.period), {
        level: r.level, ruleLevel: r.rule_level, probability: r.probability, jobsAtStake: r.jobs_at_stake, excessSeparations: r.excess_separations,
        workforce: r.workforce, rules: r.rules, kinds: r.kinds,
      });
    }
    const months = [...byMonth.values()].sort((a, b) => String(a.period).localeCompare(String(b.period)));
    return {
      uscc,
      name: latest.name,
      cityCode: latest.city_code,
      cityName: cityName(latest.city_code),
      regionCode: latest.region_code,
      industryCode: latest.industry_code,
      from: start,
      to: end,
      months,
      filings: data.filings.map((f) => ({ id: f.filing_id, filedOn: f.filed_on, effectiveOn: f.effective_on, plannedCount: f.planned_count, staffTotal: f.staff_total, reason: f.reason })),
    };
  }

  /** A city's risk and key groups by month, or undefined outside the scope. */
  async city(scope: Scope, code: string, from?: string, to?: string) {
    if (!CITIES.some((c) => c.code === code) || !inScope(scope, code)) return undefined;
    const end = to ?? (await this.repo.latestCityPeriod());
    if (end === undefined) return { cityCode: code, cityName: cityName(code), months: [], keyGroups: [] };
    const start = from ?? addMonths(end, -(SERIES_MONTHS - 1));
    if (start > end) return { cityCode: code, cityName: cityName(code), from: start, to: end, months: [], keyGroups: [] };
    const [months, groups] = await Promise.all([this.repo.cityMonths(scope, start, end, code), this.keyGroups.cityMonths([code], start, end)]);
    return {
      cityCode: code,
      cityName: cityName(code),
      from: start,
      to: end,
      months: months.map((m) => ({
        period: periodOf(m.period), level: m.level, dataMissing: m.data_missing, missingFeeds: m.missing_feeds, employers: m.employers,
        expectedJobLosses: m.expected_job_losses, observedLayoffs: m.observed_layoffs, observedJobLosses: m.observed_job_losses,
        uiNewClaims: m.ui_new_claims, uiClaimsRatio: m.ui_claims_ratio, registeredUnemployed: m.registered_unemployed,
        surveyedUnemploymentRate: m.surveyed_unemployment_rate,
      })),
      keyGroups: groups,
    };
  }

  /** The 21 cities (those in scope) with their systemic level, open alerts by level, acknowledgement times and data freshness. */
  async overview(scope: Scope, now = new Date()) {
    const latest = await this.repo.latestCityPeriod();
    const since = new Date(now.getTime() - 90 * 86_400_000);
    const [risk, counts, ack, freshness, groups] = await Promise.all([
      latest === undefined ? Promise.resolve([]) : this.repo.cityMonths(scope, latest, latest),
      this.repo.activeAlertCounts(scope),
      this.ackTimes(scope, now),
      this.repo.feedFreshness(),
      latest === undefined ? Promise.resolve([]) : this.keyGroups.cityMonths(scope.all ? 'all' : [...scope.cities], addMonths(latest, -11), latest),
    ]);
    const cities = CITIES.filter((c) => inScope(scope, c.code)).map((c) => {
      const r = risk.find((x) => x.city_code === c.code);
      const open = { 1: 0, 2: 0, 3: 0, 4: 0 } as Record<1 | 2 | 3 | 4, number>;
      let acknowledged = 0;
      for (const n of counts.filter((x) => x.city_code === c.code)) {
        open[n.level as 1 | 2 | 3 | 4] += n.n;
        if (n.status === 'acknowledged') acknowledged += n.n;
      }
      const a = ack.find((x) => x.city_code === c.code);
      const regional = freshness.regional.find((x) => x.city_code === c.code);
      const g = groups.filter((x) => x.cityCode === c.code);
      return {
        cityCode: c.code,
        cityName: c.name,
        period: latest ?? null,
        level: r?.level ?? null,
        dataMissing: r?.data_missing ?? null,
        missingFeeds: r?.missing_feeds ?? [],
        openAlerts: open,
        acknowledged,
        ack: {
          since: since.toISOString(),
          opened: a?.opened ?? 0,
          acknowledged: a?.acked ?? 0,
          inTime: a?.in_time ?? 0,
          overdue: a?.overdue ?? 0,
          medianHours: a?.median_hours ?? null,
        },
        regionalLatest: regional?.latest_period === undefined ? null : periodOf(regional.latest_period),
        keyGroups: g,
      };
    });
    return {
      period: latest ?? null,
      ackHours: { urgent: this.config.alerts.ackHoursUrgent, level3: this.config.alerts.ackHoursLevel3 },
      cities,
      feeds: freshness.feeds.map((f) => ({ feed: f.feed, latestPeriod: f.latest_period === null ? null : periodOf(f.latest_period), loadedAt: f.loaded_at, batches: f.batches, rejected: f.rejected })),
    };
  }

  /**
   * Acknowledgement times over the last 90 days: an aggregate over the
   * alerts' history that moves by the hour, so each scope's figures are
   * kept for ACK_TIMES_TTL_MS in this process rather than recomputed for
   * every page view.
   */
  private ackTimes(scope: Scope, now: Date) {
    const key = scope.all ? '*' : scope.cities.join(',');
    const hit = this.ackCache.get(key);
    if (hit !== undefined && now.getTime() - hit.at < ACK_TIMES_TTL_MS) return hit.rows;
    const since = new Date(now.getTime() - 90 * 86_400_000);
    const rows = this.repo.ackTimes(scope, since, this.config.alerts.ackHoursUrgent, this.config.alerts.ackHoursLevel3);
    rows.catch(() => this.ackCache.delete(key));
    if (this.ackCache.size > 100) this.ackCache.clear();
    this.ackCache.set(key, { at: now.getTime(), rows });
    return rows;
  }

  async runs(limit: number) {
    const [runs, batches, freshness] = await Promise.all([this.repo.runs(limit), this.repo.batches(50), this.repo.feedFreshness()]);
    return {
      runs: runs.map((r) => ({
        runId: r.run_id, period: periodOf(r.period), status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, employers: r.employers, shards: r.shards,
        modelVersion: r.model_version, modelNote: r.model_note,
        night: r.night_key === null ? null : { key: r.night_key, stage: r.stage, reason: r.reason, startedAt: r.night_started_at, finishedAt: r.night_finished_at, redrives: r.redrives, missingBatches: r.missing_batches, incidents: r.incidents },
        alerts: r.alerts,
      })),
      batches: batches.map((b) => ({
        id: b.batch_id, source: b.source, file: b.file, feed: b.feed, period: periodOf(b.period), status: b.status, rowsRead: b.rows_read, rowsLoaded: b.rows_loaded,
        rowsQuarantined: b.rows_quarantined, reason: b.reason, lastError: b.last_error, startedAt: b.started_at, finishedAt: b.finished_at,
      })),
      feeds: freshness.feeds.map((f) => ({ feed: f.feed, latestPeriod: f.latest_period === null ? null : periodOf(f.latest_period), loadedAt: f.loaded_at, batches: f.batches, rejected: f.rejected })),
    };
  }

  /** Acknowledge as the caller; the alert must be in their scope (else AlertNotFoundError); audited in the same transaction. */
  acknowledge(who: Principal, scope: Scope, id: number, comment: string | null, ip: string | null, via: ActionAudit['via'] = who.via) {
    return this.alerts.acknowledge(id, maskedEmail(who.email), comment, scope, auditOf(who, ip, via));
  }

  resolve(who: Principal, scope: Scope, id: number, disposition: string, comment: string | null, ip: string | null, via: ActionAudit['via'] = who.via) {
    return this.alerts.resolve(id, maskedEmail(who.email), disposition, comment, scope, auditOf(who, ip, via));
  }
}

/** The employer an alert is about, as its evidence names it (undefined: look it up). */
function knownEmployer(alert: { city_code: string; name: string; last_period: string; evidence: unknown }): EmployerWho | undefined {
  const ev = alert.evidence as { regionCode?: unknown; industryCode?: unknown } | null;
  if (typeof ev?.regionCode !== 'string' || typeof ev.industryCode !== 'string') return undefined;
  return { city_code: alert.city_code, name: alert.name, region_code: ev.regionCode, industry_code: ev.industryCode, period: alert.last_period };
}

function auditOf(who: Principal, ip: string | null, via: ActionAudit['via']): ActionAudit {
  return { actor: maskedEmail(who.email), accountId: who.accountId, ip, via };
}
