/**
 * npm run bench:csv -- [--employers 1000000] [--seed 1] [--rounds 3] [--file path.csv.gz]
 *
 * Our CSV parser (services/feeds/csv.parse.ts) against csv-parse on one
 * month of the social-insurance feed: the same file, read the way ingest
 * reads it (1 MiB reads → gunzip → strict UTF-8 → text chunks), parsed into
 * the same field arrays with each row's line and raw text (what ingest needs
 * to quarantine a row). Each run is a fresh process, so its peak RSS is its
 * own; the variants take turns, round by round. Variants:
 *
 *   read            the reading and decoding alone (the floor)
 *   own             parseCsv, as ingest uses it (for await over its records)
 *   csv-parse       csv-parse's stream with raw and info (line, raw text), for await
 *   csv-parse-sync-read  the same, drained with read() in 'readable' events (no promise per row)
 *   csv-parse-bare  csv-parse's stream, fields only, for await
 *
 * The source is the one bench:ingest uses (data/bench/ingest-<N>-<seed>/),
 * generated once if missing. First a check that both parsers give the same
 * fields, line and raw text for every row. Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { loadConfig } from '../config/config.load.js';
import { parseCsv } from '../services/feeds/csv.parse.js';
import { wholeNumber } from './args.js';

const SELF = fileURLToPath(import.meta.url);
const VARIANTS = ['read', 'own', 'csv-parse', 'csv-parse-sync-read', 'csv-parse-bare'] as const;
type Variant = (typeof VARIANTS)[number];

/** One row as ingest sees it. */
interface Row {
  readonly fields: readonly string[];
  readonly line: number;
  readonly raw: string;
}

interface RunResult {
  variant: Variant;
  rows: number;
  broken: number;
  /** Sum of field lengths and counts and of lines: equal across parsers when they agree. */
  checksum: number;
  seconds: number;
  /** This process's CPU (user + system): steadier than the wall time when the machine is shared. */
  cpuSeconds: number;
  rowsPerSecond: number;
  rowsPerCpuSecond: number;
  peakRssMiB: number;
}

/** The file as ingest reads it: 1 MiB reads, gunzip for .gz, strict UTF-8, text chunks. */
async function* text(path: string): AsyncGenerator<string> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const bytes: AsyncIterable<Buffer> = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  for await (const chunk of bytes) {
    let t = decoder.decode(chunk, { stream: true });
    if (first && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    first = false;
    yield t;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Our parser: data rows (the header is read by the parser itself), broken rows counted. */
async function* ownRows(path: string, broken: { n: number }): AsyncGenerator<Row> {
  for await (const parsed of parseCsv(text(path))) {
    if (parsed.ok) yield parsed.record as Row;
    else broken.n++;
  }
}

interface CsvParseRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** csv-parse's raw text keeps line breaks around a record, and it counts lines to the record's end. */
function asRow(r: CsvParseRecord): Row {
  let raw = r.raw;
  let end = raw.length;
  while (end > 0 && (raw.charCodeAt(end - 1) === 10 || raw.charCodeAt(end - 1) === 13)) end--;
  let start = 0;
  while (start < end && raw.charCodeAt(start) === 10) start++;
  if (start > 0 || end < raw.length) raw = raw.slice(start, end);
  let inner = 0;
  for (let i = raw.indexOf('\n'); i !== -1; i = raw.indexOf('\n', i + 1)) inner++;
  return { fields: r.record, line: r.info.lines - inner, raw };
}

/**
 * csv-parse made to give what ingest needs: the header taken from the first
 * record, rows of another length counted as broken, the raw text without its
 * line break and the line a row starts on (csv-parse counts to its end).
 */
async function* csvParseRows(path: string, broken: { n: number }): AsyncGenerator<Row> {
  const parser = rawParser(path);
  const row = rowsAfterHeader(broken);
  for await (const r of parser as AsyncIterable<CsvParseRecord>) {
    const out = row(r);
    if (out !== null) yield out;
  }
}

function rawParser(path: string): ReturnType<typeof parse> {
  return Readable.from(text(path)).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true, raw: true, info: true, record_delimiter: ['\r\n', '\n'] }),
  );
}

/** The header taken from the first record (null), rows of another length counted as broken (null), the others as ingest's rows. */
function rowsAfterHeader(broken: { n: number }): (r: CsvParseRecord) => Row | null {
  let width = -1;
  return (r) => {
    if (width < 0) {
      width = r.record.length;
      return null;
    }
    if (r.record.length !== width) {
      broken.n++;
      return null;
    }
    return asRow(r);
  };
}

/** csv-parse with raw and info, drained in 'readable' events: its throughput without a promise per row. */
function csvParseEvents(path: string, broken: { n: number }, each: (r: Row) => void): Promise<void> {
  const parser = rawParser(path);
  const row = rowsAfterHeader(broken);
  return new Promise((done, fail) => {
    parser.on('readable', () => {
      for (let r = parser.read() as CsvParseRecord | null; r !== null; r = parser.read() as CsvParseRecord | null) {
        const out = row(r);
        if (out !== null) each(out);
      }
    });
    parser.once('end', done);
    parser.once('error', fail);
  });
}

async function* csvParseBare(path: string, broken: { n: number }): AsyncGenerator<readonly string[]> {
  const parser = Readable.from(text(path)).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }));
  let width = -1;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (width < 0) width = record.length;
    else if (record.length !== width) broken.n++;
    else yield record;
  }
}

function fieldSum(fields: readonly string[]): number {
  let s = fields.length;
  for (const f of fields) s += f.length;
  return s;
}

/** One timed run in this process; the parent spawned it. */
async function child(variant: Variant, path: string): Promise<RunResult> {
  const broken = { n: 0 };
  let rows = 0;
  let checksum = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  switch (variant) {
    case 'read':
      for await (const t of text(path)) {
        for (let i = t.indexOf('\n'); i !== -1; i = t.indexOf('\n', i + 1)) rows++;
        checksum += t.length;
      }
      rows--; // the header line
      break;
    case 'own':
      for await (const r of ownRows(path, broken)) {
        rows++;
        checksum += fieldSum(r.fields) + r.line;
      }
      break;
    case 'csv-parse':
      for await (const r of csvParseRows(path, broken)) {
        rows++;
        checksum += fieldSum(r.fields) + r.line;
      }
      break;
    case 'csv-parse-sync-read':
      await csvParseEvents(path, broken, (r) => {
        rows++;
        checksum += fieldSum(r.fields) + r.line;
      });
      break;
    case 'csv-parse-bare':
      for await (const f of csvParseBare(path, broken)) {
        rows++;
        checksum += fieldSum(f);
      }
      break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    variant,
    rows,
    broken: broken.n,
    checksum,
    seconds,
    cpuSeconds,
    rowsPerSecond: Math.round(rows / seconds),
    rowsPerCpuSecond: Math.round(rows / cpuSeconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Both parsers, row by row: same fields, line and raw text. */
async function verify(path: string): Promise<{ rows: number; mismatches: number; first?: string }> {
  const a = ownRows(path, { n: 0 });
  const b = csvParseRows(path, { n: 0 });
  let rows = 0;
  let mismatches = 0;
  let first: string | undefined;
  for (;;) {
    const [x, y] = await Promise.all([a.next(), b.next()]);
    if (x.done || y.done) {
      if (!x.done || !y.done) {
        mismatches++;
        first ??= `one parser stopped after ${rows} rows, the other did not`;
      }
      break;
    }
    rows++;
    const p = x.value;
    const q = y.value;
    if (p.line !== q.line || p.raw !== q.raw || p.fields.length !== q.fields.length || p.fields.some((f, i) => f !== q.fields[i])) {
      mismatches++;
      first ??= `row ${rows}: own ${JSON.stringify(p)} vs csv-parse ${JSON.stringify(q)}`;
    }
  }
  return first === undefined ? { rows, mismatches } : { rows, mismatches, first };
}

function runChild(variant: Variant, path: string): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, SELF, '--child', variant, '--file', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out) as RunResult) : reject(new Error(`${variant} run exited ${code}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function source(employers: number, seed: number): Promise<string> {
  const config = loadConfig();
  const out = resolve(config.dataDir, 'bench', `ingest-${employers}-${seed}`);
  const feeds = resolve(out, 'feeds');
  if (!existsSync(resolve(feeds, 'manifest.json'))) {
    process.stderr.write(`generating ${employers} employers × 1 month into ${out} …\n`);
    const { generateProvince } = await import('../services/synth/province.generate.js');
    await generateProvince({ outDir: out, employers, months: 1, seed, defects: false });
  }
  const file = readdirSync(feeds).find((f) => /^social_insurance-\d{4}-\d{2}\.csv(\.gz)?$/.test(f));
  if (file === undefined) throw new Error(`no social_insurance batch in ${feeds}`);
  return resolve(feeds, file);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      employers: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      file: { type: 'string' },
      child: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    const variant = VARIANTS.find((v) => v === values.child);
    if (variant === undefined || values.file === undefined) throw new Error(`--child must be one of ${VARIANTS.join(', ')}, with --file`);
    process.stdout.write(JSON.stringify(await child(variant, values.file)));
    return;
  }
  const employers = wholeNumber('employers', values.employers, 1, 10_000_000);
  const seed = wholeNumber('seed', values.seed, 0, 2 ** 31 - 1);
  const rounds = wholeNumber('rounds', values.rounds, 1, 50);
  const path = values.file ?? (await source(employers, seed));
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  say(`file ${path} (${(statSync(path).size / 2 ** 20).toFixed(1)} MiB)`);

  const check = await verify(path);
  say(`check: ${check.rows} rows, ${check.mismatches} differ between the parsers${check.first ? ` (first: ${check.first})` : ''}`);

  const runs: RunResult[] = [];
  for (let r = 0; r < rounds; r++) {
    // Take turns, starting one further each round, so no variant always runs on a warm page cache.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length] as Variant);
    for (const v of order) {
      const res = await runChild(v, path);
      runs.push(res);
      say(`round ${r + 1} ${v.padEnd(19)} ${res.rows} rows (${res.broken} broken) in ${res.seconds.toFixed(2)} s (CPU ${res.cpuSeconds.toFixed(2)} s): ${res.rowsPerSecond.toLocaleString('en')} rows/s, peak RSS ${res.peakRssMiB} MiB`);
    }
  }
  const summary = VARIANTS.map((v) => {
    const mine = runs.filter((r) => r.variant === v);
    const sums = new Set(mine.map((r) => r.checksum));
    return {
      variant: v,
      rows: mine[0]?.rows ?? 0,
      medianRowsPerSecond: Math.round(median(mine.map((r) => r.rowsPerSecond))),
      bestRowsPerSecond: Math.max(...mine.map((r) => r.rowsPerSecond)),
      medianSeconds: Number(median(mine.map((r) => r.seconds)).toFixed(2)),
      medianCpuSeconds: Number(median(mine.map((r) => r.cpuSeconds)).toFixed(2)),
      medianRowsPerCpuSecond: Math.round(median(mine.map((r) => r.rowsPerCpuSecond))),
      medianPeakRssMiB: median(mine.map((r) => r.peakRssMiB)),
      consistent: sums.size === 1,
      checksum: mine[0]?.checksum ?? 0,
    };
  });
  const ownSum = summary.find((s) => s.variant === 'own')?.checksum;
  for (const s of summary) if (s.variant.startsWith('csv-parse') && s.variant !== 'csv-parse-bare' && s.checksum !== ownSum) say(`warning: ${s.variant} gave other fields or lines than own`);
  say('');
  say('variant              rows/s (median)  best rows/s  s (median)  CPU s (median)  peak RSS MiB (median)');
  for (const s of summary) {
    say(
      `${s.variant.padEnd(20)} ${s.medianRowsPerSecond.toLocaleString('en').padStart(15)}  ${s.bestRowsPerSecond.toLocaleString('en').padStart(11)}  ` +
        `${s.medianSeconds.toFixed(2).padStart(10)}  ${s.medianCpuSeconds.toFixed(2).padStart(14)}  ${String(s.medianPeakRssMiB).padStart(21)}`,
    );
  }
  const own = summary.find((s) => s.variant === 'own');
  const csv = summary.find((s) => s.variant === 'csv-parse');
  const ratio = own && csv ? own.medianRowsPerSecond / csv.medianRowsPerSecond : NaN;
  const cpuRatio = own && csv ? csv.medianCpuSeconds / own.medianCpuSeconds : NaN;
  say(`own against csv-parse (same output): ${ratio.toFixed(2)}× the rows/s, ${cpuRatio.toFixed(2)}× less CPU`);
  process.stdout.write(`${JSON.stringify({ file: path, rounds, check, summary, ownOverCsvParse: Number(ratio.toFixed(2)), csvParseCpuOverOwn: Number(cpuRatio.toFixed(2)), node: process.version })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
