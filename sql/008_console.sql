-- The officials' console: accounts, their sessions and API tokens, and the
-- audit log.
--
-- An account is one person (or one machine) with one role: province (all
-- cities, read and act), city (bound to one city code), ops (queues, runs,
-- feed health) or viewer (read-only, all cities). Passwords are stored only
-- as scrypt hashes; sessions and tokens only as SHA-256 digests of the
-- secret the holder keeps, so a copy of the database opens no door.

CREATE TABLE account (
  account_id      bigserial   PRIMARY KEY,
  email           text        NOT NULL,
  role            text        NOT NULL CHECK (role IN ('province', 'city', 'ops', 'viewer')),
  city_code       char(6),
  password_hash   text,                            -- NULL: no password login (a machine account with tokens only)
  disabled_at     timestamptz,
  failed_logins   integer     NOT NULL DEFAULT 0,  -- wrong passwords since the last good login
  locked_until    timestamptz,                     -- lock-out after too many wrong passwords
  password_set_at timestamptz,
  last_login_at   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'city') = (city_code IS NOT NULL))
);
CREATE UNIQUE INDEX account_email_idx ON account (lower(email));

CREATE TABLE session (
  token_hash    bytea       PRIMARY KEY,           -- sha256 of the cookie's secret
  account_id    bigint      NOT NULL REFERENCES account ON DELETE CASCADE,
  csrf_token    text        NOT NULL,              -- the synchronizer token every form and unsafe API call must echo
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,              -- absolute end; idle time is checked against last_seen_at
  ip            text
);
CREATE INDEX session_account_idx ON session (account_id);
CREATE INDEX session_expires_idx ON session (expires_at);

CREATE TABLE api_token (
  token_id      bigserial   PRIMARY KEY,
  token_hash    bytea       NOT NULL UNIQUE,       -- sha256 of the token
  account_id    bigint      NOT NULL REFERENCES account ON DELETE CASCADE,
  label         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_token_account_idx ON api_token (account_id);

-- Who did what, when: logins (good and bad), acknowledgements, resolutions,
-- exports, account and token changes. Append-only, like alert_event.
CREATE TABLE audit_log (
  audit_id    bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text        NOT NULL,                -- the account's e-mail, or 'cli' / 'system'
  account_id  bigint,
  action      text        NOT NULL,
  target      text,                                -- e.g. 'alert:123', 'account:officer@cd.gov.cn'
  city_code   char(6),                             -- the city the target belongs to, when it has one
  ip          text,
  detail      jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, audit_id DESC);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION ews_append_only();

-- The alert list is filtered by city, status and level and sorted by time;
-- periods (first_period .. last_period) narrow it to months.
CREATE INDEX alert_city_updated_idx ON alert (city_code, updated_at DESC, alert_id);
CREATE INDEX alert_updated_idx ON alert (updated_at DESC, alert_id);
