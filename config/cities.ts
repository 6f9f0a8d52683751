/**
 * Sichuan's 21 cities and prefectures (市州), the units that receive alerts.
 * Source: ../shared/DOMAIN.md. A county code belongs to the city whose first
 * four digits it shares, followed by `00`.
 */
export interface City {
  readonly code: string;
  readonly name: string;
}

export const CITIES: readonly City[] = Object.freeze([
  { code: '510100', name: '成都市' },
  { code: '510300', name: '自贡市' },
  { code: '510400', name: '攀枝花市' },
  { code: '510500', name: '泸州市' },
  { code: '510600', name: '德阳市' },
  { code: '510700', name: '绵阳市' },
  { code: '510800', name: '广元市' },
  { code: '510900', name: '遂宁市' },
  { code: '511000', name: '内江市' },
  { code: '511100', name: '乐山市' },
  { code: '511300', name: '南充市' },
  { code: '511400', name: '眉山市' },
  { code: '511500', name: '宜宾市' },
  { code: '511600', name: '广安市' },
  { code: '511700', name: '达州市' },
  { code: '511800', name: '雅安市' },
  { code: '511900', name: '巴中市' },
  { code: '512000', name: '资阳市' },
  { code: '513200', name: '阿坝藏族羌族自治州' },
  { code: '513300', name: '甘孜藏族自治州' },
  { code: '513400', name: '凉山彝族自治州' },
]);

export const CITY_BY_CODE: ReadonlyMap<string, City> = new Map(CITIES.map((c) => [c.code, c]));
