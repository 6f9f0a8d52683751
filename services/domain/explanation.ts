import { isLevel, type Level } from './level.js';

/**
 * Why an employer or a city got its level: written by scoring as JSON
 * (employer_risk.explanation, city_risk.explanation), read back by alerts,
 * e-mails, the CLI and the API. Rows written by older versions may lack
 * parts: the readers below keep what is well-formed and drop the rest.
 */

/** What a finding is: a layoff, a statutory layoff nobody reported, a leading sign of distress, or a data-quality finding. */
export type FindingKind = 'layoff' | 'unreported' | 'distress' | 'crosscheck';

export const FINDING_KINDS: readonly FindingKind[] = ['layoff', 'unreported', 'distress', 'crosscheck'];

/** One rule that fired, as stored with the employer's level. */
export interface ExplainedFinding {
  rule: string;
  kind: FindingKind;
  /** One sentence an official can read. */
  summary: string;
  /** The months the evidence covers ('YYYY-MM'). */
  window: { from: string; to: string };
  numbers: Record<string, number>;
  threshold: string;
  source: string;
}

/** A feature that stands out against the ordinary employers the model was trained on. */
export interface ModelDriver {
  feature: string;
  value: number;
  /** Standard deviations from the reference, signed so that higher is worse. */
  z: number;
}

export interface EmployerExplanation {
  /** Why the level, in words (levels.ts). */
  reasons: string[];
  rules: ExplainedFinding[];
  model: { version: string | null; probability: number; drivers: ModelDriver[] } | null;
}

export type CitySignalName = 'job_losses' | 'ui_claims_ratio' | 'surveyed_rate';

export interface CitySignal {
  name: CitySignalName;
  value: number | null;
  level: Level | null;
}

export interface CityExplanation {
  signals: CitySignal[];
  /** Feeds missing or partial for the city this month. */
  missing: string[];
}

const record = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function readFinding(v: unknown): ExplainedFinding | null {
  const h = record(v);
  if (!h || typeof h['rule'] !== 'string') return null;
  const kind = (FINDING_KINDS as readonly unknown[]).includes(h['kind']) ? (h['kind'] as FindingKind) : null;
  if (kind === null) return null;
  const window = record(h['window']);
  const numbers: Record<string, number> = {};
  for (const [k, n] of Object.entries(record(h['numbers']) ?? {})) {
    const x = finite(n);
    if (x !== null) numbers[k] = x;
  }
  return {
    rule: h['rule'], kind, summary: text(h['summary']), window: { from: text(window?.['from']), to: text(window?.['to']) },
    numbers, threshold: text(h['threshold']), source: text(h['source']),
  };
}

/** An employer's stored explanation, whatever version wrote it. */
export function readEmployerExplanation(json: unknown): EmployerExplanation {
  const e = record(json);
  const m = record(e?.['model']);
  const probability = finite(m?.['probability']);
  return {
    reasons: list(e?.['reasons']).filter((r): r is string => typeof r === 'string'),
    rules: list(e?.['rules']).map(readFinding).filter((h): h is ExplainedFinding => h !== null),
    model:
      m && probability !== null
        ? {
            version: typeof m['version'] === 'string' ? m['version'] : null,
            probability,
            drivers: list(m['drivers']).flatMap((d) => {
              const r = record(d);
              const value = finite(r?.['value']);
              const z = finite(r?.['z']);
              return r && typeof r['feature'] === 'string' && value !== null && z !== null ? [{ feature: r['feature'], value, z }] : [];
            }),
          }
        : null,
  };
}

const SIGNAL_NAMES: readonly CitySignalName[] = ['job_losses', 'ui_claims_ratio', 'surveyed_rate'];

/** A city's stored explanation, whatever version wrote it. */
export function readCityExplanation(json: unknown): CityExplanation {
  const e = record(json);
  return {
    signals: list(e?.['signals']).flatMap((s) => {
      const r = record(s);
      if (!r || !(SIGNAL_NAMES as readonly unknown[]).includes(r['name'])) return [];
      return [{ name: r['name'] as CitySignalName, value: finite(r['value']), level: isLevel(r['level']) ? r['level'] : null }];
    }),
    missing: list(e?.['missing']).filter((m): m is string => typeof m === 'string'),
  };
}
