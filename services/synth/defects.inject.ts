import type { BatchWriter } from './batch.writer.js';
import type { Rng } from './random.js';
import { breakCheckChar } from './uscc.compose.js';

/**
 * The data defects a real exchange delivers, injected at low rates from
 * their own random stream (so turning them off leaves every other byte as
 * it was) and each written to truth/defects.jsonl with the physical line it
 * sits on and what the service should make of it.
 */
export type DefectKind = 'bad_check_digit' | 'missing_month' | 'duplicate_row' | 'restatement' | 'gbk_encoding';

export interface DefectRecord {
  kind: DefectKind;
  feed: string;
  period: string;
  file: string;
  line: number | null;
  uscc: string | null;
  expected: string;
  [extra: string]: unknown;
}

const RATE_BAD_CHECK = 0.0005;
const RATE_MISSING = 0.002;
const RATE_DUPLICATE = 0.0002;
const RATE_RESTATE = 0.01;

/** Where rows' leading bytes live (the population's prefix arena). */
export interface PrefixSource {
  readonly prefixBytes: Buffer;
  prefixStart(e: number): number;
  prefixEnd(e: number): number;
}

interface PendingDuplicate {
  readonly employer: number;
  readonly tail: string;
  readonly dueRow: number;
  readonly firstLine: number;
  readonly uscc: string;
}

export interface RestatedRow {
  readonly employer: number;
  /** The row after its prefix: period and values, ASCII. */
  readonly tail: string;
  readonly uscc: string;
  readonly originalLine: number;
}

export class DefectInjector {
  readonly counts: Record<DefectKind, number> = { bad_check_digit: 0, missing_month: 0, duplicate_row: 0, restatement: 0, gbk_encoding: 0 };
  /** Month index whose headcount batch is GBK, −1 for none. */
  readonly gbkMonth: number;
  /** Month index restated by a second social-insurance batch, −1 for none. */
  readonly restateMonth: number;
  readonly restated: RestatedRow[] = [];
  private duplicates: PendingDuplicate[] = [];
  private file = '';
  private period = '';
  private force = false;

  constructor(
    readonly enabled: boolean,
    private readonly rng: Rng,
    private readonly sink: BatchWriter,
    private readonly prefixes: PrefixSource,
    months: number,
    employers: number,
  ) {
    this.gbkMonth = enabled ? Math.min(months - 1, Math.floor(months / 3) + rng.int(Math.floor(months / 3) + 1)) : -1;
    this.restateMonth = enabled ? (months >= 3 ? months - 3 : 0) : -1;
    // Small runs may draw no defect of a kind at these rates; larger ones are promised at least one.
    this.minimums = enabled && employers >= 1000;
    if (enabled) {
      this.untilMissing = this.gap(RATE_MISSING);
      this.untilBadCheck = this.gap(RATE_BAD_CHECK);
      this.untilDuplicate = this.gap(RATE_DUPLICATE);
    }
  }

  private readonly minimums: boolean;
  // Rows to go until the next defect of each kind: geometric gaps cost one draw per defect, not one per row.
  private untilMissing = 0;
  private untilBadCheck = 0;
  private untilDuplicate = 0;

  private gap(rate: number): number {
    return Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - rate));
  }

  /** Starts a social-insurance file; `last` marks the final month, where missing minimums are forced. */
  beginSocialInsurance(file: string, period: string, last: boolean): void {
    this.file = file;
    this.period = period;
    this.force = last && this.minimums;
    this.duplicates = [];
  }

  /** True when the employer's row is to be left out of this month (a gap). */
  missing(uscc: string): boolean {
    if (!this.enabled) return false;
    let hit = this.untilMissing-- === 0;
    if (hit) this.untilMissing = this.gap(RATE_MISSING);
    else hit = this.force && this.counts.missing_month === 0;
    if (hit) {
      this.record({ kind: 'missing_month', feed: 'social_insurance', period: this.period, file: this.file, line: null, uscc,
        expected: 'no row for this employer in this batch: a reporting gap, not a closure or zero staff' });
    }
    return hit;
  }

  /** Should this row be delivered wrong first and corrected by the restatement? */
  restate(month: number): boolean {
    if (month !== this.restateMonth) return false;
    return this.rng.next() < RATE_RESTATE || this.restated.length === 0;
  }

  /** A plausible wrong first delivery: staff count and contribution base not yet reconciled. */
  perturb(insured: number, wageTotal: number): { insured: number; wageTotal: number } {
    const delta = Math.max(1, Math.round(insured * this.rng.range(0.005, 0.03)));
    const up = this.rng.chance(0.5) || insured < delta;
    return { insured: up ? insured + delta : insured - delta, wageTotal: wageTotal * this.rng.range(0.85, 0.97) };
  }

  keepRestated(row: RestatedRow): void {
    this.restated.push(row);
  }

  /**
   * Writes a social-insurance row: maybe with a broken check character,
   * maybe scheduling a repeat of it further down the file; then any repeat
   * that has come due. The row is employer e's prefix followed by `tail`.
   */
  writeRow(si: BatchWriter, e: number, uscc: string, tail: string, restated: boolean): void {
    const p = this.prefixes;
    if (!this.enabled) {
      si.rowFrom(p.prefixBytes, p.prefixStart(e), p.prefixEnd(e), tail);
      return;
    }
    if (!restated && this.due('bad')) {
      const bad = breakCheckChar(uscc, () => this.rng.next());
      si.rowFrom(p.prefixBytes, p.prefixStart(e), p.prefixEnd(e), tail, bad.charCodeAt(17));
      this.record({ kind: 'bad_check_digit', feed: 'social_insurance', period: this.period, file: this.file, line: si.lines, uscc: bad,
        true_uscc: uscc, expected: `uscc ${bad}: check digit should be ${uscc[17] ?? ''}` });
    } else {
      si.rowFrom(p.prefixBytes, p.prefixStart(e), p.prefixEnd(e), tail);
      if (!restated && this.due('duplicate')) {
        this.duplicates.push({ employer: e, tail, dueRow: si.rows + 1 + this.rng.int(2000), firstLine: si.lines, uscc });
      }
    }
    if (this.duplicates.length > 0) this.writeDuplicates(si, false);
  }

  private due(kind: 'bad' | 'duplicate'): boolean {
    if (kind === 'bad') {
      if (this.untilBadCheck-- === 0) {
        this.untilBadCheck = this.gap(RATE_BAD_CHECK);
        return true;
      }
      return this.force && this.counts.bad_check_digit === 0;
    }
    if (this.untilDuplicate-- === 0) {
      this.untilDuplicate = this.gap(RATE_DUPLICATE);
      return true;
    }
    return this.force && this.counts.duplicate_row === 0;
  }

  /** Repeats still pending when the file ends go at its end. */
  endSocialInsurance(si: BatchWriter): void {
    if (this.duplicates.length > 0) this.writeDuplicates(si, true);
  }

  private writeDuplicates(si: BatchWriter, all: boolean): void {
    const keep: PendingDuplicate[] = [];
    for (const d of this.duplicates) {
      if (!all && d.dueRow > si.rows) {
        keep.push(d);
        continue;
      }
      const p = this.prefixes;
      si.rowFrom(p.prefixBytes, p.prefixStart(d.employer), p.prefixEnd(d.employer), d.tail);
      this.record({ kind: 'duplicate_row', feed: 'social_insurance', period: this.period, file: this.file, line: si.lines, uscc: d.uscc,
        first_line: d.firstLine, expected: `duplicate of line ${d.firstLine} (same uscc and period): not loaded twice` });
    }
    this.duplicates = keep;
  }

  /** Writes the corrected rows as the restatement batch. */
  async writeRestated(w: BatchWriter, file: string, period: string, originalFile: string): Promise<void> {
    const p = this.prefixes;
    for (const row of this.restated) {
      if (w.rowFrom(p.prefixBytes, p.prefixStart(row.employer), p.prefixEnd(row.employer), row.tail)) await w.flush();
      this.recordRestatement(file, period, w.lines, row, originalFile);
    }
  }

  private recordRestatement(file: string, period: string, line: number, row: RestatedRow, originalFile: string): void {
    this.record({ kind: 'restatement', feed: 'social_insurance', period, file, line, uscc: row.uscc, original_file: originalFile,
      original_line: row.originalLine, expected: `restates line ${row.originalLine} of ${originalFile}: these values replace the earlier ones for this employer` });
  }

  recordGbk(file: string, period: string): void {
    this.record({ kind: 'gbk_encoding', feed: 'headcount', period, file, line: null, uscc: null,
      expected: 'none if decoded as declared: the manifest says gbk; read as UTF-8 the file is invalid' });
  }

  private record(r: DefectRecord): void {
    this.counts[r.kind]++;
    this.sink.line(JSON.stringify(r));
  }

  async flush(): Promise<void> {
    await this.sink.flush();
  }

  async sinkClose(): Promise<void> {
    await this.sink.close();
  }
}
