import { join } from 'node:path';
import { BatchWriter } from './batch.writer.js';
import { CITY_PROFILES } from './city.profile.js';
import { sizeClass } from './employer.population.js';
import type { Population } from './employer.population.js';
import { shockIntensity, signalNames } from './event.model.js';
import type { PlannedEvent, Shock } from './event.model.js';
import type { EventPlan } from './events.plan.js';
import { SECTION_INDEX } from './industry.profile.js';
import { formatDay } from './period.calendar.js';
import { formatOrdinal } from '../domain/period.js';

/**
 * Ground truth, written apart from the feeds so an evaluator can score what
 * the service found against what happened: every employer, every event
 * (with the signals it really showed), and the shock.
 */
export const EMPLOYERS_HEADER = 'uscc,city_code,region_code,industry_code,size_class,base_size,monitored,first_period,last_period,name,parent_uscc';

export async function writeEmployers(truthDir: string, pop: Population, firstOrdinal: number): Promise<void> {
  const w = new BatchWriter(join(truthDir, 'employers.csv'));
  w.line(EMPLOYERS_HEADER);
  const periods = Array.from({ length: pop.months }, (_, t) => formatOrdinal(firstOrdinal + t));
  for (let e = 0; e < pop.count; e++) {
    const base = pop.baseSize[e] ?? 0;
    const end = pop.endMonth[e] ?? pop.months;
    const parent = pop.parent[e] ?? -1;
    // The prefix already holds "uscc,name,region_code,industry_code,": split it once.
    const prefix = pop.prefixText(e);
    const codeLength = pop.codeLength[e] ?? 1;
    const industry = prefix.slice(prefix.length - 1 - codeLength, prefix.length - 1);
    const region = prefix.slice(prefix.length - 2 - codeLength - 6, prefix.length - 2 - codeLength);
    const name = prefix.slice(19, prefix.length - 3 - codeLength - 6);
    const row = `${prefix.slice(0, 18)},${pop.cityCode(e)},${region},${industry},${sizeClass(base)},${base},${pop.monitored[e] === 1 ? 'true' : 'false'},${
      periods[pop.firstMonth[e] ?? 0] ?? ''},${end < pop.months ? (periods[end - 1] ?? '') : ''},${name},${parent >= 0 ? (pop.uscc[parent] ?? '') : ''}`;
    if (w.row(row)) await w.flush();
  }
  await w.close();
}

/** Art. 41: 20 or more people, or fewer but at least 10% of the workforce. */
export function isStatutory(size: number, workforce: number): boolean {
  return size >= 20 || (size > 0 && size >= 0.1 * workforce);
}

export interface TruthEvent {
  readonly id: string;
  readonly type: 'layoff' | 'closure' | 'transfer' | 'distress' | 'shock';
  readonly period: string;
  readonly [field: string]: unknown;
}

export function eventRecords(plan: EventPlan, pop: Population, firstOrdinal: number): TruthEvent[] {
  const out: TruthEvent[] = [];
  const p = (t: number): string => formatOrdinal(firstOrdinal + t);
  for (const ev of plan.events) {
    let type: TruthEvent['type'] = ev.kind;
    // A layoff planned for an employer that had shrunk to nobody: its warning signs were a distress that came to nothing.
    if (ev.kind === 'layoff' && ev.size === 0) {
      if (ev.sudden) continue;
      type = 'distress';
    }
    const e = ev.employer;
    const statutory = (type === 'layoff' || type === 'closure') && isStatutory(ev.size, ev.workforce);
    const filed = type === 'layoff' && ev.filed;
    out.push({
      id: `ev-${String(ev.id).padStart(7, '0')}`,
      type,
      uscc: pop.uscc[e] ?? null,
      city_code: pop.cityCode(e),
      region_code: pop.regionCode(e),
      industry_code: pop.industryCode(e),
      industry_section: pop.industryCode(e).slice(0, 1),
      period: p(type === 'distress' ? ev.start : ev.effective),
      end_period: p(ev.end),
      size: type === 'distress' ? 0 : ev.size,
      workforce: ev.workforce,
      fraction: ev.workforce > 0 && type !== 'distress' ? Math.round((ev.size / ev.workforce) * 10_000) / 10_000 : 0,
      statutory,
      sudden: ev.sudden,
      precursor_start: ev.sudden ? null : p(ev.start),
      signals: signalNames(ev.emitted),
      precursor_visible: ev.emitted !== 0,
      planned_signals: signalNames(ev.signals),
      filed,
      filing_in_feed: filed && ev.filingInFeed,
      filing_id: filed && ev.filingId !== '' ? ev.filingId : null,
      filed_on: filed ? formatDay(ev.filedDayNo) : null,
      effective_on: filed ? formatDay(ev.effectiveDayNo) : null,
      planned_count: filed ? ev.plannedCount : null,
      staff_at_filing: filed ? ev.staffAtFiling : null,
      filing_reason: filed ? ev.filingReason : null,
      ended_smaller: filed && ev.smaller > 0,
      loss_reason: type === 'distress' ? null : ev.lossReason,
      spread_months: type === 'distress' ? ev.end - ev.start + 1 : ev.spread,
      shock: ev.shock,
      monitored: pop.monitored[e] === 1,
      peak_furloughed: ev.peakFurloughed,
      to_uscc: type === 'transfer' && ev.target >= 0 ? (pop.uscc[ev.target] ?? null) : null,
      transfer_reported: type === 'transfer' ? ev.reportTransfer : null,
    });
  }
  out.push(shockRecord(plan.shock, plan.events, pop, firstOrdinal));
  return out.sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function shockRecord(shock: Shock, events: readonly PlannedEvent[], pop: Population, firstOrdinal: number): TruthEvent {
  const c = SECTION_INDEX.get(shock.section) ?? 2;
  let employers = 0;
  let staff = 0;
  for (let e = 0; e < pop.count; e++) {
    if (pop.city[e] === shock.city && pop.section[e] === c && (pop.parent[e] ?? -1) < 0) {
      employers++;
      staff += pop.baseSize[e] ?? 0;
    }
  }
  const own = events.filter((ev) => ev.shock);
  const count = (kind: string): number => own.filter((ev) => ev.kind === kind && (kind !== 'layoff' || ev.size > 0)).length;
  const size = own.filter((ev) => ev.kind === 'layoff' || ev.kind === 'closure').reduce((s, ev) => s + ev.size, 0);
  const intensities: number[] = [];
  for (let t = shock.start; t <= shock.end; t++) intensities.push(Math.round(shockIntensity(shock, t) * 1000) / 1000);
  return {
    id: 'shock-1',
    type: 'shock',
    uscc: null,
    city_code: CITY_PROFILES[shock.city]?.code ?? shock.cityCode,
    region_code: shock.cityCode,
    industry_code: shock.section,
    industry_section: shock.section,
    period: formatOrdinal(firstOrdinal + shock.start),
    end_period: formatOrdinal(firstOrdinal + shock.end),
    months: shock.end - shock.start + 1,
    intensity: intensities,
    employers,
    staff,
    size,
    layoffs: count('layoff'),
    closures: count('closure'),
    distress: count('distress'),
    statutory: false,
    sudden: false,
    precursor_start: null,
    signals: [],
    filed: false,
    to_uscc: null,
  };
}

export async function writeEvents(truthDir: string, events: readonly TruthEvent[]): Promise<void> {
  const w = new BatchWriter(join(truthDir, 'events.jsonl'));
  for (const ev of events) if (w.row(JSON.stringify(ev))) await w.flush();
  await w.close();
}
