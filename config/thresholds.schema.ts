import { z } from 'zod';

/**
 * Thresholds of the layoff rules (services/scoring/rules) and the mapping of
 * rule hits and model probabilities to warning levels Ⅰ–Ⅳ. Every field has a
 * default; the comment on each says where the default comes from. Only the
 * statutory line (劳动合同法第四十一条) is law: the larger tiers are borrowed
 * from local plans (杭州, 山东, 威海) and peers (US BLS MLS), and the rest are
 * our own design choices, marked "ours". Sources: ../shared/research/domain-dossier.md §1, §6.
 */

/** Every rule the engine can report, with the kind of finding it is. */
export const RULE_KIND = {
  law41: 'layoff',
  cumulative12: 'layoff',
  closure600: 'layoff',
  cut300of600: 'layoff',
  concentrated200: 'layoff',
  unreported: 'unreported',
  uiClaimsSurge: 'distress',
  arrears: 'distress',
  plannedLayoffs: 'distress',
  distressSignals: 'distress',
  crosscheck: 'crosscheck',
  transferMatched: 'crosscheck',
  reportGap: 'crosscheck',
} as const;

export const RULE_IDS = [
  'law41',
  'cumulative12',
  'closure600',
  'cut300of600',
  'concentrated200',
  'unreported',
  'uiClaimsSurge',
  'arrears',
  'plannedLayoffs',
  'distressSignals',
  'crosscheck',
  'transferMatched',
  'reportGap',
] as const satisfies readonly (keyof typeof RULE_KIND)[];

const int = (min: number) => z.number().int().min(min);
const share = () => z.number().refine((v) => v > 0 && v <= 1, 'must be a share in (0, 1]: write 10% as 0.1');
const probability = () => z.number().refine((v) => v > 0 && v <= 1, 'must be a probability in (0, 1]');
const ruleId = z.enum(RULE_IDS);

const baselineSchema = z
  .object({
    /** Months of the employer's own history whose median (or, for small counts, mean) separation rate is its level (ours; one year, as 稳岗返还 measures 裁员率 over a year). */
    windowMonths: int(1).max(36).default(12),
    /** Fewer usable months than this: fall back to `fallbackChurnRate` (ours; a median of fewer than 3 is not robust). */
    minHistoryMonths: int(1).default(3),
    /** Monthly separation rate assumed without history (ours; 攀枝花 monitored firms lose 0.4–1% net a month, gross separations in labour-intensive sectors run 2–4%). */
    fallbackChurnRate: share().default(0.03),
    /** Earlier years whose same calendar month sets the seasonal factor (ours). */
    seasonalYears: int(1).max(5).default(3),
    /** Cap on the seasonal factor, so one odd year cannot blind the rule (ours; a plateau tourism employer's closing month runs 4–5× its normal churn). */
    maxSeasonalFactor: z.number().min(1).default(8),
    /**
     * Noise band z: separations must reach the count an ordinary month exceeds with the one-sided probability of z normal
     * sigmas (exact Poisson tail around `expected`), or z·(the history's MAD spread) + (z² − 1)/6 when wider; every line is
     * raised to it. Ours: a province scores about 200,000 small-firm months a year, so z = 3 (1 in 740) let chance months of
     * 5–40-person firms outnumber real layoffs; on the synthetic province z = 4.5 (about 1 in 300,000) raised the rules'
     * precision from 0.52 to 0.88 and cost 0.03 of recall.
     */
    noiseSigmas: z.number().min(0).max(10).default(4.5),
    /**
     * The band is the quasi-Poisson tail under the employer's own dispersion φ (variance / mean of its ordinary monthly
     * separations; rules/dispersion.ts): real payroll churn is over-dispersed (leavers come in lumps), so a Poisson tail
     * flags ordinary months of large employers. φ is shrunk towards that of the employer's industry section × size band
     * peers with this many months of weight, so a short history leans on its peers (ours).
     */
    dispersionPriorMonths: z.number().min(0).max(60).default(6),
    /** Ceiling on φ, so one wild history cannot blind the rule (ours; φ = 10 already doubles a 100-person firm's band). */
    maxDispersion: z.number().min(1).max(100).default(10),
    springFestival: z
      .object({
        /** Calendar months of the Spring Festival migration (DOMAIN.md: January–March departures and returns). The festival moves between late January and mid-February, so these months share one budget per season, learned from earlier seasons, and are left out of the level. */
        months: z.array(int(1).max(12)).default([1, 2, 3]),
        /** Without an earlier season and without `separated_migrant`: festival departures allowed for the season as a share of staff (ours; about 12% of migrant staff go home and leave their job, and the most migrant-heavy firms are 80–90% migrant). */
        noHistoryShare: share().default(0.1),
        /** Without an earlier season but with `separated_migrant`: migrant separations above their usual level count as festival departures, up to this share of staff for the season (ours). */
        maxShare: share().default(0.15),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

type RuleIdValue = (typeof RULE_IDS)[number];

interface LevelDefaults {
  readonly rules: readonly RuleIdValue[];
  readonly probability: number | null;
  readonly minJobs: number;
  readonly layoffJobs: number | null;
  readonly ruleJobs?: number;
  readonly minExpectedJobs: number;
}

/** One level's triggers; each level has its own defaults, so overriding one field keeps the others. */
function levelSchema(d: LevelDefaults) {
  return z
    .object({
      /** A hit of any of these rules sets the level. */
      rules: z.array(ruleId).default([...d.rules]),
      /** Model path: probability ≥ this and jobs at stake ≥ `minJobs`; null = the model alone never reaches this level. */
      probability: probability().nullable().default(d.probability),
      minJobs: int(0).default(d.minJobs),
      /** Model path, too: expected job losses (probability × jobs at stake) ≥ this, so a likely layoff of a handful of people does not outrank an uncertain one of hundreds. */
      minExpectedJobs: z.number().min(0).default(d.minExpectedJobs),
      /** Size path: any layoff hit with jobs at stake ≥ this; null = off. */
      layoffJobs: int(0).nullable().default(d.layoffJobs),
      /** The listed rules set this level only with at least this many jobs at stake (a 10-person firm's unreported layoff is Ⅲ, not Ⅱ). */
      ruleJobs: int(0).default(d.ruleJobs ?? 0),
    })
    .strict()
    .prefault({});
}

export const thresholdsSchema = z
  .object({
    baseline: baselineSchema,
    law41: z
      .object({
        /** 劳动合同法第四十一条: 裁减人员二十人以上. */
        minExcess: int(1).default(20),
        /** 劳动合同法第四十一条: 不足二十人但占企业职工总数百分之十以上 — the share branch applies below this workforce (20 / 10% = 200). */
        smallWorkforceBelow: int(1).default(200),
        smallShare: share().default(0.1),
        /** Ours: the share branch needs at least this many people, so a 5-person firm losing 1 extra person does not fire; at 2, firms under 30 staff losing 2 by chance fired several times as often as real layoffs on the synthetic province. */
        smallFloor: int(1).default(3),
        /** A layoff straddling a month end: the two months together meet the line (§6 R-LAW-41 "any rolling 30 days"). */
        twoMonths: z.boolean().default(true),
        /**
         * Closure: an employer whose insured staff fall to zero, its own separations (not transfers) taking at least
         * closureShare of the workforce it had closureMonths before, has shed all its staff, whatever its usual churn.
         * Ours: on the synthetic province a fall to zero from 3 or more staff was a closure 267 times in 269; from 2, 60 times in 99.
         */
        closureMinWorkforce: int(1).default(3),
        /**
         * From fewer staff (down to this many), a fall to zero is a closure only with corroboration in its months:
         * social-insurance arrears, or former staff claiming unemployment insurance (paid only to those who lost their job
         * against their will, 失业保险条例第十四条). Ours: on two synthetic provinces (seeds 1 and 3) a corroborated fall to zero
         * from 2 staff was a closure 93 times in 99 (uncorroborated, 28 in 99); from 1 staff, 126 in 156.
         */
        corroboratedClosureMinWorkforce: int(1).default(1),
        closureMonths: int(1).max(6).default(3),
        closureShare: share().default(0.8),
      })
      .strict()
      .prefault({}),
    transfer: z
      .object({
        /** A new employer code whose first-month insured or hired is within ±this share of the excess takes the staff over (ours; 攀枝花 2023-03, 1,300 moved). */
        tolerance: share().default(0.25),
        /** Only excesses of at least this many people are matched against new codes, so small firms' noise is not explained away by chance (ours). */
        minBlock: int(1).default(10),
        /** Require the new code in the same GB/T 4754 section (ours; restructurings keep the business line, and it keeps a big city's many new firms from masking layoffs). */
        sameSection: z.boolean().default(true),
        /** Not a transfer when former staff's new UI claims in those months exceed their usual by more than max(2, this share of the block): transferred staff do not claim (ours; 社会保险法第四十五条). */
        maxClaimShare: share().default(0.05),
      })
      .strict()
      .prefault({}),
    cumulative12: z
      .object({
        /** 威海 2008: 一个年度内累计裁员占职工总数 10% 以上. */
        months: int(2).max(24).default(12),
        share: share().default(0.1),
        /** Ours: at least this many people. */
        floor: int(1).default(10),
      })
      .strict()
      .prefault({}),
    closure600: z
      .object({
        /** 杭州失业应急预案 一级: 单个企业关停破产 600 人以上失业. */
        minJobs: int(1).default(600),
        /** Ours: months without a row before a silent employer counts as closed (one missing month is a report gap, not a closure). */
        silentMonths: int(1).max(6).default(2),
        /** Ours: a wind-down spread over this many months still counts as one closure. */
        lookbackMonths: int(1).max(12).default(6),
      })
      .strict()
      .prefault({}),
    cut300of600: z
      .object({
        /** 杭州失业应急预案 一级: 从业 600 人以上的企业一次性裁员 300 人以上. */
        minExcess: int(1).default(300),
        minWorkforce: int(1).default(600),
      })
      .strict()
      .prefault({}),
    concentrated200: z
      .object({
        /** 山东 失业预警: 单个企业集中裁员 200 人以上. */
        minExcess: int(1).default(200),
      })
      .strict()
      .prefault({}),
    uiClaims: z
      .object({
        /** US BLS Mass Layoff Statistics: 50 initial claims in 5 weeks; Chinese claim rates are lower (ours: 30 in 2 months). */
        windowMonths: int(1).max(6).default(2),
        minClaims: int(1).default(30),
        /** Ours: and at least this multiple of the employer's own claims in a window of the same length. */
        minRatio: z.number().min(1).default(2),
        /** Ours: months of history for the claims baseline. */
        baselineMonths: int(1).max(36).default(12),
      })
      .strict()
      .prefault({}),
    arrears: z
      .object({
        /** 社会保险法第八十六条 defines 欠缴; 2 months and 2 months without improvement are ours (dossier §6 R-ARREARS). */
        minMonths: int(1).default(2),
        steadyMonths: int(1).max(12).default(2),
      })
      .strict()
      .prefault({}),
    distress: z
      .object({
        /** Ours: at least this many of hiring freeze, wage drop and furlough in the same month. */
        minSignals: int(1).max(3).default(2),
        /** Hiring freeze (增员 falls to zero): this many months in a row ... */
        freezeMonths: int(1).max(12).default(2),
        /** ... at no more than this share of the usual monthly hires ... */
        freezeMaxShare: z.number().min(0).max(1).default(0.1),
        /** ... by an employer that usually hires at least this many a month. */
        freezeMinNormalHires: z.number().min(0).default(3),
        /** Wage base per head down by at least this share against its median of `wageMonths` months (ours). */
        wageDropShare: share().default(0.1),
        wageMonths: int(1).max(24).default(6),
        /** 停工待岗 at least this share of jobs and this many people (ours; 攀枝花 隐性失业 runs 1–2%). */
        furloughShare: share().default(0.1),
        furloughFloor: int(1).default(3),
      })
      .strict()
      .prefault({}),
    unreported: z
      .object({
        /** A filing whose effective date is within the layoff window ± this many months counts (ours). */
        marginMonths: int(0).max(6).default(1),
        /** 劳动合同法第四十一条: 提前三十日 — shorter notice is noted in the evidence. */
        noticeDays: int(1).default(30),
        /** A closure ends contracts under 劳动合同法第四十四条 (破产、关闭), not Art. 41: no 未报告 finding for it. */
        skipClosures: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    crosscheck: z
      .object({
        /** Ours: 社保 insured and 用工监测 jobs_end apart by more than max(minGap, share × the larger). */
        minGap: int(0).default(10),
        share: share().default(0.15),
      })
      .strict()
      .prefault({}),
    /**
     * 规模: a layoff or closure whose jobs at stake are below `minJobs` never reaches Ⅲ or above on its own; it is
     * listed at Ⅳ (watch) and still counts in the city's aggregates. Default 10, ours: 规模裁员 is about scale. The
     * statutory line is 20 people (劳动合同法第四十一条), with a 10% branch that, applied literally, makes the closure of a
     * 3-person firm "statutory"; local tiers start at 20 (Art. 41), 200 (山东) and 300/600 (杭州), peers abroad at 30
     * (Japan) and 50 (US BLS MLS). 10 is half the statutory line and the 10% branch at a 100-person firm: below it a
     * city office has no 规模 to act on, and on an independently generated province 71% of false Ⅲ+ alerts were
     * closures of firms with 5 or fewer insured staff. Set 0 to follow the letter of Art. 41 alone.
     */
    scale: z
      .object({
        minJobs: int(0).default(10),
      })
      .strict()
      .prefault({}),
    /** Four levels in the convention of Chinese emergency warnings (ours; DOMAIN.md "Warning levels"). */
    levels: z
      .object({
        /** Ⅰ 红色 特别严重: 杭州 一级 tiers, or 500+ jobs at stake with a layoff hit (ours); the model alone does not reach Ⅰ. */
        I: levelSchema({ rules: ['closure600', 'cut300of600'], probability: null, minJobs: 500, layoffJobs: 500, minExpectedJobs: 0 }),
        /** Ⅱ 橙色 严重: 山东 200, an unreported statutory layoff, or the model at 0.8 with 100+ jobs at stake and 80+ expected job losses (ours). */
        II: levelSchema({ rules: ['concentrated200', 'unreported'], probability: 0.8, minJobs: 100, layoffJobs: null, ruleJobs: 20, minExpectedJobs: 80 }),
        /** Ⅲ 黄色 较重: the statutory line (劳动合同法第四十一条) or 威海 cumulative 10%, or the model at 0.5 with the 规模 minimum of jobs at stake (10) and 5+ expected job losses (ours). */
        III: levelSchema({ rules: ['law41', 'cumulative12'], probability: 0.5, minJobs: 10, layoffJobs: null, minExpectedJobs: 5 }),
        /** Ⅳ 蓝色 一般: leading distress signals, a layoff below the 规模 minimum, or the model at 0.3 with 2+ expected job losses (ours). */
        IV: levelSchema({ rules: ['uiClaimsSurge', 'arrears', 'plannedLayoffs', 'distressSignals'], probability: 0.3, minJobs: 0, layoffJobs: null, minExpectedJobs: 2 }),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((t, ctx) => {
    const issue = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const b = t.baseline;
    if (b.windowMonths < 3) {
      issue(['baseline', 'windowMonths'], `baseline.windowMonths is ${b.windowMonths}: a median of fewer than 3 months is not robust; use 3 or more (default 12)`);
    }
    if (b.minHistoryMonths > b.windowMonths) {
      issue(
        ['baseline', 'minHistoryMonths'],
        `baseline.minHistoryMonths (${b.minHistoryMonths}) exceeds baseline.windowMonths (${b.windowMonths}): no employer could ever have enough history; lower it or widen the window`,
      );
    }
    if (new Set(b.springFestival.months).size !== b.springFestival.months.length) {
      issue(['baseline', 'springFestival', 'months'], 'baseline.springFestival.months lists a month twice; list each calendar month (1–12) once');
    }
    if (b.springFestival.noHistoryShare > b.springFestival.maxShare) {
      issue(
        ['baseline', 'springFestival', 'noHistoryShare'],
        `baseline.springFestival.noHistoryShare (${b.springFestival.noHistoryShare}) exceeds baseline.springFestival.maxShare (${b.springFestival.maxShare}): the allowance without migrant data cannot be larger than the most the festival may explain`,
      );
    }
    if (t.law41.smallFloor > t.law41.minExcess) {
      issue(
        ['law41', 'smallFloor'],
        `law41.smallFloor (${t.law41.smallFloor}) exceeds law41.minExcess (${t.law41.minExcess}): the 10% branch for small employers would be stricter than the 20-person line; lower smallFloor`,
      );
    }
    if (t.law41.corroboratedClosureMinWorkforce > t.law41.closureMinWorkforce) {
      issue(
        ['law41', 'corroboratedClosureMinWorkforce'],
        `law41.corroboratedClosureMinWorkforce (${t.law41.corroboratedClosureMinWorkforce}) exceeds law41.closureMinWorkforce (${t.law41.closureMinWorkforce}): corroboration is asked of employers too small for a closure on its own; set it to closureMinWorkforce or lower`,
      );
    }
    if (t.concentrated200.minExcess < t.law41.minExcess) {
      issue(
        ['concentrated200', 'minExcess'],
        `concentrated200.minExcess (${t.concentrated200.minExcess}) is below law41.minExcess (${t.law41.minExcess}): a Ⅱ-level tier cannot be smaller than the statutory line; raise it`,
      );
    }
    if (t.cut300of600.minWorkforce < t.cut300of600.minExcess) {
      issue(
        ['cut300of600', 'minWorkforce'],
        `cut300of600.minWorkforce (${t.cut300of600.minWorkforce}) is below its cut cut300of600.minExcess (${t.cut300of600.minExcess}): an employer cannot cut more people than it has; raise minWorkforce to at least ${t.cut300of600.minExcess}`,
      );
    }
    if (t.cut300of600.minExcess < t.concentrated200.minExcess) {
      issue(
        ['cut300of600', 'minExcess'],
        `cut300of600.minExcess (${t.cut300of600.minExcess}) is below concentrated200.minExcess (${t.concentrated200.minExcess}): the Ⅰ-level cut would be smaller than the Ⅱ-level one; raise it or lower concentrated200`,
      );
    }
    if (t.uiClaims.baselineMonths < t.uiClaims.windowMonths) {
      issue(
        ['uiClaims', 'baselineMonths'],
        `uiClaims.baselineMonths (${t.uiClaims.baselineMonths}) is shorter than uiClaims.windowMonths (${t.uiClaims.windowMonths}): the baseline must cover at least one window`,
      );
    }

    const names = ['I', 'II', 'III', 'IV'] as const;
    const label = { I: 'Ⅰ', II: 'Ⅱ', III: 'Ⅲ', IV: 'Ⅳ' } as const;
    let prev: { name: (typeof names)[number]; p: number } | undefined;
    for (const name of names) {
      const p = t.levels[name].probability;
      if (p === null) continue;
      if (prev && p >= prev.p) {
        issue(
          ['levels', name, 'probability'],
          `levels.${name}.probability (${p}) is not below levels.${prev.name}.probability (${prev.p}): probability cut-offs must fall strictly from Ⅰ to Ⅳ (${label[prev.name]} > ${label[name]})`,
        );
      }
      prev = { name, p };
    }
    for (let i = 1; i < names.length; i++) {
      const hi = names[i - 1] as (typeof names)[number];
      const lo = names[i] as (typeof names)[number];
      if (t.levels[hi].minJobs < t.levels[lo].minJobs) {
        issue(
          ['levels', hi, 'minJobs'],
          `levels.${hi}.minJobs (${t.levels[hi].minJobs}) is below levels.${lo}.minJobs (${t.levels[lo].minJobs}): a higher level must not need fewer jobs at stake than a lower one`,
        );
      }
    }
    const seen = new Map<string, string>();
    for (const name of names) {
      t.levels[name].rules.forEach((rule, i) => {
        if (RULE_KIND[rule] === 'crosscheck') {
          issue(['levels', name, 'rules', i], `levels.${name}.rules lists ${rule}, a data-quality finding: crosscheck findings never raise a layoff level; remove it`);
        }
        const other = seen.get(rule);
        if (other !== undefined) {
          issue(['levels', name, 'rules', i], `rule ${rule} is listed in both levels.${other} and levels.${name}; list each rule in one level`);
        }
        seen.set(rule, name);
      });
    }
  });

export type Thresholds = z.infer<typeof thresholdsSchema>;
export type ThresholdsInput = z.input<typeof thresholdsSchema>;
export type LevelKey = keyof Thresholds['levels'];

/** The defaults, parsed and frozen. */
export const defaultThresholds: Thresholds = deepFreeze(thresholdsSchema.parse({}));

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
