/**
 * 国民经济行业分类 GB/T 4754-2017: sections A–T and the divisions (两位数
 * 大类) each section holds.
 */
export const SECTION_DIVISIONS: Readonly<Record<string, readonly [number, number]>> = {
  A: [1, 5], B: [6, 12], C: [13, 43], D: [44, 46], E: [47, 50], F: [51, 52], G: [53, 60],
  H: [61, 62], I: [63, 65], J: [66, 69], K: [70, 70], L: [71, 72], M: [73, 75], N: [76, 79],
  O: [80, 82], P: [83, 83], Q: [84, 85], R: [86, 90], S: [91, 96], T: [97, 97],
};

export const SECTIONS = Object.keys(SECTION_DIVISIONS);

const cache = new Map<string, string | undefined>();

/** undefined when valid, otherwise the reason. */
export function checkIndustry(code: string): string | undefined {
  if (cache.has(code)) return cache.get(code);
  const r = resolveIndustry(code);
  if (cache.size < 10_000) cache.set(code, r);
  return r;
}

function resolveIndustry(code: string): string | undefined {
  const m = /^([A-Z])(\d{2})?$/.exec(code);
  if (!m) return `must be a section letter A–T, optionally followed by a 2-digit division (C39), got "${code}"`;
  const section = m[1] as string;
  const range = SECTION_DIVISIONS[section];
  if (!range) return `section ${section} does not exist (A–T)`;
  if (m[2] !== undefined) {
    const div = Number(m[2]);
    if (div < range[0] || div > range[1]) {
      const owner = SECTIONS.find((s) => {
        const r = SECTION_DIVISIONS[s] as readonly [number, number];
        return div >= r[0] && div <= r[1];
      });
      return owner ? `division ${m[2]} belongs to section ${owner}, not ${section}` : `division ${m[2]} does not exist`;
    }
  }
  return undefined;
}
