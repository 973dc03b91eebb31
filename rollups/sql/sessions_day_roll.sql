-- sessions_day_roll: add up one whole UTC day's hourly rows of rum.sessions_hourly into day
-- rows, stamped a second past the day's midnight (rollups/tables.py DAY_STAMP_MS: a key
-- apart from the 00:00 hour's rows, read at that hour's place in a reader's `rolls`), with
-- the day's marker (site '', part 'mark': n = the sum of the 24 hourly rolls it added up,
-- rolled_until = the day's end), all under `roll`, in one INSERT, as vitals_day_roll.sql
-- does.
--
-- A session ends at midnight (sessions_roll.sql), so every session of the day is first
-- seen in one of its hours, and the day's 'agg' rows not `carried` hold each of them once,
-- whole, as a window starting at or before its first hour sees it: their sums, per set,
-- segment and LCP bucket, are the day's 'agg' row (from_hour the day's midnight, not
-- carried, so that a reader's window starting then or earlier takes it). The 'views'
-- histograms are summed per set and segment. No 'session' piece is kept: a reader merges
-- pieces only of sessions in its raw rest, which is outside any whole day it reads.
--
-- Parameters: day_ms Int64 (the day's midnight, epoch ms), day_stamp_ms Int64, rolls
-- Array(UInt64) (the roll of each of its 24 hours), rolls_sum UInt64 (their sum), roll UInt64.

INSERT INTO rum.sessions_hourly
    (site, hour, part, from_hour, carried, dset, country, region, device_class, browser, os,
     connection_type, bucket, sess, sessions, converted, orders, revenue, revenue_sq, w,
     w_revenue, lcp_sum, lcps, currencies, counts, n, content, deps, dep_content, roll,
     rolled_until)
SELECT site, toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), part,
       if(part = 'agg', toDateTime(intDiv({day_ms:Int64}, 1000), 'UTC'), toDateTime(0, 'UTC')),
       toUInt8(0) AS day_carried, dset, country, region, device_class, browser, os, connection_type,
       bucket, toUInt64(0) AS day_sess,
       toInt32(sum(sessions)), toInt32(sum(converted)), toInt32(sum(orders)), sum(revenue),
       sum(revenue_sq), sum(w), sum(w_revenue), sum(lcp_sum), CAST([], 'Array(Float32)'),
       groupUniqArrayArray(currencies), if(part = 'views', sumForEach(counts), []),
       toUInt64(0) AS day_n, toUInt64(0) AS day_content,
       CAST([], 'Array(DateTime(\'UTC\'))'), CAST([], 'Array(UInt64)'), {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
FROM rum.sessions_hourly
WHERE site != '' AND (part = 'views' OR (part = 'agg' AND NOT carried))
  AND hour >= fromUnixTimestamp64Milli({day_ms:Int64}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
  AND roll = {rolls:Array(UInt64)}[
      intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {day_ms:Int64}, 3600000) + 1]
GROUP BY site, part, dset, country, region, device_class, browser, os, connection_type, bucket
UNION ALL
SELECT '', toDateTime(intDiv({day_ms:Int64} + {day_stamp_ms:Int64}, 1000), 'UTC'), 'mark',
       toDateTime(0, 'UTC'), 0, 0, '', '', '', '', '', '', 0, 0, 0, 0, 0, 0., 0., 0., 0., 0.,
       CAST([], 'Array(Float32)'), CAST([], 'Array(LowCardinality(String))'),
       CAST([], 'Array(UInt64)'), {rolls_sum:UInt64}, 0, CAST([], 'Array(DateTime(\'UTC\'))'),
       CAST([], 'Array(UInt64)'), {roll:UInt64},
       fromUnixTimestamp64Milli({day_ms:Int64} + 86400000, 'UTC')
