-- Key groups (重点群体): how many of the month's separations, and of the jobs
-- at stake, are migrant workers (农民工) and graduates within two years of
-- graduating (高校毕业生), per employer and per city. The counts come from
-- the social-insurance feed's optional separated_migrant and
-- separated_graduate: NULL is "not reported", never 0. Rows scored before
-- this migration have NULL in every new column.
--
-- All columns are added without a default, so no partition is rewritten.

-- Per employer, as scoring wrote it (services/scoring/keygroups.ts).
ALTER TABLE employer_risk
  ADD COLUMN separated              integer,   -- this month's separations; NULL: no social-insurance row this month
  ADD COLUMN separated_migrant      integer,   -- of them migrant workers; NULL: not reported this month
  ADD COLUMN separated_graduate     integer,   -- of them graduates; NULL: not reported this month
  -- Estimates, not counts: jobs_at_stake × the employer's migrant (graduate)
  -- share of its separations over the months of the scoring window in which
  -- it reported the split. NULL: it reported the split in none of them.
  ADD COLUMN jobs_at_stake_migrant  real,
  ADD COLUMN jobs_at_stake_graduate real;

-- Per city (industry_section '*') and city × section, summed when the run
-- closes, in the same pass as the rest of the row (RiskRepository.cityAggregates).
ALTER TABLE city_risk
  ADD COLUMN separated              integer,   -- Σ separations of employers with a row this month
  ADD COLUMN separated_migrant      integer,   -- Σ over the employers that reported it; NULL: none did
  ADD COLUMN separated_graduate     integer,
  ADD COLUMN migrant_reporters      integer,   -- employers that reported separated_migrant this month
  ADD COLUMN graduate_reporters     integer,
  ADD COLUMN jobs_at_stake          integer,   -- Σ jobs at stake of the employers at a warning level (Ⅰ–Ⅳ)
  ADD COLUMN jobs_at_stake_migrant  real,      -- Σ of those employers' estimates; one that never reported the split counts 0
  ADD COLUMN jobs_at_stake_graduate real;

-- The pack's layout (services/scoring/series.pack.ts PACK_FORMAT): layout 2
-- holds separated_graduate too. Packs written before are layout 1, which
-- scoring does not read (it reads the facts once and writes layout 2).
ALTER TABLE series_pack_state ADD COLUMN format smallint NOT NULL DEFAULT 1;
