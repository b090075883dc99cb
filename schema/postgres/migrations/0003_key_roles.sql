-- Each API key has a role: admin (everything), member (reads, plus the organisation's own
-- competitor sets and schedules), partner (only its client's persisted operations), ingest (the
-- collector only). Keys made before roles existed could do everything, and stay admin.
ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'admin'
  CHECK (role IN ('admin', 'member', 'partner', 'ingest'));
-- A partner key is bound to one client name; no other key has one.
ALTER TABLE api_keys ADD COLUMN client text
  CHECK (client IS NULL OR length(btrim(client)) > 0);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_partner_has_client
  CHECK ((role = 'partner') = (client IS NOT NULL));
-- From now on every key says its role.
ALTER TABLE api_keys ALTER COLUMN role DROP DEFAULT;
