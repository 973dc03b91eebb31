-- pages_marks: the newest roll of each hour in [from_ms, until_ms) (the days' markers, stamped a
-- second past midnight, are pages_day_marks'): its id (newest), the raw
-- rows it counted (rows), the end of the time it covers (covered, epoch ms) and what it was
-- made with (config: rollups/tables.py PAGES).
--
-- Parameters: from_ms, until_ms Int64 (epoch ms).

SELECT toInt64(toUnixTimestamp(hour)) * 1000 AS hour_ms, max(roll) AS newest,
       argMax(n, roll) AS rows, toUnixTimestamp64Milli(argMax(rolled_until, roll)) AS covered,
       argMax(config, roll) AS config
FROM rum.pages_hourly
WHERE site = '' AND set = 16 AND toUnixTimestamp(hour) % 3600 = 0
  AND hour >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY hour_ms
ORDER BY hour_ms
