import { FAULTS, SHORT } from './faults.js';
import { runNight, type FaultSpec, type NightOutcome } from './night.js';
import { killEverything } from './processes.js';
import { prepareSetting, type Setting } from './setting.js';

/**
 * The fault matrix: a clean night, then one night per fault, each in a fresh
 * database and a fresh Redis, each compared row for row with the clean one.
 * `npm run faults` (bench/faults/main.ts) prints it; test/faults.test.ts runs
 * the short version through runMatrix.
 */

export interface MatrixOptions {
  employers: number;
  /** Fault names to run (default: all, or SHORT with short). */
  only?: readonly string[];
  short?: boolean;
  seed?: number;
  /** Where to keep the logs of nights that are not identical (default: none kept). */
  keepLogs?: string;
  say?: (s: string) => void;
}

export interface MatrixResult {
  employers: number;
  clean: NightOutcome;
  results: NightOutcome[];
  faults: number;
  identical: number;
  lost: number;
  doubled: number;
  seconds: number;
  sweepSetting: string | null;
}

export function selectFaults(options: Pick<MatrixOptions, 'only' | 'short'>): FaultSpec[] {
  const names = options.only ?? (options.short === true ? SHORT : undefined);
  if (names === undefined) return [...FAULTS];
  const unknown = names.filter((n) => !FAULTS.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`unknown fault${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: choose from ${FAULTS.map((f) => f.name).join(', ')}`);
  return FAULTS.filter((f) => names.includes(f.name));
}

export async function runMatrix(options: MatrixOptions): Promise<MatrixResult> {
  const say = options.say ?? (() => undefined);
  const faults = selectFaults(options);
  const t0 = Date.now();
  let setting: Setting | undefined;
  try {
    setting = await prepareSetting({ employers: options.employers, say, ...(options.seed !== undefined ? { seed: options.seed } : {}) });
    say('clean night …');
    const clean = await runNight(setting, { name: 'clean', what: 'no fault' }, { index: 0, deadlineMs: 600_000, say, ...(options.keepLogs !== undefined ? { keepLogs: options.keepLogs } : {}) });
    if (!clean.recovered) throw new Error(`the clean night did not complete (${clean.why ?? '?'}): ${clean.evidence.join('; ')}`);
    const cleanNotifications = clean.mail?.distinct ?? 0;
    if (clean.mail !== null && clean.mail.doubled > 0) say(`  warning: the clean night itself received ${clean.mail.doubled} duplicate e-mail(s)`);
    // A fault night may take a few times as long as the clean one (a lock to lapse, backoffs, a restart).
    const deadlineMs = Math.max(90_000, Math.round(clean.nightSeconds * 1000 * 3));
    const results: NightOutcome[] = [];
    for (const [i, fault] of faults.entries()) {
      say(`${fault.name}: ${fault.what} …`);
      const out = await runNight(setting, fault, {
        index: i + 1,
        clean: { databaseUrl: clean.databaseUrl, messageIds: clean.messageIds, notifications: cleanNotifications },
        deadlineMs,
        say,
        ...(options.keepLogs !== undefined ? { keepLogs: options.keepLogs } : {}),
      });
      results.push(out);
      await setting.dropDatabase(out.database).catch(() => undefined);
    }
    return {
      employers: options.employers,
      clean,
      results,
      faults: results.length,
      identical: results.filter((r) => r.identical).length,
      lost: results.reduce((s, r) => s + r.lost, 0),
      doubled: results.reduce((s, r) => s + r.doubled, 0),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      sweepSetting: setting.sweepSetting?.env ?? null,
    };
  } finally {
    await setting?.close().catch(() => undefined);
    killEverything();
  }
}

/** The table: fault | recovered in s | lost | doubled | differing rows, then the notes and evidence of every fault not identical. */
export function formatMatrix(result: MatrixResult): string {
  const rows = result.results.map((r) => [
    r.name,
    r.recovered ? (r.seconds ?? 0).toFixed(1) : 'no',
    String(r.lost),
    String(r.doubled),
    String(r.differing),
    r.identical ? 'identical' : 'DIFFERS',
  ]);
  const head = ['fault', 'recovered in s', 'lost', 'doubled', 'differing rows', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const out = [
    `clean night: ${result.employers} employers, ${result.clean.nightSeconds.toFixed(1)} s, ${result.clean.tables.length === 0 ? '' : ''}${result.clean.mail?.distinct ?? 0} e-mails`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const notIdentical = result.results.filter((r) => !r.identical || r.notes.length > 0);
  if (notIdentical.length > 0) out.push('');
  for (const r of notIdentical) {
    out.push(`${r.name}${r.identical ? '' : r.recovered ? ' (complete, but not identical)' : ` (not recovered: ${r.why ?? '?'})`}:`);
    for (const n of r.notes) out.push(`    note: ${n}`);
    if (!r.identical) for (const e of r.evidence) out.push(`    ${e}`);
  }
  return out.join('\n');
}

export function summaryLine(result: MatrixResult): string {
  return JSON.stringify({ faults: result.faults, identical: result.identical, lost: result.lost, doubled: result.doubled, seconds: result.seconds });
}
