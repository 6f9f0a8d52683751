import { CITIES } from '../../config/cities.js';

/**
 * What makes each of the 21 cities different in the synthetic province:
 * how many employers it has, what they do, what they pay, and how its
 * social-insurance office fills the optional columns. Weights follow the
 * 2020 census (millions) scaled by how industrial the city is; Chengdu is
 * pinned near 38% of employers, as in the real register.
 */
export interface CityProfile {
  readonly code: string;
  readonly short: string;
  /** Relative number of employers (before Chengdu is pinned). */
  readonly weight: number;
  /** Average per-head contribution base (yuan/month). */
  readonly wage: number;
  /** County-level suffixes (last two digits) used for employers' region codes. */
  readonly counties: readonly string[];
  /** Multipliers on the province-wide section mix. */
  readonly sectionBoost: Readonly<Record<string, number>>;
  /** Multipliers on manufacturing divisions (C13 … C43). */
  readonly divisionBoost: Readonly<Record<number, number>>;
  /** Surveyed unemployment rate in a calm month (%). */
  readonly unemploymentRate: number;
  /** Does the city publish a surveyed rate? (small samples in the plateau prefectures do not.) */
  readonly surveyed: boolean;
  /** Tourism seasonality of H and R employers, 0–1. */
  readonly tourism: number;
  /** Optional columns the local system fills (false: always empty). */
  readonly reports: { readonly uiClaims: boolean; readonly migrant: boolean; readonly graduate: boolean; readonly natural: boolean };
  /** separated_transfer written as 0 when none (true) or left empty (false). */
  readonly transferZero: boolean;
}

const RURAL = { A: 2.2, C: 0.9, I: 0.5, J: 0.7, M: 0.6 };
const ALL = { uiClaims: true, migrant: true, graduate: true, natural: true };

const PROFILES: readonly Omit<CityProfile, 'code'>[] = [
  { short: '成都', weight: 0, wage: 7800, counties: ['04', '05', '06', '07', '08', '12', '13', '14', '15', '16', '17', '18', '21', '29', '31', '81', '82', '83', '84', '85'],
    sectionBoost: { A: 0.3, C: 1.1, I: 2.4, J: 1.6, L: 1.4, M: 1.7, K: 1.2, R: 1.3 }, divisionBoost: { 39: 3, 27: 2, 36: 2, 34: 1.5, 38: 1.5 },
    unemploymentRate: 5.1, surveyed: true, tourism: 0, reports: ALL, transferZero: true },
  { short: '自贡', weight: 2.49, wage: 5300, counties: ['02', '03', '04', '11', '21', '22'], sectionBoost: { ...RURAL, C: 1.4 },
    divisionBoost: { 26: 3, 34: 2, 35: 1.5 }, unemploymentRate: 5.3, surveyed: true, tourism: 0.1, reports: ALL, transferZero: false },
  { short: '攀枝花', weight: 1.21 * 1.6, wage: 6800, counties: ['02', '03', '11', '21', '22'], sectionBoost: { B: 5, C: 1.6, D: 2.5, A: 1.2 },
    divisionBoost: { 31: 6, 32: 5, 26: 1.5 }, unemploymentRate: 5.2, surveyed: true, tourism: 0.1, reports: ALL, transferZero: true },
  { short: '泸州', weight: 4.25, wage: 5700, counties: ['02', '03', '04', '21', '22', '24', '25'], sectionBoost: { C: 1.5, D: 1.5, A: 1.5 },
    divisionBoost: { 15: 8, 26: 2.5 }, unemploymentRate: 5.0, surveyed: true, tourism: 0.1, reports: ALL, transferZero: false },
  { short: '德阳', weight: 3.46 * 1.3, wage: 6000, counties: ['03', '04', '23', '81', '82', '83'], sectionBoost: { C: 2.0, A: 1.2 },
    divisionBoost: { 34: 4, 35: 4, 38: 3, 26: 1.5 }, unemploymentRate: 4.9, surveyed: true, tourism: 0, reports: ALL, transferZero: true },
  { short: '绵阳', weight: 4.87 * 1.2, wage: 6200, counties: ['03', '04', '05', '22', '25', '26', '27', '81'], sectionBoost: { C: 1.8, M: 1.4, A: 1.3 },
    divisionBoost: { 39: 5, 38: 3, 40: 2 }, unemploymentRate: 4.9, surveyed: true, tourism: 0.1, reports: ALL, transferZero: true },
  { short: '广元', weight: 2.31, wage: 5000, counties: ['02', '11', '12', '21', '22', '23', '24'], sectionBoost: RURAL,
    divisionBoost: { 13: 2, 15: 1.5, 30: 1.5 }, unemploymentRate: 5.4, surveyed: true, tourism: 0.25, reports: ALL, transferZero: false },
  { short: '遂宁', weight: 2.81, wage: 5100, counties: ['03', '04', '21', '23', '81'], sectionBoost: { ...RURAL, C: 1.3 },
    divisionBoost: { 26: 3, 39: 2, 13: 1.5 }, unemploymentRate: 5.2, surveyed: true, tourism: 0, reports: ALL, transferZero: true },
  { short: '内江', weight: 3.14, wage: 5000, counties: ['02', '11', '24', '25', '83'], sectionBoost: RURAL,
    divisionBoost: { 31: 2, 13: 1.5, 18: 1.5 }, unemploymentRate: 5.5, surveyed: true, tourism: 0, reports: ALL, transferZero: false },
  { short: '乐山', weight: 3.16, wage: 5500, counties: ['02', '11', '12', '13', '23', '24', '26', '29', '32', '33', '81'], sectionBoost: { ...RURAL, C: 1.2, H: 1.4, R: 1.4 },
    divisionBoost: { 26: 3, 39: 2, 30: 2 }, unemploymentRate: 5.1, surveyed: true, tourism: 0.5, reports: ALL, transferZero: true },
  { short: '南充', weight: 5.61, wage: 5000, counties: ['02', '03', '04', '21', '22', '23', '24', '25', '81'], sectionBoost: RURAL,
    divisionBoost: { 18: 3, 13: 2, 26: 1.5 }, unemploymentRate: 5.5, surveyed: true, tourism: 0, reports: { ...ALL, graduate: false }, transferZero: false },
  { short: '眉山', weight: 2.96, wage: 5200, counties: ['02', '03', '21', '22', '23', '24'], sectionBoost: { ...RURAL, C: 1.2 },
    divisionBoost: { 26: 2, 13: 2, 14: 2 }, unemploymentRate: 5.2, surveyed: true, tourism: 0.1, reports: ALL, transferZero: true },
  { short: '宜宾', weight: 4.59 * 1.2, wage: 5900, counties: ['02', '03', '04', '23', '24', '25', '26', '27', '28', '29'], sectionBoost: { C: 1.8, A: 1.4 },
    divisionBoost: { 15: 8, 38: 3, 39: 2, 36: 2 }, unemploymentRate: 5.0, surveyed: true, tourism: 0.1, reports: ALL, transferZero: true },
  { short: '广安', weight: 3.25, wage: 5000, counties: ['02', '03', '21', '22', '23', '81'], sectionBoost: RURAL,
    divisionBoost: { 26: 2, 30: 2, 39: 1.5 }, unemploymentRate: 5.4, surveyed: true, tourism: 0.1, reports: ALL, transferZero: false },
  { short: '达州', weight: 5.39, wage: 5100, counties: ['02', '03', '22', '23', '24', '25', '81'], sectionBoost: { ...RURAL, B: 2.5, D: 1.6 },
    divisionBoost: { 26: 3, 31: 2, 13: 1.5 }, unemploymentRate: 5.5, surveyed: true, tourism: 0, reports: { ...ALL, migrant: false }, transferZero: false },
  { short: '雅安', weight: 1.43, wage: 5400, counties: ['02', '03', '22', '23', '24', '25', '26', '27'], sectionBoost: { ...RURAL, H: 1.5, D: 2 },
    divisionBoost: { 15: 2, 32: 2, 30: 1.5 }, unemploymentRate: 5.1, surveyed: true, tourism: 0.5, reports: ALL, transferZero: true },
  { short: '巴中', weight: 2.71 * 0.8, wage: 4800, counties: ['02', '03', '21', '22', '23'], sectionBoost: { ...RURAL, A: 2.6 },
    divisionBoost: { 13: 2, 15: 1.5, 18: 1.5 }, unemploymentRate: 5.7, surveyed: true, tourism: 0.2, reports: { ...ALL, graduate: false }, transferZero: false },
  { short: '资阳', weight: 2.31, wage: 5000, counties: ['02', '21', '22'], sectionBoost: { ...RURAL, C: 1.1 },
    divisionBoost: { 36: 3, 19: 2, 13: 1.5 }, unemploymentRate: 5.4, surveyed: true, tourism: 0, reports: ALL, transferZero: true },
  { short: '阿坝', weight: 0.82 * 0.7, wage: 6000, counties: ['01', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33'],
    sectionBoost: { A: 1.6, H: 3.5, R: 3, C: 0.3, I: 0.3, J: 0.5, M: 0.5, D: 2 }, divisionBoost: { 13: 3, 15: 2 },
    unemploymentRate: 4.6, surveyed: false, tourism: 1, reports: ALL, transferZero: false },
  { short: '甘孜', weight: 1.11 * 0.6, wage: 6200, counties: ['01', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38'],
    sectionBoost: { A: 1.8, H: 3.5, R: 3, C: 0.25, I: 0.3, J: 0.5, M: 0.5, D: 2.5 }, divisionBoost: { 13: 3, 14: 2 },
    unemploymentRate: 4.5, surveyed: false, tourism: 1, reports: { ...ALL, uiClaims: false }, transferZero: false },
  { short: '凉山', weight: 4.86 * 0.7, wage: 5600, counties: ['01', '02', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37'],
    sectionBoost: { A: 2.2, B: 2, D: 2.2, H: 1.5, C: 0.6, I: 0.4 }, divisionBoost: { 13: 3, 32: 2 },
    unemploymentRate: 4.8, surveyed: true, tourism: 0.4, reports: ALL, transferZero: true },
];

if (PROFILES.length !== CITIES.length) throw new Error('city.profile: one profile per city expected');

export const CITY_PROFILES: readonly CityProfile[] = CITIES.map((c, i) => ({ code: c.code, ...(PROFILES[i] as Omit<CityProfile, 'code'>) }));

/** Chengdu's share of employers; the remainder follows the weights. */
export const CHENGDU_SHARE = 0.38;

/** Weights for drawing an employer's city, Chengdu pinned. */
export function cityWeights(): number[] {
  const others = CITY_PROFILES.reduce((s, c) => s + c.weight, 0);
  return CITY_PROFILES.map((c) => (c.code === '510100' ? CHENGDU_SHARE : ((1 - CHENGDU_SHARE) * c.weight) / others));
}

/** Cities where one manufacturing downturn is plausible (heavy or export-dependent industry). */
export const SHOCK_CANDIDATES: readonly string[] = ['510600', '510700', '511500', '510400', '510500', '510300', '510900', '511000', '511100'];
