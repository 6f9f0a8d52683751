import { SECTION_DIVISIONS } from '../domain/industry.js';

/**
 * How employers differ by GB/T 4754 section: how common and how large they
 * are, pay, turnover, how many migrant workers and fresh graduates they
 * employ, and their seasonal cycle. Figures are calibrated to be plausible,
 * not official statistics.
 */
export const SEASON = { none: 0, construction: 1, agriculture: 2, tourism: 3, food: 4, retail: 5, education: 6 } as const;
export type SeasonId = (typeof SEASON)[keyof typeof SEASON];

export interface SectionProfile {
  readonly section: string;
  /** Share of employers (by count) province-wide, before city boosts. */
  readonly weight: number;
  /** Probability that an employer comes from the heavy (Pareto) size tail. */
  readonly tail: number;
  readonly wageFactor: number;
  /** Mean monthly separation rate. */
  readonly churn: number;
  /** Range of the migrant-worker share of staff. */
  readonly migrant: readonly [number, number];
  /** Share of staff who graduated within two years. */
  readonly graduate: number;
  /** Monthly natural attrition (retirement, death). */
  readonly natural: number;
  readonly season: SeasonId;
  /** Words for the business part of a company name. */
  readonly words: readonly string[];
}

export const SECTION_PROFILES: readonly SectionProfile[] = [
  { section: 'A', weight: 3.5, tail: 0.03, wageFactor: 0.65, churn: 0.025, migrant: [0.2, 0.5], graduate: 0.03, natural: 0.003, season: SEASON.agriculture,
    words: ['农业科技', '农业开发', '生态农业', '茶业', '果业', '种植', '畜牧', '养殖', '林业', '花卉园艺', '中药材种植'] },
  { section: 'B', weight: 0.5, tail: 0.22, wageFactor: 1.15, churn: 0.013, migrant: [0.2, 0.5], graduate: 0.04, natural: 0.004, season: SEASON.none,
    words: ['矿业', '煤业', '能源开发', '天然气开采', '矿产开发', '砂石'] },
  { section: 'C', weight: 14, tail: 0.14, wageFactor: 0.95, churn: 0.027, migrant: [0.2, 0.7], graduate: 0.07, natural: 0.003, season: SEASON.none, words: [] },
  { section: 'D', weight: 1, tail: 0.25, wageFactor: 1.35, churn: 0.009, migrant: [0, 0.05], graduate: 0.08, natural: 0.004, season: SEASON.none,
    words: ['电力', '水电开发', '燃气', '水务', '热力', '新能源发电', '光伏发电'] },
  { section: 'E', weight: 9, tail: 0.12, wageFactor: 0.9, churn: 0.034, migrant: [0.55, 0.9], graduate: 0.04, natural: 0.002, season: SEASON.construction,
    words: ['建筑工程', '建设工程', '路桥工程', '建筑劳务', '装饰工程', '市政工程', '安装工程', '水利水电工程'] },
  { section: 'F', weight: 27, tail: 0.04, wageFactor: 0.8, churn: 0.03, migrant: [0.05, 0.3], graduate: 0.06, natural: 0.002, season: SEASON.retail,
    words: ['商贸', '贸易', '百货', '连锁超市', '五金机电', '医药连锁', '农资', '汽车销售', '电器', '建材销售', '供应链管理'] },
  { section: 'G', weight: 4, tail: 0.08, wageFactor: 0.95, churn: 0.02, migrant: [0.15, 0.45], graduate: 0.05, natural: 0.003, season: SEASON.none,
    words: ['物流', '运输', '快递', '仓储', '客运', '货运', '冷链物流'] },
  { section: 'H', weight: 8, tail: 0.03, wageFactor: 0.7, churn: 0.04, migrant: [0.25, 0.6], graduate: 0.05, natural: 0.001, season: SEASON.tourism,
    words: ['酒店管理', '餐饮管理', '火锅', '宾馆', '餐饮', '串串香', '民宿', '茶楼'] },
  { section: 'I', weight: 5, tail: 0.05, wageFactor: 1.6, churn: 0.02, migrant: [0, 0.05], graduate: 0.25, natural: 0.001, season: SEASON.none,
    words: ['信息技术', '软件', '网络科技', '数据科技', '通信技术', '智能科技', '数字科技', '信息科技'] },
  { section: 'J', weight: 1, tail: 0.1, wageFactor: 1.7, churn: 0.012, migrant: [0, 0.02], graduate: 0.2, natural: 0.002, season: SEASON.none,
    words: ['小额贷款', '融资担保', '投资管理', '保险代理', '典当'] },
  { section: 'K', weight: 4, tail: 0.05, wageFactor: 1.0, churn: 0.018, migrant: [0.05, 0.2], graduate: 0.06, natural: 0.002, season: SEASON.none,
    words: ['房地产开发', '置业', '物业服务', '物业管理', '地产'] },
  { section: 'L', weight: 9, tail: 0.04, wageFactor: 0.9, churn: 0.03, migrant: [0.1, 0.4], graduate: 0.1, natural: 0.002, season: SEASON.none,
    words: ['商务咨询', '人力资源', '企业管理', '广告', '劳务服务', '会展服务', '文化传播'] },
  { section: 'M', weight: 6, tail: 0.04, wageFactor: 1.35, churn: 0.015, migrant: [0, 0.05], graduate: 0.2, natural: 0.002, season: SEASON.none,
    words: ['工程设计', '检测技术', '环境科技', '生物科技', '工程咨询', '测绘', '规划设计'] },
  { section: 'N', weight: 3, tail: 0.05, wageFactor: 0.85, churn: 0.02, migrant: [0.2, 0.5], graduate: 0.04, natural: 0.003, season: SEASON.none,
    words: ['环保科技', '园林绿化', '环卫服务', '水环境治理', '生态环境'] },
  { section: 'O', weight: 3, tail: 0.02, wageFactor: 0.7, churn: 0.032, migrant: [0.2, 0.5], graduate: 0.03, natural: 0.001, season: SEASON.none,
    words: ['家政服务', '汽车维修', '洗涤服务', '美容美发', '保洁服务'] },
  { section: 'P', weight: 1.5, tail: 0.04, wageFactor: 1.0, churn: 0.015, migrant: [0, 0.05], graduate: 0.15, natural: 0.002, season: SEASON.education,
    words: ['教育科技', '职业技能培训', '教育咨询', '艺术培训'] },
  { section: 'Q', weight: 1.5, tail: 0.07, wageFactor: 1.15, churn: 0.012, migrant: [0, 0.05], graduate: 0.15, natural: 0.002, season: SEASON.none,
    words: ['医院管理', '口腔医疗', '康养', '健康管理', '养老服务', '医疗'] },
  { section: 'R', weight: 1.5, tail: 0.03, wageFactor: 0.95, churn: 0.022, migrant: [0.05, 0.3], graduate: 0.1, natural: 0.001, season: SEASON.tourism,
    words: ['文化传媒', '旅游开发', '体育发展', '影视文化', '景区管理', '演艺'] },
  { section: 'S', weight: 0.5, tail: 0.02, wageFactor: 1.0, churn: 0.01, migrant: [0, 0.02], graduate: 0.05, natural: 0.002, season: SEASON.none,
    words: ['餐饮', '物流', '电子', '建筑', '软件', '茶叶', '酒类', '汽车', '家具', '食品'] },
];

export const SECTION_INDEX: ReadonlyMap<string, number> = new Map(SECTION_PROFILES.map((p, i) => [p.section, i]));

/** Manufacturing divisions: how common, migrant intensity, name words, seasonal cycle. */
export interface DivisionProfile {
  readonly division: number;
  readonly weight: number;
  /** Multiplier on the section's migrant share: labour-intensive lines are the Spring Festival's heavy hitters. */
  readonly migrant: number;
  readonly words: readonly string[];
  readonly season: SeasonId;
  readonly wage: number;
}

export const MANUFACTURING: readonly DivisionProfile[] = [
  { division: 13, weight: 7, migrant: 1.0, words: ['食品', '农副产品加工', '粮油', '饲料', '肉类加工'], season: SEASON.food, wage: 0.85 },
  { division: 14, weight: 5, migrant: 0.9, words: ['食品', '调味品', '火锅底料', '食品科技'], season: SEASON.food, wage: 0.85 },
  { division: 15, weight: 4, migrant: 0.7, words: ['酒业', '酿酒', '茶饮品', '饮料'], season: SEASON.none, wage: 1.0 },
  { division: 17, weight: 2, migrant: 1.2, words: ['纺织', '丝绸', '麻纺'], season: SEASON.none, wage: 0.8 },
  { division: 18, weight: 3, migrant: 1.3, words: ['服饰', '服装', '制衣'], season: SEASON.none, wage: 0.78 },
  { division: 19, weight: 2, migrant: 1.3, words: ['鞋业', '皮革制品'], season: SEASON.none, wage: 0.78 },
  { division: 20, weight: 1.5, migrant: 1.0, words: ['木业', '竹木制品'], season: SEASON.none, wage: 0.8 },
  { division: 21, weight: 3, migrant: 1.2, words: ['家具', '家居'], season: SEASON.none, wage: 0.85 },
  { division: 22, weight: 1.5, migrant: 0.9, words: ['纸业', '包装'], season: SEASON.none, wage: 0.85 },
  { division: 23, weight: 1.5, migrant: 0.8, words: ['印务', '印刷'], season: SEASON.none, wage: 0.9 },
  { division: 26, weight: 5, migrant: 0.6, words: ['化工', '精细化工', '盐化工', '天然气化工', '化肥'], season: SEASON.none, wage: 1.05 },
  { division: 27, weight: 3, migrant: 0.4, words: ['药业', '制药', '生物医药', '中药饮片'], season: SEASON.none, wage: 1.15 },
  { division: 29, weight: 2.5, migrant: 0.9, words: ['塑料制品', '橡胶制品', '塑胶'], season: SEASON.none, wage: 0.85 },
  { division: 30, weight: 5, migrant: 0.9, words: ['建材', '水泥', '玻璃', '陶瓷', '新型墙材'], season: SEASON.none, wage: 0.9 },
  { division: 31, weight: 1.5, migrant: 0.6, words: ['钢铁', '特钢', '钢管'], season: SEASON.none, wage: 1.1 },
  { division: 32, weight: 1.5, migrant: 0.6, words: ['钒钛', '有色金属', '铝业', '锂业'], season: SEASON.none, wage: 1.1 },
  { division: 33, weight: 3, migrant: 1.0, words: ['金属制品', '五金制品', '钢结构'], season: SEASON.none, wage: 0.9 },
  { division: 34, weight: 4, migrant: 0.7, words: ['机械', '通用设备', '阀门', '泵业'], season: SEASON.none, wage: 1.05 },
  { division: 35, weight: 3, migrant: 0.6, words: ['重型装备', '专用设备', '工程机械', '智能装备'], season: SEASON.none, wage: 1.1 },
  { division: 36, weight: 2.5, migrant: 0.9, words: ['汽车零部件', '汽车配件', '新能源汽车'], season: SEASON.none, wage: 1.05 },
  { division: 37, weight: 1, migrant: 0.5, words: ['轨道交通装备', '航空零部件'], season: SEASON.none, wage: 1.2 },
  { division: 38, weight: 3, migrant: 0.8, words: ['电气', '电缆', '电池', '储能科技'], season: SEASON.none, wage: 1.05 },
  { division: 39, weight: 4, migrant: 1.2, words: ['电子科技', '光电', '微电子', '电子元件', '显示科技'], season: SEASON.none, wage: 1.05 },
  { division: 40, weight: 1, migrant: 0.4, words: ['仪器仪表', '精密仪器'], season: SEASON.none, wage: 1.15 },
  { division: 42, weight: 0.7, migrant: 0.8, words: ['再生资源', '资源循环利用'], season: SEASON.none, wage: 0.85 },
];

const DIVISIONS = new Map(
  Object.entries(SECTION_DIVISIONS).map(([section, [lo, hi]]) => [section, Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)] as const),
);

/** Divisions of a (non-C) section to choose from when an employer reports one. */
export function sectionDivisions(section: string): readonly number[] {
  return DIVISIONS.get(section) ?? [];
}

/**
 * Extra hires and separations per calendar month (index 0 = January), as
 * fractions of staff. Each profile balances over the year so it adds a
 * cycle, not a trend.
 */
export const SEASON_RATES: readonly { readonly hire: readonly number[]; readonly sep: readonly number[] }[] = [
  { hire: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], sep: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  // construction: spring start-up, summer rains slow sites, autumn push, winter wind-down
  { hire: [0, 0, 0.02, 0.015, 0.005, 0, 0, 0, 0.012, 0.005, 0, 0], sep: [0.01, 0, 0, 0, 0, 0.005, 0.012, 0.01, 0, 0, 0.01, 0.01] },
  // agriculture: planting and harvest labour
  { hire: [0, 0, 0.035, 0.03, 0.02, 0.005, 0, 0.01, 0.015, 0, 0, 0], sep: [0.01, 0, 0, 0, 0, 0, 0.005, 0, 0, 0.035, 0.035, 0.03] },
  // tourism (scaled by the city's tourism weight): the plateau season runs May to October
  { hire: [0, 0, 0.01, 0.08, 0.07, 0.02, 0.01, 0, 0, 0, 0, 0], sep: [0.01, 0, 0, 0, 0, 0, 0, 0, 0.01, 0.08, 0.07, 0.02] },
  // food processing: harvest intake and the Mid-Autumn / year-end peak
  { hire: [0, 0, 0, 0, 0, 0, 0.01, 0.05, 0.03, 0.01, 0.01, 0], sep: [0.01, 0, 0, 0, 0, 0, 0, 0, 0, 0.02, 0.04, 0.04] },
  // retail: year-end and Spring Festival sales staff
  { hire: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.01, 0.015], sep: [0, 0.015, 0.01, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  // education: the school year
  { hire: [0, 0.01, 0, 0, 0, 0, 0, 0.02, 0.02, 0, 0, 0], sep: [0.01, 0, 0, 0, 0, 0.015, 0.025, 0, 0, 0, 0, 0] },
];
