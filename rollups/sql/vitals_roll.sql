-- vitals_roll: roll one hour [from_ms, until_ms) of page views into rum.vitals_hourly
-- (migration 0060): per site, metric, country and region, the dense histogram of the
-- metric's values on the grid of rollups/grid.py (bound as grid_ratio, grid_last), from
-- deduplicated raw events (FINAL), bots left out; CLS is bucketed x 1000.
--
-- One INSERT: the histogram rows and the hour's marker (site '', metric 'mark': n = the
-- raw page views counted, rolled_until = until_ms), all under `roll`, so a reader that
-- takes each hour's newest marker and only that roll's rows never sees half a roll. The
-- marker's n is counted before the rows are read: rows arriving meanwhile make the count
-- disagree later, and the scheduler rolls the hour again.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms; from_ms is the top of the hour),
-- roll UInt64, grid_ratio Float64, grid_last UInt16.

INSERT INTO rum.vitals_hourly
    (site, hour, metric, country, region, counts, n, roll, rolled_until)
SELECT site, hour, metric, country, region,
       -- sparse (bucket, count) pairs -> the dense counts of the grid's buckets
       arrayConcat(arrayWithConstant(filled.1[1], toUInt32(0)),
                   arrayMap(x -> toUInt32(x), filled.2),
                   arrayWithConstant({grid_last:UInt16} - filled.1[-1], toUInt32(0))),
       total, {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM (
    SELECT site, hour, metric, country, region, sum(c) AS total,
           mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
    FROM (
        SELECT site, toStartOfHour(ts) AS hour, m.1 AS metric, country, region,
               -- the value's bucket: 0 for [0, 1), else 1 + floor(log_ratio(v)), at most grid_last
               least({grid_last:UInt16},
                     if(m.2 < 1, 0, toUInt16(1 + floor(log(m.2) / log({grid_ratio:Float64})))))
                   AS bucket,
               count() AS c
        FROM rum.events FINAL
        ARRAY JOIN [('lcp', lcp), ('inp', inp), ('cls', cls * 1000), ('fcp', fcp),
                    ('ttfb', ttfb)] AS m
        WHERE kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
          AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
        GROUP BY site, hour, metric, country, region, bucket
    )
    GROUP BY site, hour, metric, country, region
)
UNION ALL
SELECT '', toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), 'mark', '', '', [],
       (SELECT count() FROM rum.events WHERE kind = 'pageview'
          AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')),
       {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
