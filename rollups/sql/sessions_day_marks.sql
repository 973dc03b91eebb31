-- sessions_day_marks: the newest day roll of each UTC day starting in [from_ms, until_ms)
-- (rollups/sql/sessions_day_roll.sql): its id (newest) and the sum of the hourly rolls it
-- added up (rolls_sum).
--
-- Parameters: from_ms, until_ms Int64 (epoch ms), day_stamp_ms Int64 (DAY_STAMP_MS).

SELECT toInt64(toUnixTimestamp(hour)) * 1000 - {day_stamp_ms:Int64} AS day_ms, max(roll) AS newest,
       argMax(n, roll) AS rolls_sum
FROM rum.sessions_hourly
WHERE site = '' AND part = 'mark' AND toUnixTimestamp(hour) * 1000 % 86400000 = {day_stamp_ms:Int64}
  AND hour >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY day_ms
ORDER BY day_ms
