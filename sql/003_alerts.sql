-- Alerts and notifications.
--
-- An alert is one subject (an employer or a city) and one kind; it lives
-- through open → acknowledged → resolved and may reopen, always the same row,
-- so its history stays with it. Every transition is appended to alert_event,
-- which refuses updates and deletes. Notifications are a transactional
-- outbox: written in the same transaction as the alert changes that cause
-- them, then sent by the notify worker, which records the result.

-- The level the rules alone give (NULL: none). An alert whose level comes
-- from the model alone waits for confirmation on later runs.
ALTER TABLE employer_risk ADD COLUMN rule_level smallint CHECK (rule_level BETWEEN 1 AND 4);

CREATE TABLE alert (
  alert_id        bigserial   PRIMARY KEY,
  subject_type    text        NOT NULL CHECK (subject_type IN ('employer', 'city')),
  subject         text        NOT NULL,            -- USCC, or the city code
  kind            text        NOT NULL CHECK (kind IN ('layoff', 'unreported', 'crosscheck', 'systemic')),
  city_code       char(6)     NOT NULL,            -- the department responsible
  name            text        NOT NULL,            -- employer or city name, as last reported
  status          text        NOT NULL CHECK (status IN ('pending', 'open', 'acknowledged', 'resolved')),
  level           smallint    NOT NULL CHECK (level BETWEEN 1 AND 4),
  peak_level      smallint    NOT NULL CHECK (peak_level BETWEEN 1 AND 4),
  model_only      boolean     NOT NULL DEFAULT false,
  -- The last runs, newest in the lowest bit: 1 where the subject had a signal.
  recent_signals  smallint    NOT NULL DEFAULT 0,
  first_period    date        NOT NULL,            -- month it was first raised
  last_period     date        NOT NULL,            -- last month with a signal
  last_run_id     bigint      NOT NULL,            -- last run that looked at it
  opened_at       timestamptz,                     -- NULL while pending confirmation
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at     timestamptz,
  resolved_by     text,
  disposition     text,
  comment         text,
  reopen_count    integer     NOT NULL DEFAULT 0,
  first_notified_at timestamptz,                   -- first Ⅰ/Ⅱ e-mail of the current opening
  last_reminded_at  timestamptz,
  escalated_at    timestamptz,                     -- sent to the province office as unacknowledged
  evidence        jsonb       NOT NULL,            -- the latest night's evidence
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subject_type, subject, kind)
);
CREATE INDEX alert_active_idx ON alert (city_code, level) WHERE status <> 'resolved';
CREATE INDEX alert_status_idx ON alert (status, level);

-- Scoring runs whose alerts have been processed: processing a run twice is a no-op.
CREATE TABLE alert_run (
  run_id        bigint      PRIMARY KEY,
  period        date        NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  summary       jsonb       NOT NULL
);

CREATE TABLE alert_event (
  event_id     bigserial   PRIMARY KEY,
  alert_id     bigint      NOT NULL REFERENCES alert,
  at           timestamptz NOT NULL DEFAULT now(),
  run_id       bigint,
  period       date,
  action       text        NOT NULL CHECK (action IN (
                 'raised', 'confirmed', 'updated', 'escalated', 'deescalated', 'acknowledged', 'resolved',
                 'reopened', 'lapsed', 'reminded', 'escalated_to_province')),
  from_status  text,
  to_status    text,
  from_level   smallint,
  to_level     smallint,
  actor        text        NOT NULL,               -- 'system' or the official's name
  disposition  text,
  comment      text,
  evidence     jsonb
);
CREATE INDEX alert_event_alert_idx ON alert_event (alert_id, event_id);

CREATE FUNCTION ews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER alert_event_append_only BEFORE UPDATE OR DELETE ON alert_event
  FOR EACH ROW EXECUTE FUNCTION ews_append_only();

CREATE TABLE notification (
  notification_id bigserial   PRIMARY KEY,
  -- What makes this e-mail unique (kind, run or day, city, recipient): a rerun cannot write it twice.
  dedupe_key      text        NOT NULL UNIQUE,
  kind            text        NOT NULL CHECK (kind IN ('immediate', 'digest', 'reminder', 'escalation', 'summary')),
  run_id          bigint      NOT NULL,
  city_code       char(6),                          -- NULL: province-wide
  recipient       text        NOT NULL,
  message_id      text        NOT NULL UNIQUE,      -- deterministic: a resend carries the same Message-ID
  payload         jsonb       NOT NULL,
  alert_ids       bigint[]    NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0,
  last_error      text,
  smtp_response   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sending_at      timestamptz,
  sent_at         timestamptz,
  raised_at       timestamptz NOT NULL              -- when the scoring run that caused it ended
);
CREATE INDEX notification_unsent_idx ON notification (notification_id) WHERE status IN ('pending', 'sending');
CREATE INDEX notification_status_idx ON notification (status, created_at);
