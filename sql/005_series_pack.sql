-- Scoring's history kept from one night to the next: each scored employer's
-- last 25 months packed into one value (services/scoring/series.pack.ts), so
-- that the next period's run reads one row per employer plus the months
-- that changed, not 25 rows per employer.
--
-- It is a cache of the fact tables, never a source: series_pack_state
-- records, per bucket, which loaded batches each month's values came from
-- (the fingerprint). A run uses the previous period's pack only where every
-- bucket of its shard has one, re-reads from the facts each month whose
-- batches have changed since (a restatement, a late feed) and the month it
-- scores, and reads everything from the facts when there is no pack.
-- Partitioned by period so old packs are dropped a month at a time.

CREATE TABLE series_pack (
  period         date        NOT NULL,   -- the last month the values hold
  bucket         smallint    NOT NULL,
  uscc           char(18)    NOT NULL,
  name           text        NOT NULL,
  city_code      char(6)     NOT NULL,
  region_code    char(6)     NOT NULL,
  industry_code  varchar(3)  NOT NULL,
  named_month    smallint    NOT NULL,   -- month (0 = oldest) of the row name and codes came from
  series         bytea       NOT NULL,
  PRIMARY KEY (period, bucket, uscc)
) PARTITION BY RANGE (period);

CREATE TABLE series_pack_state (
  period       date      NOT NULL,
  bucket       smallint  NOT NULL,
  months       smallint  NOT NULL,
  fingerprint  jsonb     NOT NULL,      -- {"YYYY-MM": "social_insurance:ids;headcount:ids"} of the months held
  run_id       bigint    NOT NULL,
  written_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (period, bucket)
);
