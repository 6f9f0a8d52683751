import { createHash } from 'node:crypto';
import { CITIES, CITY_BY_CODE } from '../../config/cities.js';
import type { NotifyConfig, Recipient } from '../../config/notify.schema.js';
import type { CityAlertView, CitySummaryRow, EmployerAlertView, NightIssues, NotificationKind, NotificationPayload } from '../notify/notification.types.js';

/**
 * Who hears what from one run: pure. Alertmanager's grouping (one e-mail per
 * recipient per city per run, never one per alert), inhibition (an
 * employer's layoff-risk alert is not repeated beside its unreported-layoff
 * alert), and routing by level and mode:
 *
 * - immediate: Ⅰ/Ⅱ alerts opened, escalated or reopened, to the city's
 *   immediate recipients who take that level, and to the province office;
 * - digest: per city, everything else that changed (Ⅲ/Ⅳ, resolutions,
 *   data cross-checks, missing feeds), and Ⅰ/Ⅱ for digest-mode recipients;
 * - reminder: Ⅰ/Ⅱ still unacknowledged after the reminder interval;
 * - escalation: Ⅰ/Ⅱ unacknowledged past the configured days, to the province;
 * - summary: the province office's view of all 21 cities, once a day per
 *   month scored (the first run of the day for that month).
 *
 * E-mails about this run's changes are keyed by the run (a retried run
 * cannot queue them twice); the summary, and a digest that carries nothing
 * but the missing-feeds note, are keyed by the month and the day instead, so
 * scoring a month again the same day queues neither a second time.
 */

export interface RunNews {
  runId: number;
  period: string;
  /** The calendar day of the run ('YYYY-MM-DD'): the once-a-day e-mails are keyed by it. */
  day: string;
  /** Alerts that changed in a way officials are told about. */
  employers: EmployerAlertView[];
  cities: CityAlertView[];
  /** City code of each city alert in `cities` (same order). */
  cityCodes: string[];
  /** City code of each employer alert in `employers` (same order). */
  employerCities: string[];
  reminders: { cityCode: string; alerts: EmployerAlertView[] }[];
  escalations: { cityCode: string; alerts: EmployerAlertView[] }[];
  dataMissing: { cityCode: string; cityName: string; feeds: string[] }[];
  summary: CitySummaryRow[];
  failedDeliveries: number;
  nightIssues: NightIssues | null;
}

export interface OutboxEntry {
  dedupeKey: string;
  messageId: string;
  kind: NotificationKind;
  cityCode: string | null;
  recipient: string;
  alertIds: number[];
  payload: NotificationPayload;
}

const IMMEDIATE_CHANGES = new Set(['new', 'escalated', 'reopened']);

export function routeRun(news: RunNews, cfg: NotifyConfig): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  const byCity = new Map<string, { employers: EmployerAlertView[]; city: CityAlertView | null }>();
  const slot = (code: string) => {
    let s = byCity.get(code);
    if (!s) byCity.set(code, (s = { employers: [], city: null }));
    return s;
  };
  news.employers.forEach((e, i) => slot(news.employerCities[i] as string).employers.push(e));
  news.cities.forEach((c, i) => (slot(news.cityCodes[i] as string).city = c));

  const add = (kind: NotificationKind, cityCode: string | null, who: Recipient, employers: EmployerAlertView[], city: CityAlertView | null, extra: Partial<NotificationPayload> = {}): void => {
    const daily = kind === 'summary' || (kind === 'digest' && employers.length === 0 && city === null);
    const key = `${kind}:${daily ? `${news.period}:${news.day}` : news.runId}:${cityCode ?? 'province'}:${who.email.toLowerCase()}`;
    const payload: NotificationPayload = {
      kind,
      period: news.period,
      runId: news.runId,
      cityCode,
      cityName: cityCode === null ? '四川省' : (CITY_BY_CODE.get(cityCode)?.name ?? cityCode),
      recipient: { email: who.email, name: who.name ?? null },
      employers,
      city,
      dataMissing: [],
      consoleUrl: cfg.consoleUrl.replace(/\/+$/, ''),
      summary: null,
      failedDeliveries: 0,
      ...extra,
    };
    out.push({
      dedupeKey: key,
      messageId: messageIdFor(key),
      kind,
      cityCode,
      recipient: who.email,
      alertIds: [...employers.map((e) => e.alertId), ...(city ? [city.alertId] : [])],
      payload,
    });
  };
  const takes = (who: Recipient, level: number): boolean => who.levels.includes(level);

  for (const { code } of CITIES) {
    const s = byCity.get(code) ?? { employers: [], city: null };
    const recipients = cfg.cities[code] ?? [];
    const inhibited = inhibit(s.employers);
    const urgent = inhibited.filter((e) => e.level <= 2 && IMMEDIATE_CHANGES.has(e.change));
    const urgentCity = s.city && s.city.level <= 2 && IMMEDIATE_CHANGES.has(s.city.change) ? s.city : null;
    const missing = news.dataMissing.filter((m) => m.cityCode === code);

    // Immediate: the city's immediate recipients, then the province office.
    for (const who of recipients.filter((r) => r.mode === 'immediate')) {
      const mine = urgent.filter((e) => takes(who, e.level));
      const cityPart = urgentCity && takes(who, urgentCity.level) ? urgentCity : null;
      if (mine.length > 0 || cityPart) add('immediate', code, who, mine, cityPart);
    }
    for (const who of cfg.province) {
      const mine = urgent.filter((e) => takes(who, e.level));
      const cityPart = urgentCity && takes(who, urgentCity.level) ? urgentCity : null;
      if (mine.length > 0 || cityPart) add('immediate', code, who, mine, cityPart);
    }

    // Digest: what the immediate e-mails did not carry, for each recipient.
    for (const who of recipients) {
      const digestOnly = who.mode === 'digest';
      const mine = inhibited.filter((e) => takes(who, e.level) && (digestOnly || !(e.level <= 2 && IMMEDIATE_CHANGES.has(e.change))));
      const cityPart = s.city && takes(who, s.city.level) && (digestOnly || s.city !== urgentCity) ? s.city : null;
      if (mine.length > 0 || cityPart || missing.length > 0) add('digest', code, who, mine, cityPart, { dataMissing: missing });
    }

    const reminders = inhibit(news.reminders.find((r) => r.cityCode === code)?.alerts ?? []);
    if (reminders.length > 0) {
      for (const who of recipients) {
        const mine = reminders.filter((e) => takes(who, e.level));
        if (mine.length > 0) add('reminder', code, who, mine, null);
      }
    }
    const escalations = inhibit(news.escalations.find((r) => r.cityCode === code)?.alerts ?? []);
    if (escalations.length > 0) for (const who of cfg.province) add('escalation', code, who, escalations, null);
  }

  for (const who of cfg.province) {
    add('summary', null, who, [], null, { summary: news.summary, dataMissing: news.dataMissing, failedDeliveries: news.failedDeliveries, nightIssues: news.nightIssues });
  }
  return out;
}

/** Inhibition: an employer's unreported-layoff alert carries its layoff-risk alert; a data cross-check never rides along Ⅰ/Ⅱ. */
export function inhibit(list: readonly EmployerAlertView[]): EmployerAlertView[] {
  const unreported = new Set(list.filter((e) => e.kind === 'unreported' && e.change !== 'resolved').map((e) => e.uscc));
  return list.filter((e) => !(e.kind === 'layoff' && e.change !== 'resolved' && unreported.has(e.uscc)));
}

/** Deterministic: a resend of the same notification carries the same Message-ID, so receivers can drop a duplicate. */
export function messageIdFor(dedupeKey: string): string {
  return `<ews.${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@layoff-ews.hrss>`;
}
