-- segments_day_roll: add up one whole UTC day's hourly rows of rum.segments_hourly into
-- day rows (per site, metric and segment: the counts summed, the sparse histograms merged
-- by bucket), stamped a second past the day's midnight (rollups/tables.py DAY_STAMP_MS: a
-- key apart from the 00:00 hour's rows, read at that hour's place in a reader's `rolls`),
-- with the day's marker (site '', metric 'mark': n = the sum of the 24 hourly rolls it
-- added up, config, rolled_until = the day's end), all under `roll`, in one INSERT, as
-- vitals_day_roll.sql does. The parts' rows (migration 0180) have no weights and keep none.
--
-- Parameters: day_ms Int64 (the day's midnight, epoch ms), day_stamp_ms Int64, rolls Array(UInt64) (the roll
-- of each of its 24 hours), rolls_sum UInt64 (their sum), roll UInt64, config UInt64.

INSERT INTO rum.segments_hourly
    (site, hour, metric, set, vals, samples, outliers, above_good, above_poor, weight_sq,
     above_good_w, above_poor_w, above_4good_w, buckets, counts, weights, n, config, roll,
     rolled_until)
SELECT site, toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), metric, set, vals,
       s.1, s.2, s.3, s.4, s.5, s.6, s.7, s.8, h.1, h.2, if(weighted, h.3, []),
       0, 0, {roll:UInt64}, fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
FROM (
    SELECT site, metric, set, vals,
           (sum(samples), sum(outliers), sum(above_good), sum(above_poor), sum(weight_sq),
            sum(above_good_w), sum(above_poor_w), sum(above_4good_w)) AS s,
           -- a parts' row has no weights: zeros stand in for them while merging
           sumMap(buckets, counts, if(empty(weights),
                                      arrayWithConstant(length(buckets), toUInt64(0)), weights)) AS h,
           max(length(weights)) > 0 AS weighted
    FROM rum.segments_hourly
    WHERE site != '' AND metric != 'mark'
      AND hour >= fromUnixTimestamp64Milli({day_ms:Int64}, 'UTC')
      AND hour < fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
      AND roll = {rolls:Array(UInt64)}[
          intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {day_ms:Int64}, 3600000) + 1]
    GROUP BY site, metric, set, vals
)
UNION ALL
SELECT '', toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), 'mark', [], [], 0, 0, 0, 0, 0, 0,
       0, 0, [], [], [], {rolls_sum:UInt64}, {config:UInt64}, {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
