-- events_counts: raw events of every kind per hour over [from_ms, until_ms): physical rows,
-- so duplicates not merged yet count. The scheduler compares them with each hour's marker
-- of the pages rollup, which rolls every kind (page views and errors per page, every event
-- per site).
--
-- Parameters: from_ms, until_ms Int64 (epoch ms).

SELECT toInt64(toUnixTimestamp(toStartOfHour(ts))) * 1000 AS hour_ms, count() AS n
FROM rum.events
WHERE ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY hour_ms
