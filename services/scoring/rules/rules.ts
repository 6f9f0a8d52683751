import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { ScoringContext, SeriesBatch } from '../series.js';
import { crosscheckRules } from './crosscheck.rules.js';
import { distressRules } from './distress.rules.js';
import { transientEmployerView } from './employer.view.js';
import { layoffRules } from './layoff.rules.js';
import type { RuleHit } from './rule.types.js';
import { analyseHistory } from './separations.baseline.js';

/**
 * Every rule for one employer in the last month of the batch (the period
 * scored): layoff findings first (most serious first), then distress, then
 * data-quality findings. Pure; bad or missing input yields fewer hits, never
 * NaN and never a throw.
 */
export function evaluateRules(batch: SeriesBatch, employer: number, ctx: ScoringContext, t: Thresholds): RuleHit[] {
  if (!Number.isInteger(employer) || employer < 0 || employer >= batch.size || !(batch.months >= 1)) return [];
  // The view is not kept: every hit copies the numbers it shows.
  const v = transientEmployerView(batch, employer);
  const h = analyseHistory(v, ctx, t);
  const m = v.months - 1;
  return [...layoffRules(v, h, ctx, m, t), ...distressRules(v, m, t), ...crosscheckRules(v, m, t)];
}
