-- sessions_roll: roll one hour [from_ms, until_ms) into rum.sessions_hourly (migration
-- 0090 explains its rows: 'session' pieces, 'agg' sums, 'views' histograms, the 'mark').
--
-- A session is a site's session id on one UTC day (sess = cityHash64(session_id,
-- toDate(ts)): it ends at midnight, so it spans at most 24 hours, which bounds a roll's
-- work per session, quadratic in its hours), and counts, whole, in the segment of its
-- earliest event in a window: its country, region and device class in the sums of set 0,
-- its browser in set 1, os in set 2, connection type in set 3 (`dset`, rollups/tables.py
-- SESSION_SETS; migrations 0160 and 0210). The roll takes the
-- hour's sessions' pieces (one per session seen in the hour), reads the pieces the same
-- sessions left in other hours (each hour's newest roll), and for each hour H a window
-- may start at, from the session's first hour to this one, adds the session as such a
-- window sees it up to this hour to the 'agg' sums of H while taking out what it was up
-- to its previous hour: the sums of H hold each session once, as of its last hour
-- (telescoping); each such row is added to the sums of every set, under the set's own
-- dimensions (the others ''). A session's LCP is the p75 (quantileExact) of its page
-- views' LCPs up to lcp_cap; its bucket is whole seconds, 0-6. The marker records the
-- hour's content and the hours it shares sessions with (`deps`, `dep_content`:
-- rollups/coverage.py `stale_hours` reads them). queries/revenue_by_speed.sql cuts the
-- raw rest of a window into pieces the same way.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms; from_ms is the top of the hour),
-- roll UInt64, lcp_cap UInt32, grid_ratio Float64, grid_last UInt16.

INSERT INTO rum.sessions_hourly
    (site, hour, part, from_hour, carried, dset, country, region, device_class, browser, os,
     connection_type, bucket, sess, sessions,
     converted,
     orders, revenue, revenue_sq, w, w_revenue, lcp_sum, lcps, currencies, counts, n, content,
     deps, dep_content, roll, rolled_until)
WITH
    current AS (
        -- the newest roll of every other hour (rows of superseded rolls are not read; the
        -- days' markers, a second past midnight, are not an hour's)
        SELECT hour, max(roll) AS newest, argMax(content, roll) AS newest_content
        FROM rum.sessions_hourly
        WHERE site = '' AND part = 'mark' AND toUnixTimestamp(hour) % 3600 = 0
          AND hour != toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC')
        GROUP BY hour
    ),
    (SELECT mapFromArrays(groupArray(hour), groupArray(newest_content)) FROM current) AS known,
    sessions AS (
        -- the sessions seen in this hour, each with all its pieces (this hour's, from
        -- deduplicated raw events, and other hours'), by hour
        SELECT site, sess,
               arraySort(p -> p.1, groupArray((hour, country, region, lcps, toInt64(orders),
                                               revenue, w, currencies, device_class, browser, os,
                                               connection_type))) AS ps
        FROM (
            SELECT toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC') AS hour, site, sess,
                   seg.1 AS country, seg.2 AS region, lcps, orders, revenue, w, currencies,
                   seg.3 AS device_class, seg.4 AS browser, seg.5 AS os, seg.6 AS connection_type
            FROM (
                SELECT site, cityHash64(session_id, toDate(ts)) AS sess,
                       argMin((country, region, device_class, browser, os, connection_type),
                              rumEventOrder(ts, event_id)) AS seg,
                       arraySort(groupArrayIf(assumeNotNull(lcp), kind = 'pageview'
                                              AND lcp IS NOT NULL AND lcp <= {lcp_cap:UInt32}))
                           AS lcps,
                       toUInt32(countIf(kind = 'conversion')) AS orders,
                       sumIf(ifNull(conversion_value, 0), kind = 'conversion') AS revenue,
                       max(toFloat64(sample_weight)) AS w,
                       groupUniqArrayIf(currency, kind = 'conversion' AND currency != '')
                           AS currencies
                FROM rum.events FINAL
                WHERE is_bot = 0 AND kind IN ('pageview', 'conversion')
                  AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
                  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
                GROUP BY site, sess
            )
            UNION ALL
            SELECT hour, site, sess, country, region, lcps, orders, revenue, w, currencies,
                   device_class, browser, os, connection_type
            FROM rum.sessions_hourly
            WHERE part = 'session' AND hour != toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC')
              AND (hour, roll) IN (SELECT hour, newest FROM current)
              AND sess IN (SELECT cityHash64(session_id, toDate(ts)) FROM rum.events
                           WHERE is_bot = 0 AND kind IN ('pageview', 'conversion')
                             AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
                             AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC'))
        )
        GROUP BY site, sess
        HAVING has(arrayMap(p -> p.1, ps), toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'))
    ),
    emits AS (
        -- per session: its piece of this hour (k 0: its 'session' row; k 3: its share of
        -- the marker), and for each hour H from its first to this one, the session as a
        -- window starting at H sees it up to this hour (k 1, +1) and up to its previous
        -- hour (k 2, -1): its pieces from H on (the earliest gives its segment)
        SELECT site, sess, ps, first_hour, e.1 AS k, e.2 AS from_hour, e.3 AS pieces
        FROM (
            SELECT site, sess, ps, ps[1].1 AS first_hour,
                   arrayFilter(p -> p.1 <= toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), ps) AS upto,
                   arrayFilter(p -> p.1 = toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), ps) AS here,
                   arrayConcat(
                       [(0, first_hour, here), (3, first_hour, here)],
                       arrayFlatten(arrayMap(
                           h -> [(1, h, arrayFilter(p -> p.1 >= h, upto)),
                                 (2, h, arrayFilter(p -> p.1 >= h
                                                   AND p.1 < toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), upto))],
                           arrayMap(i -> first_hour + i * 3600,
                                    range(toUInt32(dateDiff('hour', first_hour,
                                                            toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'))) + 1)))))
                       AS es
            FROM sessions
        )
        ARRAY JOIN es AS e
        WHERE k IN (0, 3) OR notEmpty(arrayFlatten(arrayMap(p -> p.4, pieces)))
    ),
    out AS (
        SELECT multiIf(k = 0, 'session', k = 3, 'mark', 'agg') AS o_part,
               if(k = 3, '', site) AS o_site,
               if(k = 3, '', pieces[1].2) AS o_country,
               if(k = 3, '', pieces[1].3) AS o_region,
               if(k = 3, '', pieces[1].9) AS o_device_class,
               if(k = 3, '', pieces[1].10) AS o_browser,
               if(k = 3, '', pieces[1].11) AS o_os,
               if(k = 3, '', pieces[1].12) AS o_connection_type,
               if(k IN (1, 2), from_hour, toDateTime(0, 'UTC')) AS o_from_hour,
               toUInt8(k IN (1, 2) AND from_hour > first_hour) AS o_carried,
               arraySort(arrayFlatten(arrayMap(p -> p.4, pieces))) AS all_lcps,
               (arraySum(arrayMap(p -> p.5, pieces)), arraySum(arrayMap(p -> p.6, pieces)),
                arrayMax(arrayMap(p -> p.7, pieces)),
                if(k IN (1, 2), toFloat64(arrayReduce('quantileExact(0.75)', all_lcps)), 0.)) AS v,
               if(k IN (1, 2), toUInt8(least(6, intDiv(toUInt32(v.4), 1000))), 0) AS o_bucket,
               if(k = 0, sess, 0) AS o_sess, multiIf(k = 3, 0, k = 2, -1, 1) AS sign,
               if(k = 0, all_lcps, []) AS o_lcps,
               if(k = 3, [], arrayDistinct(arrayFlatten(arrayMap(p -> p.8, pieces))))
                   AS o_currencies,
               if(k = 3, cityHash64(site, pieces[1].2, pieces[1].3, sess, pieces[1].4,
                                    pieces[1].5, pieces[1].6, pieces[1].7, arraySort(pieces[1].8),
                                    pieces[1].9, pieces[1].10, pieces[1].11, pieces[1].12),
                  0) AS o_content,
               if(k = 3, arrayFilter(h -> h != toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'),
                                     arrayMap(p -> p.1, ps)), []) AS o_deps
        FROM emits
    )
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), part, from_hour, carried, dset, country,
       region, device_class, browser, os, connection_type, bucket, sess,
       toInt32(sum(sign)), toInt32(sum(sign * (v.1 > 0))), toInt32(sum(sign * v.1)),
       sum(sign * v.2), sum(sign * v.2 * v.2), sum(sign * v.3), sum(sign * v.3 * v.2),
       sum(sign * v.4), any(lcps), groupUniqArrayArray(currencies), [],
       if(part = 'mark', (SELECT count() FROM rum.events
                          WHERE kind IN ('pageview', 'conversion')
                            AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
                            AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')), 0),
       groupBitXor(content), arraySort(groupUniqArrayArray(deps)) AS dep_hours,
       arrayMap(h -> known[h], dep_hours),
       {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM (
    -- an 'agg' row once per set (rollups/tables.py SESSION_SETS), under that set's
    -- dimensions; a 'session' piece keeps all of them (set 0)
    SELECT o_part AS part, o_site AS site, dset,
           if(part = 'agg' AND dset != 0, '', o_country) AS country,
           if(part = 'agg' AND dset != 0, '', o_region) AS region,
           if(part = 'agg' AND dset != 0, '', o_device_class) AS device_class,
           if(part = 'session' OR (part = 'agg' AND dset = 1), o_browser, '') AS browser,
           if(part = 'session' OR (part = 'agg' AND dset = 2), o_os, '') AS os,
           if(part = 'session' OR (part = 'agg' AND dset = 3), o_connection_type, '') AS connection_type,
           o_from_hour AS from_hour, o_carried AS carried, o_bucket AS bucket, o_sess AS sess,
           sign, v, o_lcps AS lcps, o_currencies AS currencies, o_content AS content,
           o_deps AS deps
    FROM out
    ARRAY JOIN if(o_part = 'agg', [0, 1, 2, 3], [0]) AS dset
    UNION ALL  -- the marker, also when the hour has no piece
    SELECT 'mark', '', 0, '', '', '', '', '', '', toDateTime(0, 'UTC'), 0, 0, 0, 0, (0, 0., 0., 0.), [], [],
           0, []
)
GROUP BY site, part, from_hour, carried, dset, country, region, device_class, browser, os,
         connection_type, bucket, sess
UNION ALL
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), 'views', toDateTime(0, 'UTC'), 0, dset, country,
       region, device_class, browser, os, connection_type, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, [], [],
       arrayConcat(arrayWithConstant(filled.1[1], toUInt32(0)),
                   arrayMap(x -> toUInt32(x), filled.2),
                   arrayWithConstant({grid_last:UInt16} - filled.1[-1], toUInt32(0))),
       0, 0, [], [], {roll:UInt64},
       fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM (
    SELECT site, dset, country, region, device_class, browser, os, connection_type,
           mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
    FROM (
        -- per set, the page views' own dimensions of that set (the others '')
        SELECT site, multiIf(grouping(browser) = 0, 1, grouping(os) = 0, 2,
                             grouping(connection_type) = 0, 3, 0) AS dset,
               country, region, device_class, browser, os, connection_type,
               least({grid_last:UInt16},
                     if(lcp < 1, 0, toUInt16(1 + floor(log(lcp) / log({grid_ratio:Float64})))))
                   AS bucket,
               count() AS c
        FROM rum.events FINAL
        WHERE kind = 'pageview' AND is_bot = 0 AND lcp IS NOT NULL AND lcp <= {lcp_cap:UInt32}
          AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
        GROUP BY GROUPING SETS ((site, country, region, device_class, bucket), (site, browser, bucket),
                                (site, os, bucket), (site, connection_type, bucket))
    )
    GROUP BY site, dset, country, region, device_class, browser, os, connection_type
)
