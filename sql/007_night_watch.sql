-- Each night the queue's flow ran, as the database knows it: what it was to
-- load and score, where it got to and when it last made progress. A night
-- whose jobs were lost (Redis restarted without persistence) or that stopped
-- making progress is found here by the scheduler's watch and re-driven from
-- what is missing; what went wrong is kept for the province summary.
CREATE TABLE night (
  night_key        text        PRIMARY KEY,
  night_date       date        NOT NULL,
  reason           text        NOT NULL CHECK (reason IN ('schedule', 'manual', 'catch-up')),
  period           date,                                   -- asked for; NULL: the latest month loaded
  cities           char(6)[],                              -- a catch-up's cities; NULL: all
  batches          jsonb       NOT NULL DEFAULT '[]',      -- [{source, entry}] the night set out to load
  stage            text        NOT NULL DEFAULT 'ingest' CHECK (stage IN ('ingest', 'score', 'alerts', 'done')),
  run_id           bigint,                                 -- the scoring run it opened (score_run.run_id)
  shards           jsonb,                                  -- the scoring run's planned shards
  missing_batches  jsonb       NOT NULL DEFAULT '[]',      -- [{source, file, feed, period}] not loaded when scoring began
  started_at       timestamptz NOT NULL DEFAULT now(),
  progress_at      timestamptz NOT NULL DEFAULT now(),     -- the last job of this night that finished
  finished_at      timestamptz,
  redrives         integer     NOT NULL DEFAULT 0,
  incidents        jsonb       NOT NULL DEFAULT '[]'       -- [{at, stage, what}] stalls found and re-driven
);
CREATE INDEX night_unfinished_idx ON night (progress_at) WHERE stage <> 'done';
CREATE INDEX night_run_idx ON night (run_id);

-- When a night last made progress: a job of it that finished, or one of its
-- batches being loaded (an ingest job says nothing to the night itself).
CREATE VIEW night_progress AS
SELECT n.night_key,
       greatest(n.progress_at, (
         SELECT max(greatest(b.started_at, b.finished_at))
           FROM jsonb_array_elements(n.batches) p
           JOIN batch b ON b.sha256 = p->'entry'->>'sha256' AND b.feed = p->'entry'->>'feed')) AS last_progress
  FROM night n;
