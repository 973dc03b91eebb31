-- events_hour_key: a browser's resend is one row, not two.
-- Until now rum.events was sorted by (site, kind, ts, event_id). A ReplacingMergeTree keeps
-- one row per sorting key, and `ts` is the skew-corrected time the collector computed when
-- the envelope arrived: the same envelope resent 1.6 s later got the same event_id but a
-- new ts, so both rows stayed, even read FINAL. The key now holds the hour of ts instead
-- of ts itself: a resend within the same UTC hour of its receive time replaces the first
-- copy (the newest insert is kept). A resend across an hour boundary still keeps two
-- rows (about 1.6 s in 3,600 s of the time, for a resend 1.6 s later). Time-range reads
-- still skip by (site, kind, hour); rows within an hour are ordered by event_id.
-- Existing rows are copied into the new table, which then takes the old one's name; the
-- landing table's views (0100) write to rum.events by name and keep working.
CREATE TABLE IF NOT EXISTS rum.events_hour_key AS rum.events
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (site, kind, toStartOfHour(ts), event_id)
TTL toDateTime(ts) + INTERVAL 30 DAY;

INSERT INTO rum.events_hour_key SELECT * FROM rum.events;

EXCHANGE TABLES rum.events AND rum.events_hour_key;

DROP TABLE rum.events_hour_key;
