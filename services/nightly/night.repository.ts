import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { periodDate } from '../domain/period.js';
import type { ManifestEntry } from '../feeds/manifest.js';
import type { Shard } from '../scoring/shard.types.js';

/**
 * Every query of the `night` table: the nights the queue's flow ran, where
 * each got to and when it last made progress, so that the scheduler's
 * watch (night.watch.ts) can find a night whose jobs were lost or that
 * stopped, and the province summary can say what went wrong.
 */

export type NightStage = 'ingest' | 'score' | 'alerts' | 'done';

export interface PlannedBatch {
  source: string;
  entry: ManifestEntry;
}

export interface MissingBatch {
  source: string;
  file: string;
  feed: string;
  period: string;
  /** The batch's state in the database: never seen, pending, loading or rejected, with its last error. */
  status: string;
  reason: string | null;
}

export interface NightIncident {
  at: string;
  stage: NightStage;
  what: string;
}

export interface NightRow {
  key: string;
  date: string;
  reason: 'schedule' | 'manual' | 'catch-up';
  period: string | null;
  cities: string[] | null;
  batches: PlannedBatch[];
  stage: NightStage;
  runId: number | null;
  shards: Shard[] | null;
  missingBatches: MissingBatch[];
  startedAt: Date;
  progressAt: Date;
  finishedAt: Date | null;
  redrives: number;
  incidents: NightIncident[];
}

/** A night that has not finished, with what the database knows of its scoring run and alerts. */
export interface UnfinishedNight extends NightRow {
  /** Seconds since its last progress, by the database's clock. */
  idleS: number;
  runStatus: 'running' | 'done' | 'failed' | null;
  /** The scoring run's month, 'YYYY-MM'. */
  runPeriod: string | null;
  /** The alert stage has processed its run. */
  alertsDone: boolean;
}

interface RawNight {
  night_key: string;
  night_date: string;
  reason: NightRow['reason'];
  period: string | null;
  cities: string[] | null;
  batches: PlannedBatch[];
  stage: NightStage;
  run_id: number | null;
  shards: Shard[] | null;
  missing_batches: MissingBatch[];
  started_at: Date;
  progress_at: Date;
  finished_at: Date | null;
  redrives: number;
  incidents: NightIncident[];
}

/** The columns of a night row as RawNight reads them, from the table under alias `n`. */
const COLUMNS = sql`n.night_key, to_char(n.night_date, 'YYYY-MM-DD') AS night_date, n.reason, to_char(n.period, 'YYYY-MM') AS period,
  n.cities::text[] AS cities, n.batches, n.stage, n.run_id, n.shards, n.missing_batches, n.started_at, n.progress_at, n.finished_at, n.redrives, n.incidents`;

function toNight(r: RawNight): NightRow {
  return {
    key: r.night_key,
    date: r.night_date,
    reason: r.reason,
    period: r.period,
    cities: r.cities,
    batches: r.batches,
    stage: r.stage,
    runId: r.run_id === null ? null : Number(r.run_id),
    shards: r.shards,
    missingBatches: r.missing_batches,
    startedAt: r.started_at,
    progressAt: r.progress_at,
    finishedAt: r.finished_at,
    redrives: r.redrives,
    incidents: r.incidents,
  };
}

export class NightRepository {
  constructor(private readonly database: Database) {}

  /** The night as started (a night started again keeps its first record, batches included). */
  async begin(n: { key: string; date: string; reason: NightRow['reason']; period?: string; cities?: readonly string[]; batches: readonly PlannedBatch[] }): Promise<{ night: NightRow; created: boolean }> {
    const inserted = await sql<{ night_key: string }>`
      INSERT INTO night (night_key, night_date, reason, period, cities, batches)
      VALUES (${n.key}, ${n.date}::date, ${n.reason}, ${n.period !== undefined ? periodDate(n.period) : null}::date,
              ${n.cities !== undefined ? [...n.cities] : null}::char(6)[], ${JSON.stringify(n.batches)}::jsonb)
      ON CONFLICT (night_key) DO NOTHING
      RETURNING night_key`.execute(this.database.db);
    const night = await this.get(n.key);
    if (night === undefined) throw new Error(`night ${n.key} vanished right after it was recorded`);
    return { night, created: inserted.rows.length > 0 };
  }

  async get(key: string): Promise<NightRow | undefined> {
    const rows = await sql<RawNight>`SELECT ${COLUMNS} FROM night n WHERE n.night_key = ${key}`.execute(this.database.db);
    const r = rows.rows[0];
    return r === undefined ? undefined : toNight(r);
  }

  /** Batches added since the night began (a re-drive found more to load): kept with the night. */
  async addBatches(key: string, batches: readonly PlannedBatch[]): Promise<void> {
    if (batches.length === 0) return;
    await sql`
      UPDATE night SET batches = batches || (
        SELECT coalesce(jsonb_agg(b), '[]'::jsonb) FROM jsonb_array_elements(${JSON.stringify(batches)}::jsonb) b
         WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(night.batches) o WHERE o->'entry'->>'sha256' = b->'entry'->>'sha256'))
       WHERE night_key = ${key}`.execute(this.database.db);
  }

  /**
   * The night's scoring run is open: stage `score`, its shards kept, and
   * the batches it set out to load that are not loaded now recorded as
   * missing (their ingest jobs ran out of attempts, or were lost).
   */
  async scoring(key: string, runId: number, shards: readonly Shard[]): Promise<MissingBatch[]> {
    const rows = await sql<{ missing_batches: MissingBatch[] }>`
      UPDATE night n SET
        stage = CASE WHEN n.stage = 'ingest' THEN 'score' ELSE n.stage END,
        run_id = ${runId}, shards = ${JSON.stringify(shards)}::jsonb, progress_at = now(),
        missing_batches = (
          SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'source', p->>'source', 'file', p->'entry'->>'file', 'feed', p->'entry'->>'feed', 'period', p->'entry'->>'period',
                   'status', coalesce(b.status, 'not seen'), 'reason', coalesce(b.reason, b.last_error))), '[]'::jsonb)
            FROM jsonb_array_elements(n.batches) p
            LEFT JOIN batch b ON b.feed = p->'entry'->>'feed' AND b.period = ((p->'entry'->>'period') || '-01')::date AND b.sha256 = p->'entry'->>'sha256'
           WHERE b.status IS DISTINCT FROM 'loaded')
       WHERE night_key = ${key}
       RETURNING missing_batches`.execute(this.database.db);
    return rows.rows[0]?.missing_batches ?? [];
  }

  /** A job of the night's scoring run finished. */
  async progressOfRun(runId: number): Promise<void> {
    await sql`UPDATE night SET progress_at = now() WHERE run_id = ${runId} AND stage <> 'done'`.execute(this.database.db);
  }

  /** The run is scored: its alerts are next. */
  async scored(runId: number): Promise<void> {
    await sql`UPDATE night SET stage = 'alerts', progress_at = now() WHERE run_id = ${runId} AND stage IN ('ingest', 'score')`.execute(this.database.db);
  }

  /** The run's alerts are raised and their e-mails in the outbox: the night is done. */
  async finished(runId: number): Promise<void> {
    await sql`UPDATE night SET stage = 'done', progress_at = now(), finished_at = now() WHERE run_id = ${runId} AND stage <> 'done'`.execute(this.database.db);
  }

  /** A night with nothing to score (no month loaded, no city to catch up) is done as it stands. */
  async finishedWithoutRun(key: string): Promise<void> {
    await sql`UPDATE night SET stage = 'done', progress_at = now(), finished_at = now() WHERE night_key = ${key} AND stage <> 'done'`.execute(this.database.db);
  }

  /** Nights not done whose last progress is older than `idleMs`, oldest first. */
  async idle(idleMs: number, limit = 50): Promise<UnfinishedNight[]> {
    // Progress as the night_progress view has it: a job of the night, or one of its batches being loaded.
    const rows = await sql<RawNight & { idle_s: number; run_status: UnfinishedNight['runStatus']; run_period: string | null; alerts_done: boolean }>`
      SELECT ${COLUMNS}, extract(epoch FROM now() - n.last_progress)::float8 AS idle_s, r.status AS run_status,
             to_char(r.period, 'YYYY-MM') AS run_period,
             EXISTS (SELECT 1 FROM alert_run a WHERE a.run_id = n.run_id) AS alerts_done
        FROM (SELECT night.*, p.last_progress FROM night JOIN night_progress p USING (night_key) WHERE night.stage <> 'done') n
        LEFT JOIN score_run r ON r.run_id = n.run_id
       WHERE n.last_progress < now() - make_interval(secs => ${idleMs / 1000})
       ORDER BY n.last_progress
       LIMIT ${limit}`.execute(this.database.db);
    return rows.rows.map((r) => ({ ...toNight(r), idleS: Number(r.idle_s), runStatus: r.run_status, runPeriod: r.run_period, alertsDone: r.alerts_done }));
  }

  /**
   * What the watch found and is about to do: counted, kept for the summary,
   * and the night's clock restarted. False when the night moved on since it
   * was read (another scheduler's watch got there first, or a job finished).
   */
  async incident(key: string, stage: NightStage, what: string, redriven: boolean, seenProgressAt: Date): Promise<boolean> {
    const updated = await sql<{ night_key: string }>`
      UPDATE night SET progress_at = now(), redrives = redrives + ${redriven ? 1 : 0},
             incidents = incidents || jsonb_build_array(jsonb_build_object('at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'stage', ${stage}::text, 'what', ${what}::text))
       WHERE night_key = ${key} AND abs(extract(epoch FROM progress_at - ${seenProgressAt}::timestamptz)) < 0.001 AND stage <> 'done'
       RETURNING night_key`.execute(this.database.db);
    return updated.rows.length > 0;
  }

  /** The latest nights, newest first (`ews nights`). */
  async list(limit: number): Promise<NightRow[]> {
    const rows = await sql<RawNight>`SELECT ${COLUMNS} FROM night n ORDER BY n.started_at DESC LIMIT ${limit}`.execute(this.database.db);
    return rows.rows.map(toNight);
  }
}
