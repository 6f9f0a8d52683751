import { periodOrdinal } from '../domain/period.js';
import {
  DEFAULT_CHURN_DISPERSION, DEFAULT_MICRO_CLOSURE_RATE, DEFAULT_SEPARABILITY, MAX_CHURN_DISPERSION, MAX_MICRO_CLOSURE_RATE, MAX_SEPARABILITY,
} from './realism.js';

/** Checked generator options, defaults applied. */
export interface ValidOptions {
  readonly outDir: string;
  readonly employers: number;
  readonly months: number;
  readonly seed: number;
  readonly lastPeriod: string;
  readonly lastOrdinal: number;
  readonly firstOrdinal: number;
  readonly defects: boolean;
  /** Realism knobs (realism.ts); the defaults reproduce the province as before they existed. */
  readonly separability: number;
  readonly microClosureRate: number;
  readonly churnDispersion: number;
}

export const DEFAULT_LAST_PERIOD = '2026-10';
/** Ceilings that keep a typo from filling the disk; the int16 month columns cap the window too. */
const MAX_EMPLOYERS = 20_000_000;
const MAX_MONTHS = 600;

export function validateOptions(o: {
  outDir: unknown; employers: unknown; months: unknown; seed: unknown; lastPeriod?: unknown; defects?: unknown;
  separability?: unknown; microClosureRate?: unknown; churnDispersion?: unknown;
}): ValidOptions {
  if (typeof o.outDir !== 'string' || o.outDir.trim() === '') throw new Error('generateProvince: outDir must be a non-empty path');
  const employers = wholeNumber('employers', o.employers, 1, MAX_EMPLOYERS);
  const months = wholeNumber('months', o.months, 1, MAX_MONTHS);
  if (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed)) {
    throw new Error(`generateProvince: seed must be an integer (safe integer range), got ${String(o.seed)}`);
  }
  const lastPeriod = o.lastPeriod ?? DEFAULT_LAST_PERIOD;
  if (typeof lastPeriod !== 'string') throw new Error('generateProvince: lastPeriod must be a string YYYY-MM');
  const lastOrdinal = periodOrdinal(lastPeriod);
  if (lastOrdinal === null) throw new Error(`generateProvince: lastPeriod must be a month YYYY-MM (01–12), got "${lastPeriod}"`);
  const firstOrdinal = lastOrdinal - months + 1;
  // The feed contract refuses periods before 1990.
  if (firstOrdinal < 1990 * 12) throw new Error(`generateProvince: ${months} months ending ${lastPeriod} would start before 1990-01`);
  if (lastOrdinal > 2100 * 12) throw new Error(`generateProvince: lastPeriod ${lastPeriod} is after 2100`);
  if (o.defects !== undefined && typeof o.defects !== 'boolean') throw new Error('generateProvince: defects must be true or false');
  const separability = realNumber('separability', o.separability, DEFAULT_SEPARABILITY, MAX_SEPARABILITY);
  const microClosureRate = realNumber('microClosureRate', o.microClosureRate, DEFAULT_MICRO_CLOSURE_RATE, MAX_MICRO_CLOSURE_RATE);
  const churnDispersion = realNumber('churnDispersion', o.churnDispersion, DEFAULT_CHURN_DISPERSION, MAX_CHURN_DISPERSION);
  return {
    outDir: o.outDir, employers, months, seed: o.seed, lastPeriod, lastOrdinal, firstOrdinal, defects: o.defects ?? true,
    separability, microClosureRate, churnDispersion,
  };
}

/** An optional number from 0 to max (undefined: the default). */
function realNumber(name: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
    const got = typeof v === 'number' ? String(v) : typeof v === 'string' ? `"${v}"` : v === null ? 'null' : typeof v;
    throw new Error(`generateProvince: ${name} must be a number from 0 to ${max}, got ${got}`);
  }
  return v;
}

function wholeNumber(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`generateProvince: ${name} must be a whole number, got ${String(v)}`);
  if (v < min) throw new Error(`generateProvince: ${name} must be at least ${min}, got ${v}`);
  if (v > max) throw new Error(`generateProvince: ${name} must be at most ${max}, got ${v}`);
  return v;
}
