import { CITY_PROFILES, SHOCK_CANDIDATES } from './city.profile.js';
import { addTransferTarget } from './employer.population.js';
import type { Population, PopulationContext } from './employer.population.js';
import { newEvent, shockIntensity, SIG_ARREARS, SIG_CLAIMS, SIG_FREEZE, SIG_FURLOUGH, SIG_PLANNED, SIG_WAGE } from './event.model.js';
import type { EventKind, FilingReason, LossReason, PlannedEvent, Shock } from './event.model.js';
import { SECTION_INDEX } from './industry.profile.js';
import { dayNumber, ordinalOfDay } from './period.calendar.js';
import { cumulative } from './random.js';
import type { Rng } from './random.js';
import { DEFAULT_MICRO_CLOSURE_RATE } from './realism.js';

/**
 * Every employer's events for the whole window, drawn before the first
 * month is simulated: a filing must precede its layoff, and a restructuring
 * needs its new employer code to exist. Hazards are monthly and competing;
 * an employer rests a few months after an event, and a closure ends it.
 * Rates are per employer-year: layoffs ≈ 1.5% of employers with 20+ staff,
 * closures mostly among micro firms (3% a year by default, microClosureRate),
 * recovered distress about as often as distress that ends in a layoff.
 */
export interface EventPlan {
  readonly events: PlannedEvent[];
  /** Index of an employer's first event in `events`, −1 when it has none. */
  readonly head: Int32Array;
  readonly shock: Shock;
}

const C = SECTION_INDEX.get('C') ?? 2;

export function planShock(months: number, rng: Rng): Shock {
  const cityCode = rng.pick(SHOCK_CANDIDATES);
  const city = CITY_PROFILES.findIndex((c) => c.code === cityCode);
  const duration = Math.min(months, 4 + rng.int(3));
  const latest = months - duration;
  // Mid-window when there is room, so the evaluation sees the calm before and after.
  const lo = Math.min(latest, Math.floor(months / 3));
  const hi = Math.max(lo, latest - Math.min(3, latest));
  const start = lo + rng.int(hi - lo + 1);
  return { city, cityCode, section: 'C', start, end: start + duration - 1, peak: rng.range(0.8, 1) };
}

const LEADS = cumulative([0.12, 0.22, 0.24, 0.18, 0.14, 0.1]);
const LAYOFF_LOSS: readonly LossReason[] = ['orders', 'orders', 'difficulty', 'difficulty', 'orders', 'difficulty', 'difficulty', 'restructuring', 'other', 'other'];

/** microClosureRate: share of micro employers (< 10 staff) closing per year (realism.ts). */
export function planEvents(
  pop: Population, ctx: PopulationContext, shock: Shock, firstOrdinal: number, rng: Rng, microClosureRate = DEFAULT_MICRO_CLOSURE_RATE,
): EventPlan {
  const months = pop.months;
  const events: PlannedEvent[] = [];
  const base = pop.count;
  for (let e = 0; e < base; e++) {
    const w = pop.baseSize[e] ?? 0;
    const born = pop.firstMonth[e] ?? 0;
    // Larger employers have more units and lines to cut, so more layoff episodes.
    const layoffRate = (w >= 1000 ? 0.05 : w >= 100 ? 0.025 : w >= 20 ? 0.012 : w >= 10 ? 0.005 : 0) / 12;
    const closureRate = (w < 10 ? microClosureRate : w < 50 ? 0.015 : w < 300 ? 0.007 : 0.0025) / 12;
    const distressRate = (w >= 20 ? 0.012 : w >= 10 ? 0.015 : 0.02) / 12;
    const transferRate = (w >= 1000 ? 0.03 : w >= 50 ? 0.01 : 0) / 12;
    const exposed = pop.city[e] === shock.city && pop.section[e] === C;
    // The downturn hits a share of the city's manufacturers outright, within or just after its months.
    let hitMonth = -1;
    let hitKind: EventKind = 'layoff';
    if (exposed && w >= 10 && rng.chance(0.15 * shock.peak)) {
      hitMonth = Math.min(months - 1, shock.start + 1 + rng.int(shock.end - shock.start + 1));
      const u = rng.next();
      hitKind = u < 0.55 ? 'layoff' : u < 0.85 ? 'distress' : 'closure';
      if (hitKind === 'distress') hitMonth = Math.max(shock.start, hitMonth - 2);
    }
    let prevLast = born > 0 ? born + 2 : -1000;
    for (let t = born > 0 ? born + 3 : 0; t < months; t++) {
      // Layoffs lag the downturn by a month: orders fall first.
      const intensity = exposed ? Math.max(shockIntensity(shock, t), shockIntensity(shock, t - 1)) : 0;
      const hL = layoffRate * (1 + 4 * intensity);
      const hC = closureRate * (1 + 2 * intensity);
      const hD = distressRate * (1 + 4 * intensity);
      const hT = transferRate;
      const u = rng.next();
      let kind: EventKind;
      if (t === hitMonth) kind = hitKind;
      else if (u >= hL + hC + hD + hT) continue;
      else kind = u < hL ? 'layoff' : u < hL + hC ? 'closure' : u < hL + hC + hD ? 'distress' : 'transfer';
      const ev = makeEvent(events.length, kind, e, t, prevLast, w, intensity > 0.05 || t === hitMonth, pop, ctx, firstOrdinal, rng);
      if (!ev) continue;
      events.push(ev);
      if (kind === 'closure') break;
      prevLast = ev.last;
      t = ev.last + 1 + rng.int(5);
    }
  }
  const head = new Int32Array(pop.capacity).fill(-1);
  for (let i = events.length - 1; i >= 0; i--) head[(events[i] as PlannedEvent).employer] = i;
  return { events, head, shock };
}

function makeEvent(
  id: number, kind: EventKind, e: number, t: number, prevLast: number, w: number, shock: boolean,
  pop: Population, ctx: PopulationContext, firstOrdinal: number, rng: Rng,
): PlannedEvent | undefined {
  const months = pop.months;
  const ev = newEvent(id, kind, e, t);
  ev.shock = shock;
  const monitored = pop.monitored[e] === 1;
  switch (kind) {
    case 'transfer': {
      const target = addTransferTarget(pop, ctx, e, t, rng);
      if (target < 0) return undefined;
      ev.target = target;
      ev.fraction = rng.range(0.1, 0.6);
      ev.reportTransfer = rng.chance(0.75);
      ev.lossReason = rng.chance(0.85) ? 'restructuring' : rng.chance(0.4) ? 'relocation' : 'other';
      ev.sudden = false;
      return ev;
    }
    case 'distress': {
      let duration = 2 + rng.int(5);
      if (t + duration > months) duration = months - t;
      if (duration < 2) return undefined;
      ev.end = t + duration - 1;
      ev.last = Math.min(months - 1, ev.end + 2);
      ev.sudden = false;
      chooseSignals(ev, monitored, w, t, ev.end, rng);
      return ev;
    }
    case 'layoff':
    case 'closure':
      break;
    default:
      kind satisfies never;
  }
  if (kind === 'closure') {
    const k = rng.chance(0.5) ? 1 : rng.chance(0.6) ? 2 : 3;
    ev.spread = Math.min(k, months - t);
    ev.end = t + ev.spread - 1;
    ev.last = ev.end;
    ev.claimRate = rng.range(0.35, 0.7);
    ev.lossReason = rng.chance(0.9) ? 'closure' : 'difficulty';
    ev.sudden = rng.chance(w < 10 ? 0.5 : 0.35);
    pop.endMonth[e] = t + ev.spread;
  } else {
    ev.spread = rng.chance(0.7) ? 1 : Math.min(2, months - t);
    ev.end = t + ev.spread - 1;
    ev.last = Math.min(months - 1, ev.end + 2);
    ev.firstShare = ev.spread === 1 ? 1 : rng.range(0.45, 0.75);
    ev.claimRate = rng.range(0.25, 0.6);
    ev.lossReason = rng.pick(LAYOFF_LOSS);
    ev.sudden = rng.chance(shock ? 0.25 : 0.3);
    ev.fraction = layoffFraction(w, shock, rng);
    ev.filingReason = filingReason(shock, rng);
  }
  if (!ev.sudden) {
    const lead = 1 + rng.pickCumulative(LEADS);
    const start = Math.max(t - lead, prevLast + 1, pop.firstMonth[e] ?? 0);
    if (start >= t) ev.sudden = true;
    else {
      ev.start = start;
      chooseSignals(ev, monitored, w, start, t - 1, rng);
    }
  }
  ev.first = ev.start;
  if (kind === 'layoff') {
    const intended = Math.round(ev.fraction * w);
    const statutory = intended >= 20 || intended >= 0.1 * w;
    // A sudden layoff has, by definition, no warning at all, so no 30-day notice either.
    if (!ev.sudden && statutory && rng.chance(0.6)) {
      ev.filed = true;
      ev.effectiveDayNo = dayNumber(firstOrdinal + t, 1 + rng.int(28));
      ev.filedDayNo = ev.effectiveDayNo - 30 - rng.int(31);
      ev.filedMonth = ordinalOfDay(ev.filedDayNo).ordinal - firstOrdinal;
      ev.smaller = rng.chance(0.12) ? rng.range(0.3, 0.7) : 0;
      ev.first = Math.min(ev.first, ev.filedMonth);
    }
  }
  return ev;
}

/**
 * Layoff size as a share of staff: mostly above the statutory line (20
 * people, or 10%), a minority of small cuts below it, large employers
 * cutting smaller shares of a larger workforce.
 */
function layoffFraction(w: number, shock: boolean, rng: Rng): number {
  if (w >= 40 && rng.chance(0.15)) {
    const most = Math.min(19, Math.ceil(0.1 * w) - 1);
    const size = Math.max(3, Math.min(most, Math.round(w * rng.range(0.03, 0.08))));
    return size / w;
  }
  const median = w >= 1000 ? 0.08 : 0.15;
  const f = Math.min(0.75, Math.max(0.04, rng.lognormal(Math.log(median), 0.55) * (shock ? 1.3 : 1)));
  const minimum = Math.max(5, w >= 200 ? 20 : Math.ceil(0.1 * w));
  const size = Math.min(Math.floor(0.9 * w), Math.max(minimum, Math.round(f * w)));
  return size / w;
}

function filingReason(shock: boolean, rng: Rng): FilingReason {
  const u = rng.next();
  if (shock) return u < 0.6 ? 'circumstances' : u < 0.9 ? 'difficulty' : 'restructuring';
  return u < 0.55 ? 'difficulty' : u < 0.75 ? 'circumstances' : u < 0.95 ? 'restructuring' : 'bankruptcy';
}

/**
 * Which precursor signals an episode shows, when each starts and how
 * strongly: each signal is present only with some probability, so no single
 * column gives a layoff away. Furloughs and planned layoffs are only visible
 * for monitored enterprises (the headcount feed).
 */
function chooseSignals(ev: PlannedEvent, monitored: boolean, staff: number, start: number, sigEnd: number, rng: Rng): void {
  const distress = ev.kind === 'distress';
  let bits = 0;
  if (rng.chance(0.5)) bits |= SIG_ARREARS;
  if (rng.chance(0.5)) bits |= SIG_FREEZE;
  if (rng.chance(0.45)) bits |= SIG_WAGE;
  if (rng.chance(0.4)) bits |= SIG_CLAIMS;
  if (monitored && rng.chance(0.5)) bits |= SIG_FURLOUGH;
  if (monitored && rng.chance(distress ? 0.3 : 0.55)) bits |= SIG_PLANNED;
  if (bits === 0) {
    const choices = monitored ? [SIG_ARREARS, SIG_FREEZE, SIG_WAGE, SIG_CLAIMS, SIG_FURLOUGH, SIG_PLANNED] : [SIG_ARREARS, SIG_FREEZE, SIG_WAGE, SIG_CLAIMS];
    bits = rng.pick(choices);
  }
  // A small firm hires and loses too few people for a freeze or a few claims to show; give it a sign that can.
  if (staff < 30 && (bits & (SIG_ARREARS | SIG_WAGE)) === 0) bits |= rng.chance(0.5) ? SIG_ARREARS : SIG_WAGE;
  ev.signals = bits;
  const len = sigEnd - start + 1;
  for (let i = 0; i < 6; i++) ev.onset[i] = start + Math.min(len - 1, Math.floor(len * rng.next() ** 1.5));
  // Former staff's claims build up late; a layoff plan is reported in the last month or two before it.
  ev.onset[5] = start + Math.min(len - 1, Math.floor(len * rng.range(0.4, 1)));
  ev.onset[4] = distress ? start + Math.floor(len / 2) : Math.max(start, sigEnd - rng.int(2));
  ev.wageDrop = rng.range(0.06, 0.25);
  ev.furloughShare = rng.range(0.05, 0.3);
  ev.involRate = rng.range(0.004, 0.015);
  ev.freezeResidual = rng.chance(0.65) ? 0 : rng.range(0.1, 0.35);
}
