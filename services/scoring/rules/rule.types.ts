import { RULE_KIND } from '../../../config/thresholds.schema.js';
import type { RULE_IDS } from '../../../config/thresholds.schema.js';
import type { FindingKind } from '../../domain/explanation.js';

/** Every rule the engine reports; the list and each rule's kind live in config/thresholds.schema.ts. */
export type RuleId = (typeof RULE_IDS)[number];

/**
 * What a finding is: a layoff, a statutory layoff nobody reported (more
 * serious than the layoff itself), a leading sign of distress, or a
 * data-quality finding that is kept apart from layoff risk.
 */
export type RuleKind = FindingKind;

/** 'YYYY-MM' */
export type Period = string;

export interface RuleWindow {
  readonly from: Period;
  readonly to: Period;
}

/** One rule that fired, with the evidence an official needs to check it. */
export interface RuleHit {
  readonly rule: RuleId;
  readonly kind: RuleKind;
  /** The period scored. */
  readonly period: Period;
  /** The months the evidence covers. */
  readonly window: RuleWindow;
  /** The figures behind the finding; always finite. */
  readonly numbers: Readonly<Record<string, number>>;
  /** The threshold applied, in words. */
  readonly threshold: string;
  /** Where the threshold comes from. */
  readonly source: string;
  /** One sentence an official can read. */
  readonly summary: string;
}

/** The kind each rule reports (declared with the rule list in config/thresholds.schema.ts). */
export const KIND_OF: { readonly [R in RuleId]: RuleKind } = RULE_KIND;

/** Rounded to 2 decimals; anything not finite becomes 0, so evidence never carries NaN or Infinity. */
export function clean(value: number): number {
  if (!Number.isFinite(value)) return 0;
  const r = Math.round(value * 100) / 100;
  return Object.is(r, -0) ? 0 : r;
}

export function makeHit(
  rule: RuleId,
  period: Period,
  window: RuleWindow,
  numbers: Record<string, number>,
  text: { threshold: string; source: string; summary: string },
): RuleHit {
  const cleaned: Record<string, number> = {};
  for (const [k, v] of Object.entries(numbers)) cleaned[k] = clean(v);
  return { rule, kind: KIND_OF[rule], period, window, numbers: cleaned, ...text };
}

/** a ≥ b, forgiving the last bits of floating-point arithmetic (a rate × a workforce is rarely exact). */
export function atLeast(a: number, b: number): boolean {
  return a >= b - 1e-9 * Math.max(1, Math.abs(b));
}

/** People, for a sentence: whole numbers. */
export function people(value: number): string {
  return String(Math.round(Number.isFinite(value) ? value : 0));
}

/** A share, for a sentence: '12.5%'. */
export function percent(value: number): string {
  const v = Number.isFinite(value) ? value * 100 : 0;
  return `${Math.round(v * 10) / 10}%`;
}
