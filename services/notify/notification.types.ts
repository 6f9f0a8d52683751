/**
 * What a notification says, frozen when the alert changes that cause it are
 * committed (the transactional outbox keeps this as JSON), so a retry
 * renders exactly the same e-mail. Employer data only: no personal data.
 */

import type { AlertChange, EmployerAlertKind } from '../domain/alert.js';
import type { Level, LevelCounts } from '../domain/level.js';

export type NotificationKind =
  /** Ⅰ/Ⅱ alerts opened, escalated or reopened by a scoring run: sent at once. */
  | 'immediate'
  /** One per city per run: Ⅲ/Ⅳ changes, resolutions, missing feeds (and Ⅰ/Ⅱ for digest-only recipients). */
  | 'digest'
  /** Ⅰ/Ⅱ alerts still unacknowledged a day (or more) after they were sent. */
  | 'reminder'
  /** Ⅰ/Ⅱ alerts unacknowledged past the configured days: to the province office. */
  | 'escalation'
  /** The province office's daily summary of all 21 cities. */
  | 'summary';


export interface MonthlySeries {
  /** 'YYYY-MM', oldest first (up to 24). */
  periods: string[];
  /** Insured staff per month; null where the month is missing. */
  insured: (number | null)[];
  /** Separations per month; null where the month is missing. */
  separated: (number | null)[];
}

/**
 * One key group (重点群体) among an employer's figures: of the month's
 * separations how many belong to it, and an estimate of the jobs at stake
 * among it (the jobs at stake × its share of the employer's separations in
 * the months reported). null: not reported.
 */
export interface KeyGroupView {
  separated: number | null;
  jobsAtStake: number | null;
}

export interface EmployerAlertView {
  alertId: number;
  kind: EmployerAlertKind;
  uscc: string;
  /** As reported; may contain anything (markup, CR/LF, 200+ characters): always escaped. */
  name: string;
  regionCode: string;
  industryCode: string;
  /** Insured staff (workforce) in the period. */
  insured: number;
  excessSeparations: number;
  /** Migrant workers (农民工) and graduates (高校毕业生) among the month's separations and jobs at stake; absent in e-mails queued before they were carried (shown '—'). */
  migrant?: KeyGroupView;
  graduate?: KeyGroupView;
  /** Model probability in [0, 1]; null when scored by rules only. */
  probability: number | null;
  /** Rule ids hit (e.g. law41, unreported). */
  rules: string[];
  /** One Chinese sentence per rule hit, with its numbers. */
  ruleSummaries: string[];
  level: Level;
  previousLevel: Level | null;
  change: AlertChange;
  status: 'open' | 'acknowledged' | 'resolved';
  /** For resolutions: the disposition and who resolved it ('system' when quiet months resolved it). */
  disposition: string | null;
  resolvedBy: string | null;
  /** 'YYYY-MM' the alert was first opened. */
  openedPeriod: string;
  /** Days since first sent, for reminders and escalations. */
  unacknowledgedDays: number | null;
  /** The last 24 months, for Ⅰ/Ⅱ employers (drawn as a chart); null otherwise. */
  series: MonthlySeries | null;
}

export interface CityAlertView {
  alertId: number;
  level: Level;
  previousLevel: Level | null;
  change: AlertChange;
  expectedJobLosses: number;
  observedLayoffs: number;
  /** New UI claims against the same months of earlier years (1.3 = 30% more); null when unknown. */
  uiClaimsRatio: number | null;
  /** Surveyed urban unemployment rate, %; null when not reported. */
  surveyedRate: number | null;
  reasons: string[];
}

export interface CitySummaryRow {
  cityCode: string;
  cityName: string;
  /** Open (or acknowledged) employer alerts by level. */
  levels: LevelCounts;
  unacknowledged: number;
  newToday: number;
  systemicLevel: Level | null;
  dataMissing: boolean;
}

export interface NotificationPayload {
  kind: NotificationKind;
  /** The month scored, 'YYYY-MM'. */
  period: string;
  runId: number;
  /** null for the province-wide summary. */
  cityCode: string | null;
  /** '成都市', or '四川省' for the summary. */
  cityName: string;
  recipient: { email: string; name: string | null };
  employers: EmployerAlertView[];
  city: CityAlertView | null;
  /** Cities whose feeds are missing or late for the period (the e-mail says so). */
  dataMissing: { cityCode: string; cityName: string; feeds: string[] }[];
  /** Base URL of the console; an alert's page is `${consoleUrl}/alerts/${alertId}`. */
  consoleUrl: string;
  /** Province summary rows (kind 'summary' only). */
  summary: CitySummaryRow[] | null;
  /** Failed deliveries ops should know about (summary only). */
  failedDeliveries: number;
  /** What went wrong with the night behind this run (summary only; absent in e-mails queued before it existed). */
  nightIssues?: NightIssues | null;
}

/** The night's batches that could not be loaded and the stalls the scheduler re-drove (the province summary tells ops). */
export interface NightIssues {
  missingBatches: { source: string; file: string; feed: string; period: string; status: string }[];
  /** Times the scheduler's watch found the night stalled and re-drove it. */
  redrives: number;
  /** The stages it stalled at, in order. */
  stalledAt: string[];
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** Inline images referenced from the HTML as cid:<cid>. */
  attachments: { filename: string; cid: string; contentType: 'image/png'; content: Buffer }[];
}
