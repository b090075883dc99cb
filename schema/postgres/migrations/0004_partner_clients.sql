-- Partner clients: a name per organisation that partner keys are bound to, with the operations
-- its keys may run (trusted documents). `enforce` runs only the published operations, by id;
-- `audit` runs anything and records what it did not know, so a partner can be migrated.
CREATE TABLE partner_clients (
  org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(btrim(name)) > 0),
  mode text NOT NULL DEFAULT 'enforce' CHECK (mode IN ('enforce', 'audit')),
  -- The manifest version in force; null until one is published.
  active_version integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, name)
);

-- Every manifest ever published, in Apollo's persisted query manifest format; versions count up
-- from 1 per client and are never rewritten, so an earlier one can be restored.
CREATE TABLE partner_manifests (
  org_id text NOT NULL,
  client text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  operations jsonb NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, client, version),
  FOREIGN KEY (org_id, client) REFERENCES partner_clients (org_id, name) ON DELETE CASCADE
);

-- Operations an `audit` client ran that its manifest does not hold, by the SHA-256 of the text.
CREATE TABLE partner_unknown_operations (
  org_id text NOT NULL,
  client text NOT NULL,
  operation_hash text NOT NULL CHECK (operation_hash ~ '^[0-9a-f]{64}$'),
  operation_name text,
  body text NOT NULL,
  count bigint NOT NULL DEFAULT 1,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, client, operation_hash),
  FOREIGN KEY (org_id, client) REFERENCES partner_clients (org_id, name) ON DELETE CASCADE
);
