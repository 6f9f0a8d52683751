import type { Rng } from './random.js';
import type { UsccType } from './uscc.compose.js';

/**
 * 单位名称 in the usual pattern 行政区划 + 字号 + 行业 + 组织形式
 * (成都鑫瑞电子科技有限公司). A few carry an ASCII quote or comma, as
 * hand-typed registers do, so CSV quoting gets exercised.
 */
const BRAND_CHARS = [...'天华鑫蜀锦川宏瑞恒泰盛达通金新兴佳康源隆德嘉和信安润博海中龙凯明远峰晨宇永丰正鼎诚创汇聚科力腾航星光银长江岷峨青城府巴众利美维联晟昌富顺益'];
export const BRAND_COUNT = BRAND_CHARS.length * BRAND_CHARS.length;

/** The two-character 字号 for a brand number. */
export function brandText(brand: number): string {
  const n = BRAND_CHARS.length;
  const a = BRAND_CHARS[Math.floor(brand / n) % n] ?? '天';
  const b = BRAND_CHARS[brand % n] ?? '华';
  return a === b ? `${a}${BRAND_CHARS[(brand + 7) % n] ?? '达'}` : a + b;
}

const NONPROFIT_FORMS = ['中心', '学校', '服务中心', '研究院'];
const ASSOCIATION_FORMS = ['行业协会', '商会', '促进会'];
const LARGE_FORMS = ['股份有限公司', '集团有限公司', '有限公司', '有限责任公司', '股份有限公司'];
const BRANCH_SUFFIXES = ['第一分公司', '经营部', '项目部'];

export type NameQuirk = 'none' | 'quote' | 'comma';

export interface NameParts {
  readonly type: UsccType;
  readonly cityShort: string;
  readonly brand: number;
  readonly word: string;
  readonly large: boolean;
  readonly quirk: NameQuirk;
}

export function composeName(p: NameParts, rng: Rng): string {
  const brand = p.quirk === 'quote' ? `"${brandText(p.brand)}"` : brandText(p.brand);
  let name: string;
  switch (p.type) {
    case '93':
      name = `${p.cityShort}${brand}${p.word}专业合作社`;
      break;
    case '52':
      name = `${p.cityShort}${brand}${p.word}${rng.pick(NONPROFIT_FORMS)}`;
      break;
    case '51':
      name = `${p.cityShort}市${p.word}${rng.pick(ASSOCIATION_FORMS)}`;
      break;
    case '91': {
      const u = rng.next();
      const form = p.large
        ? rng.pick(LARGE_FORMS)
        : rng.chance(0.82)
          ? '有限公司'
          : '有限责任公司';
      if (u < 0.6) name = `${p.cityShort}${brand}${p.word}${form}`;
      else if (u < 0.85) name = `四川${brand}${p.word}${form}`;
      else if (u < 0.95) name = `${brand}（${p.cityShort}）${p.word}${form}`;
      else name = `四川${brand}${p.word}${form}${p.cityShort}分公司`;
      break;
    }
    default:
      p.type satisfies never;
      name = `${p.cityShort}${brand}${p.word}有限公司`;
  }
  if (p.quirk === 'comma') name = `${name},${rng.pick(BRANCH_SUFFIXES)}`;
  return name;
}
