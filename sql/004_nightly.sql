-- The nightly run: a scoring run opened by the nightly flow carries the
-- night's key (its date, or the catch-up's key), so a retried or repeated
-- step of the same night reuses the same run instead of opening another.
ALTER TABLE score_run ADD COLUMN night_key text UNIQUE;
