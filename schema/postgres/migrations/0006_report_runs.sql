-- Report definitions grow into what the reports worker runs: a competitor set instead of accounts,
-- a range rule, webhooks (signed with a secret per definition), and an optional cron. Existing
-- schedules keep their data; their next run is computed by the worker the first time it sees them.
ALTER TABLE report_schedules ALTER COLUMN cron DROP NOT NULL;
ALTER TABLE report_schedules
  ADD COLUMN competitor_set_id text,
  ADD COLUMN range_rule text NOT NULL DEFAULT 'last_7_days'
    CHECK (range_rule IN ('last_7_days', 'last_30_days', 'previous_month')),
  ADD COLUMN webhook_urls text[] NOT NULL DEFAULT '{}',
  -- HMAC key of the webhook signatures: random, 32 bytes as hex.
  ADD COLUMN webhook_secret text NOT NULL
    DEFAULT md5(gen_random_uuid()::text) || md5(gen_random_uuid()::text),
  -- The next instant the cron fires (null: no cron, or not computed yet); advanced past now by
  -- the replica that queues the run, in the same transaction, so a missed schedule runs once.
  ADD COLUMN next_run_at timestamptz,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  -- A report on a deleted set cannot run again, so it goes with the set.
  ADD CONSTRAINT report_schedules_competitor_set_fk FOREIGN KEY (org_id, competitor_set_id)
    REFERENCES competitor_sets (org_id, id) ON DELETE CASCADE;
-- Either accounts or a competitor set, never both (an empty array means the set).
ALTER TABLE report_schedules ADD CONSTRAINT report_schedules_subject
  CHECK ((competitor_set_id IS NULL) = (cardinality(account_ids) > 0));
CREATE INDEX report_schedules_due_idx ON report_schedules (next_run_at)
  WHERE next_run_at IS NOT NULL;

-- One run of a definition: queued by its cron or by runReport, leased to one worker replica at a
-- time (SKIP LOCKED claims, renewed while it runs, every write fenced by lease_owner), retried
-- with backoff up to a limit.
CREATE TABLE report_runs (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  schedule_id text NOT NULL REFERENCES report_schedules (id) ON DELETE CASCADE,
  trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  -- The instant the report is for: the cron's tick, or when runReport was asked.
  due_at timestamptz NOT NULL,
  queued_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  error text,
  errors text[] NOT NULL DEFAULT '{}',
  size integer,
  lease_owner text,
  lease_until timestamptz
);
CREATE INDEX report_runs_schedule_idx ON report_runs (schedule_id, queued_at DESC);
CREATE INDEX report_runs_due_idx ON report_runs (next_attempt_at)
  WHERE status IN ('queued', 'running');

-- The rendered file of a run, kept in the meta store and downloaded with an API key.
CREATE TABLE report_files (
  run_id text PRIMARY KEY REFERENCES report_runs (id) ON DELETE CASCADE,
  content_type text NOT NULL,
  file_name text NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL
);

-- Every attempt to deliver a run's file: an e-mail to a recipient or a POST to a webhook.
CREATE TABLE report_deliveries (
  run_id text NOT NULL REFERENCES report_runs (id) ON DELETE CASCADE,
  channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
  target text NOT NULL,
  attempt integer NOT NULL CHECK (attempt >= 1),
  status text NOT NULL CHECK (status IN ('sent', 'failed')),
  error text,
  at timestamptz NOT NULL,
  PRIMARY KEY (run_id, channel, target, attempt)
);
