-- pages_counts: raw page views and errors per hour over [from_ms, until_ms) (physical rows:
-- duplicates not merged yet count). The scheduler compares them with each hour's marker
-- of the pages rollup, which rolls both.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms).

SELECT toInt64(toUnixTimestamp(toStartOfHour(ts))) * 1000 AS hour_ms, count() AS n
FROM rum.events
WHERE kind IN ('pageview', 'error') AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY hour_ms
