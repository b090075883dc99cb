-- Which property paths each event name carries, with the types seen and when last: what a front
-- end builds its filter and breakdown menus from. Examples are read from the events when asked.
CREATE TABLE IF NOT EXISTS event_properties
(
    org_id    LowCardinality(String),
    app_id    String,
    event     LowCardinality(String),
    path      String,
    type      LowCardinality(String),
    events    SimpleAggregateFunction(sum, UInt64),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (org_id, app_id, event, path, type);

CREATE MATERIALIZED VIEW IF NOT EXISTS event_properties_mv TO event_properties AS
SELECT
    org_id,
    app_id,
    event,
    pt.1 AS path,
    pt.2 AS type,
    count() AS events,
    max(timestamp) AS last_seen
FROM product_events
ARRAY JOIN JSONAllPathsWithTypes(properties) AS pt
GROUP BY org_id, app_id, event, path, type;
