import { z } from 'zod';

/**
 * Bands for a city's (and a city × industry section's) systemic
 * unemployment risk. Defaults from local practice (../shared/DOMAIN.md):
 * several employers in one city together shedding 1,500+ jobs is 杭州's
 * 一级; Sichuan's plan caps the surveyed unemployment rate at 6%; new
 * unemployment-insurance claims rising sharply against the same month of
 * earlier years.
 */
const descending = (name: string) =>
  z
    .tuple([z.number().positive(), z.number().positive(), z.number().positive(), z.number().positive()])
    .refine((b) => b[0] > b[1] && b[1] > b[2] && b[2] > b[3], `${name}: the four bands (Ⅰ, Ⅱ, Ⅲ, Ⅳ) must strictly decrease`);

export const cityRiskSchema = z
  .object({
    /** Expected plus observed job losses in the month: Ⅰ, Ⅱ, Ⅲ, Ⅳ. */
    jobLosses: descending('jobLosses').default([1500, 800, 300, 100]),
    /** The same bands for one industry section of a city. */
    sectionJobLosses: descending('sectionJobLosses').default([800, 400, 150, 50]),
    /** New UI claims against the same month of earlier years: Ⅰ, Ⅱ, Ⅲ, Ⅳ. */
    claimsRatio: descending('claimsRatio').default([3, 2, 1.5, 1.25]),
    /** Surveyed unemployment rate, %: Ⅰ, Ⅱ, Ⅲ, Ⅳ (the plan's cap is 6%). */
    surveyedRate: descending('surveyedRate').default([8, 7, 6, 5.5]),
    /** A city whose social-insurance rows fall below this share of last month's is "data missing". */
    partialFeedShare: z.number().gt(0).lt(1).default(0.5),
  })
  .strict();

export type CityRiskBands = z.infer<typeof cityRiskSchema>;

/** The level (1 = Ⅰ … 4 = Ⅳ) a value reaches on descending bands, or null. */
export function bandLevel(value: number | null, bands: readonly [number, number, number, number]): 1 | 2 | 3 | 4 | null {
  if (value === null || !Number.isFinite(value)) return null;
  for (let i = 0; i < 4; i++) if (value >= (bands[i] as number)) return (i + 1) as 1 | 2 | 3 | 4;
  return null;
}
