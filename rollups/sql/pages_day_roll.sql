-- pages_day_roll: add up one whole UTC day's hourly rows of rum.pages_hourly into day rows
-- (per site, filter set and segment, page group: the aggregate states merged, the counts
-- summed), stamped a second past the day's midnight (rollups/tables.py DAY_STAMP_MS: a key
-- apart from the 00:00 hour's rows, read at that hour's place in a reader's `rolls`), with
-- the day's marker (site '', set 16: n = the sum of the 24 hourly rolls it added up, config,
-- rolled_until = the day's end), all under `roll`, in one INSERT, as vitals_day_roll.sql does.
--
-- Parameters: day_ms Int64 (the day's midnight, epoch ms), day_stamp_ms Int64, rolls
-- Array(UInt64) (the roll of each of its 24 hours), rolls_sum UInt64 (their sum), roll UInt64,
-- config UInt64.

INSERT INTO rum.pages_hourly
    (site, hour, set, device_class, country, region, page_group, pageviews, sessions, errors,
     samples, lcp, inp, cls, ttfb, elements, resources, n, config, roll, rolled_until)
SELECT site, toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), set,
       device_class, country, region, page_group,
       uniqExactIfMergeState(pageviews), uniqExactMergeState(sessions), sum(errors),
       sumForEach(samples), quantileExactWeightedIfMergeState(0.75)(lcp),
       quantileExactWeightedIfMergeState(0.75)(inp), quantileExactWeightedIfMergeState(0.75)(cls),
       quantileExactWeightedIfMergeState(0.75)(ttfb), sumMapMergeState(elements),
       sumMapMergeState(resources), 0, 0, {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
FROM rum.pages_hourly
WHERE site != ''
  AND hour >= fromUnixTimestamp64Milli({day_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
  AND roll = {rolls:Array(UInt64)}[
      intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {day_ms:Int64}, 3600000) + 1]
GROUP BY site, set, device_class, country, region, page_group
UNION ALL
-- (the marker's states are empty ones, as pages_roll.sql's)
SELECT '', toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), 16, '', '', '', '',
       uniqExactIfState(toUInt64(0), false),
       arrayReduce('uniqExactState', CAST([], 'Array(UInt64)')), 0, [],
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       sumMapState(CAST([], 'Array(String)'), CAST([], 'Array(UInt64)')),
       sumMapState(CAST([], 'Array(String)'), CAST([], 'Array(UInt64)')),
       {rolls_sum:UInt64}, {config:UInt64}, {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
