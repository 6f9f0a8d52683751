-- Scoring: each employer's large-scale-layoff risk and each city's systemic
-- unemployment risk, per period, with the evidence behind them.
--
-- employer_risk holds a row for every employer scored (1,000,000 a month at
-- province scale), partitioned by month like the facts and keyed
-- (period, bucket, uscc) so that a shard's rerun replaces exactly its rows.

CREATE TABLE score_run (
  run_id         bigserial   PRIMARY KEY,
  period         date        NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  status         text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  model_version  text,                 -- NULL: rules only
  model_note     text,                 -- why the model was not used, when it was not
  employers      integer,
  shards         integer
);
CREATE INDEX score_run_period_idx ON score_run (period, run_id DESC);

CREATE TABLE employer_risk (
  period         date        NOT NULL,
  bucket         smallint    NOT NULL,
  uscc           char(18)    NOT NULL,
  name           text        NOT NULL,
  city_code      char(6)     NOT NULL,
  region_code    char(6)     NOT NULL,
  industry_code  varchar(3)  NOT NULL,
  workforce      integer     NOT NULL,
  level          smallint    CHECK (level BETWEEN 1 AND 4),   -- NULL: no warning
  probability    real,                                         -- NULL: model not used
  jobs_at_stake  integer     NOT NULL,
  excess_separations integer NOT NULL,
  rules          text[]      NOT NULL,                         -- rule ids hit
  kinds          text[]      NOT NULL,                         -- layoff / unreported / distress / crosscheck
  explanation    jsonb       NOT NULL,                         -- hits with their numbers, model drivers, reasons
  run_id         bigint      NOT NULL,
  PRIMARY KEY (period, bucket, uscc)
) PARTITION BY RANGE (period);

CREATE TABLE city_risk (
  period              date        NOT NULL,
  city_code           char(6)     NOT NULL,
  industry_section    char(1)     NOT NULL DEFAULT '*',   -- '*': the whole city
  level               smallint    CHECK (level BETWEEN 1 AND 4),
  data_missing        boolean     NOT NULL,
  missing_feeds       text[]      NOT NULL DEFAULT '{}',
  employers           integer     NOT NULL,
  expected_job_losses real        NOT NULL,
  observed_layoffs    integer     NOT NULL,               -- employers with a layoff hit this month
  observed_job_losses integer     NOT NULL,
  ui_new_claims       integer,
  ui_claims_ratio     real,                               -- against the same month of earlier years
  registered_unemployed integer,
  surveyed_unemployment_rate real,
  explanation         jsonb       NOT NULL,
  run_id              bigint      NOT NULL,
  PRIMARY KEY (period, city_code, industry_section)
);
