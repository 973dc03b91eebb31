-- sessions_marks: the newest roll of each hour in [from_ms, until_ms) (the days' markers,
-- stamped a second past midnight, are sessions_day_marks'): as vitals_marks, and
-- the roll's content hash, the hours it shares sessions with (deps, epoch ms) and their
-- content as the roll saw it (dep_content), for rollups/coverage.py `stale_hours`.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms).

SELECT toInt64(toUnixTimestamp(hour)) * 1000 AS hour_ms, max(roll) AS newest,
       argMax(n, roll) AS rows, toUnixTimestamp64Milli(argMax(rolled_until, roll)) AS covered,
       argMax(content, roll) AS content,
       arrayMap(h -> toInt64(toUnixTimestamp(h)) * 1000, argMax(deps, roll)) AS deps,
       argMax(dep_content, roll) AS dep_content
FROM rum.sessions_hourly
WHERE site = '' AND part = 'mark' AND toUnixTimestamp(hour) % 3600 = 0
  AND hour >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY hour_ms
ORDER BY hour_ms
