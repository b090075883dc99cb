-- Every organisation reads its buckets in its own IANA time zone. The name is checked by the
-- application (the runtime's zone data); here it only has to be a plausible name.
ALTER TABLE organisations
  ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
  CHECK (time_zone ~ '^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$' AND length(time_zone) <= 64);
