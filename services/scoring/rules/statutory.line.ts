import type { Thresholds } from '../../../config/thresholds.schema.js';
import { atLeast, people, percent } from './rule.types.js';

/**
 * 劳动合同法第四十一条: 裁减人员二十人以上，或者裁减不足二十人但占企业职工总数百分之十以上.
 * Either line is raised to the noise band of the employer's own
 * separations when that is wider: a 10,000-person plant's monthly
 * separations vary by more than 20 on their own, and a 20-person firm that
 * usually loses one person a month loses two or three in some months by
 * chance. Small employers also need a floor of people.
 */
export interface StatutoryTest {
  readonly fires: boolean;
  /** People needed. */
  readonly threshold: number;
  readonly branch: 'absolute' | 'share' | 'closure';
  /** The threshold in words. */
  readonly text: string;
}

export function statutoryLine(count: number, workforce: number, band: number, t: Thresholds): StatutoryTest {
  const law = t.law41;
  const { threshold, branch } = statutoryThreshold(workforce, band, t);
  const fires = workforce > 0 && atLeast(count, threshold);
  if (branch === 'share') {
    return {
      fires,
      threshold,
      branch,
      text:
        threshold > Math.max(law.smallShare * workforce, law.smallFloor)
          ? `≥ ${people(Math.ceil(threshold))} 人（职工 ${people(workforce)} 人的 ${percent(law.smallShare)}，因自身减员波动提高）`
          : `≥ 职工 ${people(workforce)} 人的 ${percent(law.smallShare)}，且 ≥ ${law.smallFloor} 人`,
    };
  }
  const absoluteText = threshold > law.minExcess ? `≥ ${people(Math.ceil(threshold))} 人（${law.minExcess} 人，因自身减员波动提高）` : `≥ ${law.minExcess} 人`;
  return { fires, threshold, branch, text: workforce > 0 ? absoluteText : `${absoluteText}（无在册职工，不适用）` };
}

/**
 * The same test without its words: whether count meets the line. The
 * baselines ask it of every month with an excess, so it builds no text.
 */
export function meetsStatutoryLine(count: number, workforce: number, band: number, t: Thresholds): boolean {
  return workforce > 0 && atLeast(count, statutoryThreshold(workforce, band, t).threshold);
}

/** People the line needs, and which branch of Art. 41 sets it (absolute when there is no workforce: the test does not apply). */
function statutoryThreshold(workforce: number, band: number, t: Thresholds): { threshold: number; branch: 'absolute' | 'share' } {
  const law = t.law41;
  const noise = Number.isFinite(band) ? band : 0;
  const absolute = Math.max(law.minExcess, noise);
  if (workforce > 0 && workforce < law.smallWorkforceBelow) {
    const share = Math.max(law.smallShare * workforce, law.smallFloor, noise);
    if (share < absolute) return { threshold: share, branch: 'share' };
  }
  return { threshold: absolute, branch: 'absolute' };
}

/** The statutory test of a closure: the whole workforce went, which meets the 10% line of any employer (and 20 people when it had them). */
export function closureLine(count: number, workforce: number): StatutoryTest {
  return { fires: true, threshold: Math.min(count, workforce), branch: 'closure', text: `职工 ${people(workforce)} 人全部减员（关停），超过职工总数的 10%` };
}
