-- vitals_day_roll: add up one whole UTC day's hourly rows of rum.vitals_hourly into day
-- rows (per site, metric, country and region: the dense histograms summed bucket by
-- bucket), stamped a second past the day's midnight (rollups/tables.py DAY_STAMP_MS: a
-- key apart from the 00:00 hour's rows, read at that hour's place in a reader's `rolls`),
-- with the day's marker (site '', metric 'mark': n = the sum of the 24 hourly rolls it
-- added up, rolled_until = the day's end), all under `roll`, in one INSERT.
--
-- It reads only the rolls named in `rolls` (the newest of each hour when the scheduler
-- looked): an hour rolled again since makes the hours' sum differ from the marker's n,
-- and readers take that day's hours instead (rollups/coverage.py).
--
-- Parameters: day_ms Int64 (the day's midnight, epoch ms), day_stamp_ms Int64, rolls Array(UInt64) (the roll
-- of each of its 24 hours), rolls_sum UInt64 (their sum), roll UInt64.

INSERT INTO rum.vitals_hourly (site, hour, metric, country, region, counts, n, roll, rolled_until)
SELECT site, toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), metric, country, region,
       sumForEach(counts), sum(n), {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
FROM rum.vitals_hourly
WHERE site != '' AND metric != 'mark'
  AND hour >= fromUnixTimestamp64Milli({day_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
  AND roll = {rolls:Array(UInt64)}[intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {day_ms:Int64}, 3600000) + 1]
GROUP BY site, metric, country, region
UNION ALL
SELECT '', toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), 'mark', '', '', [],
       {rolls_sum:UInt64}, {roll:UInt64}, fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
