import pg from 'pg';

/**
 * A night's rows, compared with the clean night's by natural key (as
 * test/night-paths.test.ts compares two paths, but across two databases that
 * ran under different faults): generated ids (batch_id, run_id, alert_id,
 * notification_id, event_id) are replaced by the natural key of the row they
 * point to, clock columns count only as set or not set, and the bookkeeping
 * of how a row got there (a batch's attempts and last error, an e-mail's
 * attempts, last error and relay reply) is left out. What is left must be
 * equal row for row.
 *
 * For each table: lost (a clean row's key missing, or fewer copies),
 * doubled (more copies of a clean row's key), differing (same key, other
 * content; or a key the clean night does not have).
 */

export interface TableDiff {
  table: string;
  rows: number;
  cleanRows: number;
  lost: number;
  doubled: number;
  differing: number;
  /** A few keys with what differs, for the report. */
  examples: string[];
  /** Time the comparison of this table took. */
  ms: number;
}

interface TableSpec {
  table: string;
  /** SQL expressions (over alias t) forming the natural key, in order. */
  key: string[];
  /** Columns left out of the content (besides the key's own and the ids mapped into the key). */
  exclude?: string[];
  /** Fact tables: compared per month as one digest first, row by row only in a month that differs. */
  byPeriod?: boolean;
  /** Rows are a multiset whose whole content is the key (alert_event). */
  multiset?: boolean;
  /** A JS rewrite of one column's text before hashing (ids inside text). */
  rewrite?: Record<string, (text: string, maps: IdMaps) => string>;
}

interface IdMaps {
  batch: Map<string, string>;
  run: Map<string, string>;
  alert: Map<string, string>;
}

/** Columns holding a generated id, and the map that turns it into a natural key. */
const ID_COLUMNS: Record<string, { map: '_b' | '_r' | '_a'; array?: boolean }> = {
  batch_id: { map: '_b' },
  replaced_batch_id: { map: '_b' },
  run_id: { map: '_r' },
  last_run_id: { map: '_r' },
  alert_id: { map: '_a' },
  alert_ids: { map: '_a', array: true },
};

/**
 * Generated ids inside JSON (an e-mail's payload lists each alert's id for its
 * link, and the run's): the row they name instead. Alert ids follow the order
 * the alert stage inserts in, which follows the order shards were written.
 */
function idsInJson(text: string, maps: IdMaps): string {
  const mapped = text
    .replace(/"(alertId|alert_id)": ?(\d+)/g, (_m, name: string, id: string) => `"${name}": "${maps.alert.get(id) ?? `#${id}`}"`)
    .replace(/"(runId|run_id)": ?(\d+)/g, (_m, name: string, id: string) => `"${name}": "${maps.run.get(id) ?? `#${id}`}"`)
    .replace(/"(alertIds|alert_ids)": ?\[([\d, ]*)\]/g, (_m, name: string, ids: string) => `"${name}": [${ids.split(',').map((x) => x.trim()).filter((x) => x !== '').map((id) => JSON.stringify(maps.alert.get(id) ?? `#${id}`)).sort().join(',')}]`);
  return canonicalJson(mapped);
}

/**
 * What the province summary says went wrong in the night (`nightIssues`:
 * redrives, stalls, missing batches) is there to differ from a clean night:
 * it is reported by the harness as a note, not compared.
 */
export const REPORTED_NOT_COMPARED = ['nightIssues'] as const;

/**
 * JSON with `nightIssues` left out, keys in order, and every list of objects
 * (an e-mail's employers, a summary's cities) as a set: the outbox freezes the
 * employers in the order the alert stage met them, which follows alert ids,
 * hence the order shards were written; the renderer sorts them itself.
 */
function canonicalJson(text: string): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(canon);
      return items.every((x) => typeof x === 'object' && x !== null) ? items.map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x) as unknown) : items;
    }
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !(REPORTED_NOT_COMPARED as readonly string[]).includes(k))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, canon(x)]),
    );
  };
  try {
    return JSON.stringify(canon(JSON.parse(text)));
  } catch {
    return text;
  }
}

const TABLES: TableSpec[] = [
  { table: 'batch', key: ['t.feed', "to_char(t.period, 'YYYY-MM')", 't.sha256'], exclude: ['batch_id', 'attempts', 'last_error'] },
  { table: 'batch_restatement', key: ['t.batch_id', 't.replaced_batch_id'] },
  { table: 'quarantine', key: ['t.batch_id', 't.line_no'] },
  { table: 'social_insurance', key: ["to_char(t.period, 'YYYY-MM')", 't.bucket', 't.uscc'], byPeriod: true },
  { table: 'headcount', key: ["to_char(t.period, 'YYYY-MM')", 't.bucket', 't.uscc'], byPeriod: true },
  { table: 'regional', key: ['t.city_code', "to_char(t.period, 'YYYY-MM')"] },
  { table: 'layoff_filing', key: ['t.filing_id'] },
  { table: 'score_run', key: ['t.run_id'] },
  { table: 'employer_risk', key: ["to_char(t.period, 'YYYY-MM')", 't.bucket', 't.uscc'] },
  { table: 'city_risk', key: ["to_char(t.period, 'YYYY-MM')", 't.city_code', 't.industry_section'] },
  { table: 'series_pack', key: ["to_char(t.period, 'YYYY-MM')", 't.bucket', 't.uscc'] },
  {
    table: 'series_pack_state',
    key: ["to_char(t.period, 'YYYY-MM')", 't.bucket'],
    // {"2026-08": "social_insurance:12,13;headcount:14"}: batch ids inside.
    rewrite: { fingerprint: (text, maps) => text.replace(/(:)([\d,]+)/g, (_m, colon: string, ids: string) => colon + ids.split(',').map((id) => maps.batch.get(id) ?? `#${id}`).sort().join(',')) },
  },
  { table: 'alert', key: ['t.subject_type', 't.subject', 't.kind'], exclude: ['alert_id'], rewrite: { evidence: idsInJson } },
  { table: 'alert_run', key: ['t.run_id'], rewrite: { summary: idsInJson } },
  { table: 'alert_event', key: [], exclude: ['event_id'], multiset: true, rewrite: { evidence: idsInJson } },
  { table: 'notification', key: ['t.dedupe_key'], exclude: ['notification_id', 'attempts', 'last_error', 'smtp_response'], rewrite: { payload: idsInJson } },
];

export const COMPARED_TABLES: readonly string[] = TABLES.map((t) => t.table);

interface Column {
  name: string;
  type: string;
}

/** One database's side of the comparison: a client with the id maps loaded as temporary tables. */
/** The clean night's side does not change: its rows are read once per run (by database URL). */
const memo = new Map<string, Map<string, unknown>>();

class Side {
  private columns = new Map<string, Column[]>();
  maps: IdMaps = { batch: new Map(), run: new Map(), alert: new Map() };

  private constructor(
    readonly client: pg.Client,
    private readonly cache: Map<string, unknown> | undefined,
  ) {}

  private async memoised<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (this.cache === undefined) return read();
    if (!this.cache.has(key)) this.cache.set(key, await read());
    return this.cache.get(key) as T;
  }

  static async open(url: string, options: { memoise?: boolean } = {}): Promise<Side> {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    let cache: Map<string, unknown> | undefined;
    if (options.memoise === true) {
      cache = memo.get(url) ?? new Map<string, unknown>();
      memo.set(url, cache);
    }
    const side = new Side(client, cache);
    await client.query(`CREATE TEMP TABLE _b AS SELECT batch_id::text AS id, feed || '/' || to_char(period, 'YYYY-MM') || '/' || left(sha256, 12) AS k FROM batch`);
    await client.query(`CREATE TEMP TABLE _r AS SELECT run_id::text AS id, to_char(period, 'YYYY-MM') || '/' || coalesce(night_key, 'inline') AS k FROM score_run`);
    await client.query(`CREATE TEMP TABLE _a AS SELECT alert_id::text AS id, subject_type || '/' || subject || '/' || kind AS k FROM alert`);
    for (const [name, map] of [['_b', side.maps.batch], ['_r', side.maps.run], ['_a', side.maps.alert]] as const) {
      await client.query(`CREATE UNIQUE INDEX ON ${name} (id)`);
      for (const r of (await client.query<{ id: string; k: string }>(`SELECT id, k FROM ${name}`)).rows) map.set(r.id, r.k);
    }
    const cols = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    );
    for (const c of cols.rows) {
      const list = side.columns.get(c.table_name) ?? [];
      list.push({ name: c.column_name, type: c.data_type });
      side.columns.set(c.table_name, list);
    }
    return side;
  }

  /** The SQL text of one column: ids as natural keys, clocks as set / not set. */
  private expr(col: Column): string {
    const id = ID_COLUMNS[col.name];
    const c = `t."${col.name}"`;
    if (id !== undefined) {
      return id.array
        ? `(SELECT string_agg(coalesce(m.k, '#' || x::text), ',' ORDER BY coalesce(m.k, '#' || x::text)) FROM unnest(${c}) x LEFT JOIN ${id.map} m ON m.id = x::text)`
        : `coalesce((SELECT m.k FROM ${id.map} m WHERE m.id = ${c}::text), '#' || ${c}::text)`;
    }
    if (col.type.startsWith('timestamp')) return `CASE WHEN ${c} IS NULL THEN 'unset' ELSE 'set' END`;
    return `${c}::text`;
  }

  private keyExpr(spec: TableSpec): string {
    const parts = spec.key.map((k) => {
      const m = /^t\.(\w+)$/.exec(k);
      const col = m?.[1];
      return col !== undefined && ID_COLUMNS[col] !== undefined ? this.expr({ name: col, type: '' }) : `(${k})::text`;
    });
    return parts.length === 0 ? `''` : parts.map((p) => `coalesce(${p}, '∅')`).join(` || ' | ' || `);
  }

  contentColumns(spec: TableSpec): Column[] {
    const keyCols = new Set(spec.key.map((k) => /^t\.(\w+)$/.exec(k)?.[1]).filter((x): x is string => x !== undefined));
    const excluded = new Set(spec.exclude ?? []);
    return (this.columns.get(spec.table) ?? []).filter((c) => !excluded.has(c.name) && (spec.multiset === true || !keyCols.has(c.name)));
  }

  /** key → content digest(s) of every row (where: an extra SQL condition on t). */
  rows(spec: TableSpec, where = 'true'): Promise<Map<string, string[]>> {
    return this.memoised(`rows ${spec.table} ${where}`, () => this.readRows(spec, where));
  }

  private async readRows(spec: TableSpec, where: string): Promise<Map<string, string[]>> {
    const cols = this.contentColumns(spec);
    const plain = cols.filter((c) => spec.rewrite?.[c.name] === undefined);
    const rewritten = cols.filter((c) => spec.rewrite?.[c.name] !== undefined);
    const content = plain.length === 0 ? `''` : plain.map((c) => `coalesce(${this.expr(c)}, '∅')`).join(` || '¦' || `);
    const extra = rewritten.map((c, i) => `, ${this.expr(c)} AS r${i}`).join('');
    const keyExpr = spec.multiset === true ? content : this.keyExpr(spec);
    const r = await this.client.query<Record<string, string | null>>(`SELECT ${keyExpr} AS k, md5(${content}) AS h${extra} FROM ${spec.table} t WHERE ${where}`);
    const out = new Map<string, string[]>();
    for (const row of r.rows) {
      let h = row['h'] ?? '';
      rewritten.forEach((c, i) => {
        h += `|${spec.rewrite?.[c.name]?.(row[`r${i}`] ?? '∅', this.maps) ?? ''}`;
      });
      const k = spec.multiset === true ? h : (row['k'] ?? '');
      const list = out.get(k) ?? [];
      list.push(h);
      out.set(k, list);
    }
    return out;
  }

  /** Per month: row count and a digest of every row in key order (the fact tables). */
  periodDigests(spec: TableSpec): Promise<Map<string, string>> {
    return this.memoised(`digests ${spec.table}`, () => this.readPeriodDigests(spec));
  }

  private async readPeriodDigests(spec: TableSpec): Promise<Map<string, string>> {
    // Per month and batch (the batch's id mapped here, not per row: half a million lookups would cost seconds).
    const cols = this.contentColumns(spec).filter((c) => c.name !== 'batch_id');
    const content = cols.map((c) => `coalesce(${this.expr(c)}, '∅')`).join(` || '¦' || `);
    const r = await this.client.query<{ p: string; b: string; n: string; d: string }>(
      `SELECT to_char(t.period, 'YYYY-MM') AS p, t.batch_id::text AS b, count(*)::text AS n, md5(string_agg(t.bucket::text || t.uscc || '¦' || ${content}, E'\\n' ORDER BY t.bucket, t.uscc)) AS d
         FROM ${spec.table} t GROUP BY 1, 2`,
    );
    const parts = new Map<string, string[]>();
    for (const x of r.rows) {
      const list = parts.get(x.p) ?? [];
      list.push(`${this.maps.batch.get(x.b) ?? `#${x.b}`}=${x.n}:${x.d}`);
      parts.set(x.p, list);
    }
    return new Map([...parts].map(([p, list]) => [p, `${list.reduce((s, v) => s + Number(v.split('=')[1]?.split(':')[0] ?? 0), 0)}:${list.sort().join(',')}`]));
  }

  /** The content of one row, column by column (for an example of a difference). */
  async describe(spec: TableSpec, key: string): Promise<Record<string, string>> {
    const cols = this.contentColumns(spec);
    const sel = cols.map((c) => `coalesce(${this.expr(c)}, '∅') AS "${c.name}"`).join(', ');
    const r = await this.client.query<Record<string, string>>(`SELECT ${sel} FROM ${spec.table} t WHERE ${this.keyExpr(spec)} = $1 LIMIT 1`, [key]);
    const row = r.rows[0] ?? {};
    for (const [col, fn] of Object.entries(spec.rewrite ?? {})) if (row[col] !== undefined) row[col] = fn(row[col], this.maps);
    return row;
  }

  close(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }
}

function diffMaps(table: string, clean: Map<string, string[]>, night: Map<string, string[]>, out: TableDiff, examples: string[]): string[] {
  const differingKeys: string[] = [];
  for (const [k, hs] of clean) {
    const got = night.get(k) ?? [];
    if (got.length < hs.length) {
      out.lost += hs.length - got.length;
      if (examples.length < 3) examples.push(`${table} ${k.slice(0, 120)}: missing`);
    }
    if (got.length > hs.length) {
      out.doubled += got.length - hs.length;
      if (examples.length < 3) examples.push(`${table} ${k.slice(0, 120)}: ${got.length} copies`);
    }
    const same = Math.min(got.length, hs.length);
    const want = [...hs].sort();
    const have = [...got].sort();
    for (let i = 0; i < same; i++) {
      if (want[i] !== have[i]) {
        out.differing++;
        differingKeys.push(k);
        break;
      }
    }
  }
  for (const [k, got] of night) {
    if (!clean.has(k)) {
      out.differing += got.length;
      if (examples.length < 3) examples.push(`${table} ${k.slice(0, 120)}: not in the clean night`);
    }
  }
  return differingKeys;
}

async function diffTable(spec: TableSpec, clean: Side, night: Side): Promise<TableDiff> {
  const t0 = Date.now();
  const out: TableDiff = { table: spec.table, rows: 0, cleanRows: 0, lost: 0, doubled: 0, differing: 0, examples: [], ms: 0 };
  const examples: string[] = [];
  let differingKeys: string[] = [];
  if (spec.byPeriod === true) {
    const [a, b] = await Promise.all([clean.periodDigests(spec), night.periodDigests(spec)]);
    const count = (m: Map<string, string>): number => [...m.values()].reduce((s, v) => s + Number(v.split(':')[0]), 0);
    out.cleanRows = count(a);
    out.rows = count(b);
    const months = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p));
    for (const p of months) {
      const where = `to_char(t.period, 'YYYY-MM') = '${p.replace(/[^0-9-]/g, '')}'`;
      const [ra, rb] = await Promise.all([clean.rows(spec, where), night.rows(spec, where)]);
      differingKeys.push(...diffMaps(spec.table, ra, rb, out, examples));
    }
  } else {
    const [a, b] = await Promise.all([clean.rows(spec), night.rows(spec)]);
    out.cleanRows = [...a.values()].reduce((s, v) => s + v.length, 0);
    out.rows = [...b.values()].reduce((s, v) => s + v.length, 0);
    differingKeys = diffMaps(spec.table, a, b, out, examples);
  }
  for (const k of differingKeys.slice(0, Math.max(0, 3 - examples.length))) {
    if (spec.multiset === true) continue;
    const [ca, cb] = await Promise.all([clean.describe(spec, k), night.describe(spec, k)]);
    const cols = Object.keys(ca).filter((c) => ca[c] !== cb[c]);
    examples.push(`${spec.table} ${k.slice(0, 80)}: ${cols.map((c) => `${c} ${whereTheyDiffer(ca[c] ?? '', cb[c] ?? '')}`).join('; ') || 'ids inside a column differ'}`);
  }
  out.examples = examples;
  out.ms = Date.now() - t0;
  return out;
}

/** The first place two texts differ, with a little context: "…clean… → …night…". */
function whereTheyDiffer(a: string, b: string): string {
  if (a.length + b.length <= 160) return `${JSON.stringify(a)} → ${JSON.stringify(b)}`;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 50);
  return `at ${i}: ${JSON.stringify(`…${a.slice(from, i + 70)}…`)} → ${JSON.stringify(`…${b.slice(from, i + 70)}…`)}`;
}

/** Every compared table of a night's database against the clean night's. */
export async function compareDatabases(cleanUrl: string, nightUrl: string): Promise<TableDiff[]> {
  const [clean, night] = await Promise.all([Side.open(cleanUrl, { memoise: true }), Side.open(nightUrl)]);
  try {
    const out: TableDiff[] = [];
    for (const spec of TABLES) out.push(await diffTable(spec, clean, night));
    return out;
  } finally {
    await Promise.all([clean.close(), night.close()]);
  }
}

export interface MailDiff {
  /** Message-IDs the clean night's relay received that this night's did not. */
  lost: number;
  /** Received − distinct: the same e-mail delivered again. */
  doubled: number;
  /** Message-IDs the clean night never sent. */
  differing: number;
  received: number;
  distinct: number;
  examples: string[];
}

/** The Message-IDs a relay received, against the clean night's. */
export function compareMail(clean: readonly string[], night: readonly string[]): MailDiff {
  const want = new Set(clean);
  const have = new Set(night);
  const lost = [...want].filter((m) => !have.has(m));
  const extra = [...have].filter((m) => !want.has(m));
  const counts = new Map<string, number>();
  for (const m of night) counts.set(m, (counts.get(m) ?? 0) + 1);
  const dup = [...counts].filter(([, n]) => n > 1);
  const examples = [
    ...dup.slice(0, 2).map(([m, n]) => `e-mail ${m} received ${n} times`),
    ...lost.slice(0, 2).map((m) => `e-mail ${m} never received`),
    ...extra.slice(0, 1).map((m) => `e-mail ${m} not sent by the clean night`),
  ];
  return { lost: lost.length, doubled: night.length - have.size, differing: extra.length, received: night.length, distinct: have.size, examples };
}
