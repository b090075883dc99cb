-- Data directories made before scores carried their scorer get its columns; rows written before
-- then read '' (unknown) and are what `npm run rescore` picks up first.
ALTER TABLE texts
    ADD COLUMN IF NOT EXISTS scorer LowCardinality(String) AFTER sentiment,
    ADD COLUMN IF NOT EXISTS scorer_version LowCardinality(String) AFTER scorer,
    ADD COLUMN IF NOT EXISTS scored_at DateTime64(3, 'UTC') AFTER scorer_version;

ALTER TABLE text_search
    ADD COLUMN IF NOT EXISTS scorer LowCardinality(String) AFTER sentiment,
    ADD COLUMN IF NOT EXISTS scorer_version LowCardinality(String) AFTER scorer,
    ADD COLUMN IF NOT EXISTS scored_at DateTime64(3, 'UTC') AFTER scorer_version;
