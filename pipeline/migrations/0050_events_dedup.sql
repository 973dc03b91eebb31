-- events_dedup: one row per event id, whatever the transport delivered.
-- The scaled path is at-least-once (a producer retry, a spool replay or a consumer
-- re-reading an uncommitted batch can bring an event twice, always as the same row:
-- same event_id, same ts). rum.events becomes a ReplacingMergeTree whose sorting key
-- ends with event_id, so duplicates are merged away, and the view every query reads
-- (rum.segmented_events) reads it FINAL, so answers are right before merges too.
-- Existing rows are copied into the new table, which then takes the old one's name.
CREATE TABLE IF NOT EXISTS rum.events_dedup AS rum.events
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (site, kind, ts, event_id)
TTL toDateTime(ts) + INTERVAL 30 DAY;

INSERT INTO rum.events_dedup SELECT * FROM rum.events;

EXCHANGE TABLES rum.events AND rum.events_dedup;

DROP TABLE rum.events_dedup;

-- the same view as 0040, reading FINAL (one row per event id before merges)
CREATE OR REPLACE VIEW rum.segmented_events AS
SELECT
    *,
    multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
            {d1:String} = 'city', city, {d1:String} = 'asn', toString(asn),
            {d1:String} = 'device_class', device_class, {d1:String} = 'browser', browser,
            {d1:String} = 'os', os, {d1:String} = 'page_group', page_group,
            {d1:String} = 'connection_type', connection_type, '') AS g1,
    multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
            {d2:String} = 'city', city, {d2:String} = 'asn', toString(asn),
            {d2:String} = 'device_class', device_class, {d2:String} = 'browser', browser,
            {d2:String} = 'os', os, {d2:String} = 'page_group', page_group,
            {d2:String} = 'connection_type', connection_type, '') AS g2
FROM rum.events FINAL
WHERE is_bot = 0
  AND ({site:String} = '' OR site = {site:String})
  AND ts >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC');
