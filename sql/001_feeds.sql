-- Feeds: batch history, quarantine, and the monthly facts of the four feeds.
--
-- The two big feeds (social_insurance, headcount) must hold 1,000,000
-- employers x 60 months each. They are range-partitioned by month, one
-- partition a month (created by the loader before it loads), and keyed
-- (bucket, uscc, period): bucket is a stable hash of the code (0-255), so a
-- scoring shard, a range of buckets, reads its employers' 24-month series as
-- contiguous index ranges of 24 partitions, and a restatement touches one
-- partition. Old months can be detached or dropped a partition at a time.

CREATE TABLE batch (
  batch_id          bigserial PRIMARY KEY,
  source            text        NOT NULL,                 -- source name
  source_url        text        NOT NULL,                 -- without credentials
  file              text        NOT NULL,
  feed              text        NOT NULL CHECK (feed IN ('social_insurance', 'headcount', 'regional', 'layoff_filings')),
  period            date        NOT NULL CHECK (extract(day FROM period) = 1),
  sha256            char(64)    NOT NULL,
  declared_rows     integer     NOT NULL CHECK (declared_rows >= 0),
  encoding          text        NOT NULL CHECK (encoding IN ('utf-8', 'gbk')),
  -- Order among batches of one feed-period: manifest time, then position.
  -- The newest batch wins per employer, whatever order the loads ran in.
  order_key         bigint      NOT NULL,
  status            text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'loading', 'loaded', 'rejected')),
  reason            text,                                 -- why rejected (whole batch)
  last_error        text,                                 -- last transient failure
  attempts          integer     NOT NULL DEFAULT 0,
  rows_read         integer,
  rows_loaded       integer,
  rows_quarantined  integer,
  rows_replaced     integer,                              -- earlier rows this batch restated
  first_seen_at     timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  UNIQUE (feed, period, sha256)
);
CREATE INDEX batch_feed_period_idx ON batch (feed, period);
CREATE INDEX batch_status_idx ON batch (status) WHERE status <> 'loaded';

-- What replaced what: a restatement's rows replaced these earlier batches' rows.
CREATE TABLE batch_restatement (
  batch_id          bigint  NOT NULL REFERENCES batch,
  replaced_batch_id bigint  NOT NULL REFERENCES batch,
  rows              integer NOT NULL,
  PRIMARY KEY (batch_id, replaced_batch_id)
);

-- Rejected rows, with the raw text (personal data withheld) and a reason a person can act on.
CREATE TABLE quarantine (
  batch_id     bigint  NOT NULL REFERENCES batch ON DELETE CASCADE,
  line_no      integer NOT NULL,
  column_name  text,
  reason       text    NOT NULL,
  raw          text    NOT NULL,
  PRIMARY KEY (batch_id, line_no)
);

CREATE TABLE social_insurance (
  bucket              smallint      NOT NULL,
  uscc                char(18)      NOT NULL,
  period              date          NOT NULL,
  name                text          NOT NULL,
  region_code         char(6)       NOT NULL,
  city_code           char(6)       NOT NULL,
  industry_code       varchar(3)    NOT NULL,
  insured             integer       NOT NULL,
  hired               integer       NOT NULL,
  separated           integer       NOT NULL,
  arrears_months      integer       NOT NULL,
  wage_base_total     numeric(16,2) NOT NULL,
  ui_claims           integer,
  separated_transfer  integer,
  separated_natural   integer,
  separated_migrant   integer,
  separated_graduate  integer,
  batch_id            bigint        NOT NULL,
  PRIMARY KEY (bucket, uscc, period)
) PARTITION BY RANGE (period);

CREATE TABLE headcount (
  bucket           smallint   NOT NULL,
  uscc             char(18)   NOT NULL,
  period           date       NOT NULL,
  jobs_begin       integer    NOT NULL,
  jobs_end         integer    NOT NULL,
  jobs_lost        integer    NOT NULL,
  loss_reason      text,
  planned_layoffs  integer    NOT NULL,
  furloughed       integer,
  dispatched       integer,
  batch_id         bigint     NOT NULL,
  PRIMARY KEY (bucket, uscc, period)
) PARTITION BY RANGE (period);

CREATE TABLE regional (
  city_code                   char(6)      NOT NULL,
  period                      date         NOT NULL,
  registered_unemployed       integer      NOT NULL,
  ui_new_claims               integer      NOT NULL,
  urban_new_jobs              integer      NOT NULL,
  surveyed_unemployment_rate  numeric(5,2),
  batch_id                    bigint       NOT NULL,
  PRIMARY KEY (city_code, period)
);

CREATE TABLE layoff_filing (
  filing_id      text      PRIMARY KEY,
  period         date      NOT NULL,        -- the month the report was received (batch period)
  bucket         smallint  NOT NULL,
  uscc           char(18)  NOT NULL,
  filed_on       date      NOT NULL,
  effective_on   date      NOT NULL,
  planned_count  integer   NOT NULL,
  staff_total    integer   NOT NULL,
  reason         text      NOT NULL,
  batch_id       bigint    NOT NULL
);
CREATE INDEX layoff_filing_uscc_idx ON layoff_filing (uscc, effective_on);
CREATE INDEX layoff_filing_period_idx ON layoff_filing (period);

-- Creates the month's partition of a partitioned fact table if it is missing.
CREATE FUNCTION ews_ensure_month_partition(parent text, month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('%s_p%s', parent, to_char(month, 'YYYYMM'));
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  -- Two loads of the same month may race here; CREATE TABLE IF NOT EXISTS does
  -- not make that safe, so creators queue on a lock and look again.
  PERFORM pg_advisory_xact_lock(hashtext('ews_partition/' || part));
  IF to_regclass(part) IS NULL THEN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   part, parent, month, (month + interval '1 month')::date);
  END IF;
  RETURN part;
END $$;
