-- The meta store: organisations, their API keys, tracked accounts, competitor sets and report
-- schedules. Every row carries org_id; every lookup starts with it.

CREATE TABLE organisations (
  id text PRIMARY KEY,
  name text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is kept; `prefix` is what a person sees to tell keys apart.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);

CREATE TABLE tracked_accounts (
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  id text NOT NULL,
  platform text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'x', 'tiktok', 'app')),
  handle text,
  display_name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
CREATE INDEX tracked_accounts_org_platform_idx ON tracked_accounts (org_id, platform, id);

CREATE TABLE competitor_sets (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name),
  -- Target of the members' composite key, so a set can only hold accounts of its own org.
  UNIQUE (org_id, id)
);

CREATE TABLE competitor_set_accounts (
  org_id text NOT NULL,
  set_id text NOT NULL,
  account_id text NOT NULL,
  position integer NOT NULL,
  PRIMARY KEY (org_id, set_id, account_id),
  FOREIGN KEY (org_id, set_id) REFERENCES competitor_sets (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, account_id) REFERENCES tracked_accounts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX competitor_set_accounts_account_idx ON competitor_set_accounts (org_id, account_id);

CREATE TABLE report_schedules (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(btrim(name)) > 0),
  format text NOT NULL CHECK (format IN ('pdf', 'csv')),
  cron text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  account_ids text[] NOT NULL,
  metrics text[] NOT NULL,
  recipients text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_schedules_org_idx ON report_schedules (org_id, created_at);
