/**
 * npm run bench:features -- [--employers 20000] [--months 36] [--setting s1-d0.2] [--train-seed 1] [--test-seed 2]
 *
 * What each group of features adds: gradient-boosted trees (fast to train,
 * services/evaluation/boosting.ts) on the last month of the model's windows,
 * trained on the evaluation's training province and judged by average
 * precision (PR-AUC) on the test province's examples (every employer-month
 * of the last labelled year, label as in training: a layoff of at least the
 * 规模 minimum within 3 months), with all features and with each group left
 * out (its columns zeroed). Needs the databases `npx ews evaluate` loads
 * (ews_eval_<N>x<M>_s<seed>_<setting>). Last line: one JSON object
 * {"all", "without": {group: PR-AUC}}.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.load.js';
import { openDatabase, withDatabaseName } from '../services/db/database.js';
import { fitBoosting, predictBoosting } from '../services/evaluation/boosting.js';
import { precisionRecall } from '../services/evaluation/metrics.js';
import { FEATURE_NAMES, lastSteps } from '../services/scoring/features.js';
import { addMonths } from '../services/domain/period.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { buildTrainingSet, samplingWeights, trainingWindow, type TrainingSet } from '../services/scoring/training.js';
import { wholeNumber } from './args.js';
import { benchServer } from './server.js';

/** The groups left out one at a time (v2's leading signals, and what v1 had). */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  'arrears duration and trend': ['arrears_max6', 'arrears_trend3'],
  'wage per head vs 3 and 12 months': ['wage_vs_3m', 'wage_vs_12m'],
  'months since a hire': ['months_since_hire'],
  'Art. 41 filings': ['filing_planned_rate'],
  "peers' arrears": ['peer_arrears'],
  'history length': ['history_months'],
  'v1: arrears now, wage vs 6-month median': ['arrears', 'wage_per_head_change'],
  'v1: headcount (planned layoffs, furloughs, jobs lost)': ['planned_layoff_rate', 'furlough_rate', 'jobs_lost_rate'],
  'v1: UI claims': ['ui_claim_rate'],
  'v1: separations and hires': ['sep_rate', 'sep_excess_ratio', 'hire_rate', 'net_change'],
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      employers: { type: 'string', default: '20000' },
      months: { type: 'string', default: '36' },
      setting: { type: 'string', default: 's1-d0.2' },
      'train-seed': { type: 'string', default: '1' },
      'test-seed': { type: 'string', default: '2' },
    },
  });
  const employers = wholeNumber('employers', values.employers, 200, 2_000_000);
  const months = wholeNumber('months', values.months, 16, 120);
  const config = loadConfig();
  const server = await benchServer(config);
  const name = (seed: string): string => `ews_eval_${employers}x${months}_s${seed}_${values.setting.replace(/[^a-z0-9]/g, '_')}`;
  const sets: TrainingSet[] = [];
  for (const [seed, keep] of [[values['train-seed'], 0.25], [values['test-seed'], 1]] as const) {
    const database = openDatabase(withDatabaseName(server.url, name(seed)), 2);
    try {
      const series = new SeriesRepository(database);
      const range = await series.historyRange();
      if (range === null) throw new Error(`database ${name(seed)} has no history: run \`npx ews evaluate\` first`);
      const window = trainingWindow(range.first, range.last);
      if ('refused' in window) throw new Error(window.refused);
      // The test province: its last labelled year only, every example kept.
      const from = keep === 1 ? addMonths(window.to, -11) : window.from;
      sets.push(await buildTrainingSet(series, config.scoring.thresholds, { from, to: window.to, negativeKeep: keep, seed: 1 }));
    } finally {
      await database.close();
    }
  }
  await server.stop();
  const [train, test] = sets as [TrainingSet, TrainingSet];
  const F = train.features;
  const last = (s: TrainingSet, zero: readonly number[]): Float32Array => {
    const out = lastSteps(s.x, s.n, 1);
    for (let r = 0; r < s.n; r++) for (const f of zero) out[r * F + f] = 0;
    return out;
  };
  const weights = samplingWeights(train);
  const score = (zero: readonly number[]): number => {
    const model = fitBoosting(last(train, zero), train.y, F, {}, weights);
    const p = predictBoosting(model, last(test, zero), test.n);
    return precisionRecall(Array.from(p, (v, r) => ({ score: v, label: test.y[r] as number }))).auc ?? 0;
  };
  const all = score([]);
  console.log(`train ${train.n} examples (${train.positives} positive), test ${test.n} (${test.positives} positive)`);
  console.log(`all features: PR-AUC ${all.toFixed(3)}`);
  const without: Record<string, number> = {};
  for (const [group, names] of Object.entries(GROUPS)) {
    const idx = names.map((n) => FEATURE_NAMES.indexOf(n));
    if (idx.some((i) => i < 0)) throw new Error(`unknown feature in group ${group}`);
    const v = Math.round(score(idx) * 1000) / 1000;
    without[group] = v;
    console.log(`without ${group.padEnd(52)} ${v.toFixed(3)} (${(v - all >= 0 ? '+' : '') + (v - all).toFixed(3)})`);
  }
  console.log(JSON.stringify({ all: Math.round(all * 1000) / 1000, without }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
