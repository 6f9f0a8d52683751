import type { ColumnType, Generated } from 'kysely';
import type { Role } from '../services/domain/access.js';
import type { AlertAction, AlertKind, AlertStatus, AlertSubjectType } from '../services/domain/alert.js';

/**
 * Table types for Kysely, declared once beside the migrations. DATE columns
 * arrive as 'YYYY-MM-DD' strings and int8 as numbers (services/db/database.ts
 * sets the parsers); numeric arrives as a string.
 */

export type FeedName = 'social_insurance' | 'headcount' | 'regional' | 'layoff_filings';
export type BatchStatus = 'pending' | 'loading' | 'loaded' | 'rejected';
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface BatchTable {
  batch_id: Generated<number>;
  source: string;
  source_url: string;
  file: string;
  feed: FeedName;
  period: string;
  sha256: string;
  declared_rows: number;
  encoding: 'utf-8' | 'gbk';
  order_key: number;
  status: ColumnType<BatchStatus, BatchStatus | undefined, BatchStatus>;
  reason: string | null;
  last_error: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  rows_read: number | null;
  rows_loaded: number | null;
  rows_quarantined: number | null;
  rows_replaced: number | null;
  first_seen_at: ColumnType<Date, never, never>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface BatchRestatementTable {
  batch_id: number;
  replaced_batch_id: number;
  rows: number;
}

export interface QuarantineTable {
  batch_id: number;
  line_no: number;
  column_name: string | null;
  reason: string;
  raw: string;
}

export interface SocialInsuranceTable {
  bucket: number;
  uscc: string;
  period: string;
  name: string;
  region_code: string;
  city_code: string;
  industry_code: string;
  insured: number;
  hired: number;
  separated: number;
  arrears_months: number;
  wage_base_total: string;
  ui_claims: number | null;
  separated_transfer: number | null;
  separated_natural: number | null;
  separated_migrant: number | null;
  separated_graduate: number | null;
  batch_id: number;
}

export interface HeadcountTable {
  bucket: number;
  uscc: string;
  period: string;
  jobs_begin: number;
  jobs_end: number;
  jobs_lost: number;
  loss_reason: string | null;
  planned_layoffs: number;
  furloughed: number | null;
  dispatched: number | null;
  batch_id: number;
}

export interface RegionalTable {
  city_code: string;
  period: string;
  registered_unemployed: number;
  ui_new_claims: number;
  urban_new_jobs: number;
  surveyed_unemployment_rate: string | null;
  batch_id: number;
}

export interface LayoffFilingTable {
  filing_id: string;
  period: string;
  bucket: number;
  uscc: string;
  filed_on: string;
  effective_on: string;
  planned_count: number;
  staff_total: number;
  reason: string;
  batch_id: number;
}

export interface ScoreRunTable {
  run_id: Generated<number>;
  period: string;
  started_at: ColumnType<Date, never, never>;
  finished_at: Timestamp | null;
  status: ColumnType<'running' | 'done' | 'failed', 'running' | 'done' | 'failed' | undefined, 'running' | 'done' | 'failed'>;
  model_version: string | null;
  model_note: string | null;
  employers: number | null;
  shards: number | null;
  night_key: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface EmployerRiskTable {
  period: string;
  bucket: number;
  uscc: string;
  name: string;
  city_code: string;
  region_code: string;
  industry_code: string;
  workforce: number;
  level: number | null;
  probability: number | null;
  jobs_at_stake: number;
  excess_separations: number;
  rules: string[];
  kinds: string[];
  explanation: unknown;
  run_id: number;
  rule_level: ColumnType<number | null, number | null | undefined, number | null>;
  /** Key groups (sql/009_key_groups.sql); NULL in rows scored before it. */
  separated: ColumnType<number | null, number | null | undefined, number | null>;
  separated_migrant: ColumnType<number | null, number | null | undefined, number | null>;
  separated_graduate: ColumnType<number | null, number | null | undefined, number | null>;
  jobs_at_stake_migrant: ColumnType<number | null, number | null | undefined, number | null>;
  jobs_at_stake_graduate: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CityRiskTable {
  period: string;
  city_code: string;
  industry_section: string;
  level: number | null;
  data_missing: boolean;
  missing_feeds: string[];
  employers: number;
  expected_job_losses: number;
  observed_layoffs: number;
  observed_job_losses: number;
  ui_new_claims: number | null;
  ui_claims_ratio: number | null;
  registered_unemployed: number | null;
  surveyed_unemployment_rate: number | null;
  explanation: unknown;
  run_id: number;
  /** Key groups (sql/009_key_groups.sql); NULL in rows scored before it. */
  separated: ColumnType<number | null, number | null | undefined, number | null>;
  separated_migrant: ColumnType<number | null, number | null | undefined, number | null>;
  separated_graduate: ColumnType<number | null, number | null | undefined, number | null>;
  migrant_reporters: ColumnType<number | null, number | null | undefined, number | null>;
  graduate_reporters: ColumnType<number | null, number | null | undefined, number | null>;
  jobs_at_stake: ColumnType<number | null, number | null | undefined, number | null>;
  jobs_at_stake_migrant: ColumnType<number | null, number | null | undefined, number | null>;
  jobs_at_stake_graduate: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface SchemaMigrationTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: ColumnType<Date, never, never>;
}

export type NotificationStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface AlertTable {
  alert_id: Generated<number>;
  subject_type: AlertSubjectType;
  subject: string;
  kind: AlertKind;
  city_code: string;
  name: string;
  status: AlertStatus;
  level: number;
  peak_level: number;
  model_only: ColumnType<boolean, boolean | undefined, boolean>;
  recent_signals: ColumnType<number, number | undefined, number>;
  first_period: string;
  last_period: string;
  last_run_id: number;
  opened_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  disposition: string | null;
  comment: string | null;
  reopen_count: ColumnType<number, number | undefined, number>;
  first_notified_at: Timestamp | null;
  last_reminded_at: Timestamp | null;
  escalated_at: Timestamp | null;
  evidence: unknown;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AlertEventTable {
  event_id: Generated<number>;
  alert_id: number;
  at: ColumnType<Date, Date | string | undefined, never>;
  run_id: number | null;
  period: string | null;
  action: AlertAction;
  from_status: string | null;
  to_status: string | null;
  from_level: number | null;
  to_level: number | null;
  actor: string;
  disposition: string | null;
  comment: string | null;
  evidence: unknown;
}

export interface AlertRunTable {
  run_id: number;
  period: string;
  processed_at: ColumnType<Date, Date | string | undefined, never>;
  summary: unknown;
}

export interface NotificationTable {
  notification_id: Generated<number>;
  dedupe_key: string;
  kind: 'immediate' | 'digest' | 'reminder' | 'escalation' | 'summary';
  run_id: number;
  city_code: string | null;
  recipient: string;
  message_id: string;
  payload: unknown;
  alert_ids: number[];
  status: ColumnType<NotificationStatus, NotificationStatus | undefined, NotificationStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  smtp_response: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  sending_at: Timestamp | null;
  sent_at: Timestamp | null;
  raised_at: Timestamp;
}

/** Scoring's packed history (sql/005_series_pack.sql): written with COPY, read with COPY; typed for the queries that prune it. */
export interface SeriesPackTable {
  period: string;
  bucket: number;
  uscc: string;
  name: string;
  city_code: string;
  region_code: string;
  industry_code: string;
  named_month: number;
  series: Buffer;
}

export interface SeriesPackStateTable {
  period: string;
  bucket: number;
  months: number;
  fingerprint: Record<string, string>;
  run_id: number;
  written_at: ColumnType<Date, never, never>;
  /** The pack's layout (series.pack.ts PACK_FORMAT; sql/009_key_groups.sql). */
  format: ColumnType<number, number | undefined, number>;
}

/** The console's accounts, sessions, API tokens and audit log (sql/008_console.sql). */
export interface AccountTable {
  account_id: Generated<number>;
  email: string;
  role: Role;
  city_code: string | null;
  password_hash: string | null;
  disabled_at: Timestamp | null;
  failed_logins: ColumnType<number, number | undefined, number>;
  locked_until: Timestamp | null;
  password_set_at: Timestamp | null;
  last_login_at: Timestamp | null;
  created_at: ColumnType<Date, never, never>;
}

export interface SessionTable {
  token_hash: Buffer;
  account_id: number;
  csrf_token: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  ip: string | null;
}

export interface ApiTokenTable {
  token_id: Generated<number>;
  token_hash: Buffer;
  account_id: number;
  label: string | null;
  created_at: ColumnType<Date, never, never>;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  audit_id: Generated<number>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor: string;
  account_id: number | null;
  action: string;
  target: string | null;
  city_code: string | null;
  ip: string | null;
  detail: unknown;
}

export interface Tables {
  batch: BatchTable;
  batch_restatement: BatchRestatementTable;
  quarantine: QuarantineTable;
  social_insurance: SocialInsuranceTable;
  headcount: HeadcountTable;
  regional: RegionalTable;
  layoff_filing: LayoffFilingTable;
  schema_migration: SchemaMigrationTable;
  score_run: ScoreRunTable;
  employer_risk: EmployerRiskTable;
  city_risk: CityRiskTable;
  series_pack: SeriesPackTable;
  series_pack_state: SeriesPackStateTable;
  alert: AlertTable;
  alert_event: AlertEventTable;
  alert_run: AlertRunTable;
  notification: NotificationTable;
  account: AccountTable;
  session: SessionTable;
  api_token: ApiTokenTable;
  audit_log: AuditLogTable;
}
