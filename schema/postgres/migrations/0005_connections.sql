-- Connected platform accounts: the OAuth grant of a tracked account, its poll schedule, the
-- checkpoint of its incremental load, and the lease of the replica polling it. Tokens are kept
-- only sealed (AES-256-GCM, lib/secrets/token-cipher.ts), under the key named by token_key_id.
CREATE TABLE connections (
  org_id text NOT NULL,
  account_id text NOT NULL,
  platform text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'x', 'tiktok')),
  platform_account_id text NOT NULL CHECK (length(btrim(platform_account_id)) > 0),
  tier text NOT NULL DEFAULT 'standard' CHECK (tier IN ('realtime', 'standard')),
  poll_interval_seconds integer NOT NULL CHECK (poll_interval_seconds BETWEEN 1 AND 86400),
  credentials text NOT NULL,
  token_key_id text NOT NULL,
  token_expires_at timestamptz,
  -- healthy, rate_limited (until rate_limited_until), needs_reauth (polling stopped until the
  -- account is connected again) or failing (the last poll failed; retried with backoff).
  state text NOT NULL DEFAULT 'healthy'
    CHECK (state IN ('healthy', 'rate_limited', 'needs_reauth', 'failing')),
  rate_limited_until timestamptz,
  next_poll_at timestamptz NOT NULL,
  last_poll_started_at timestamptz,
  last_poll_finished_at timestamptz,
  last_error text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  checkpoint jsonb,
  headroom jsonb NOT NULL DEFAULT '[]',
  polls bigint NOT NULL DEFAULT 0,
  -- The replica polling it now, and until when that claim holds unless renewed.
  lease_owner text,
  lease_until timestamptz,
  connected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, account_id),
  FOREIGN KEY (org_id, account_id) REFERENCES tracked_accounts (org_id, id) ON DELETE CASCADE
);
-- What the manager claims: due connections, oldest first.
CREATE INDEX connections_due_idx ON connections (next_poll_at) WHERE state <> 'needs_reauth';
-- Webhooks name the platform's account; several organisations may connect the same one.
CREATE INDEX connections_platform_account_idx ON connections (platform, platform_account_id);
