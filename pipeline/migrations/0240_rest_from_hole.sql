-- rest_from_hole: the raw rests' views say where a rest starts when the rolled hours begin at
-- the window's start, so that ClickHouse's primary key sees it.
--
-- A reader whose rolled hours start where its window starts passes hole_from_ms 0 (the
-- hole reaches back past the window: rollups/coverage.py), so its raw rest is only
-- [hole_until_ms, until_ms), the minute or two since the last roll. The views said it as
-- `ts < hole_from OR ts >= hole_until`, and with that OR the primary key's range analysis
-- kept one granule of every part of the window (the edge where `kind` changes), which
-- FINAL then read and merged. On the analytics bench's 7-day store (16 parts), an empty
-- rest read directly took 12-42 ms with the OR and ~3 ms with the range alone; through
-- rum.series_samples (vitals-timeseries' rest), with the view's planning, 32-66 -> 14-41
-- ms. slow_regions.sql, which reads its rest itself, says it the same way. Each view
-- below is its last migration's with one more condition, which adds nothing to what it
-- selects: when the hole starts at or before the window (hole_from_ms <= from_ms), rows
-- start at the later of from_ms and hole_until_ms, otherwise at from_ms. (rum.page_samples
-- takes every kind, so the granule where two kinds meet in a part is still read.)

-- as in migration 0150, with the rest's start
CREATE OR REPLACE VIEW rum.vital_samples AS
SELECT site, country, region, device_class, browser, os, page_group, connection_type,
       [country, region, device_class, browser, os, page_group, connection_type] AS dims,
       metric, w, ok, ok AND v > good AS past_good, ok AND v > poor AS past_poor,
       ok AND v > 4 * good AS past_4good, bucket
FROM (
    SELECT site, country, region, device_class, browser, os, page_group, connection_type,
           m.1 AS i, ['lcp', 'inp', 'cls', 'fcp', 'ttfb'][i] AS metric,
           assumeNotNull(m.2) AS v, toUInt64(greatest(1, round(sample_weight))) AS w,
           v <= {caps:Array(Float64)}[i] AS ok,
           {goods:Array(Float64)}[i] AS good, {poors:Array(Float64)}[i] AS poor,
           v * {scales:Array(Float64)}[i] AS scaled,
           if(ok, least({grid_last:UInt16},
                        if(scaled < 1, 0,
                           toUInt16(1 + floor(log(scaled) / log({grid_ratio:Float64}))))),
              0) AS bucket
    FROM rum.events FINAL
    ARRAY JOIN arrayFilter(x -> has({metrics:Array(String)}, ['lcp', 'inp', 'cls', 'fcp', 'ttfb'][x.1]),
                           arrayZip([1, 2, 3, 4, 5], [lcp, inp, cls, fcp, ttfb])) AS m
    WHERE kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
      AND ({site:String} = '' OR site = {site:String})
      AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
      AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
           OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
      AND ts >= fromUnixTimestamp64Milli(if({hole_from_ms:Int64} <= {from_ms:Int64},
                                             greatest({from_ms:Int64}, {hole_until_ms:Int64}),
                                             {from_ms:Int64}), 'UTC')
);

-- as in migration 0170, with the rest's start
CREATE OR REPLACE VIEW rum.series_samples AS
SELECT site, toStartOfInterval(ts, INTERVAL 10 MINUTE, 'UTC') AS t, device_class, country,
       region, m.1 AS metric, w, m.1 = 'lcp' AND assumeNotNull(m.2) > {good:Float64} AS past_good,
       m.1 = 'lcp' AND assumeNotNull(m.2) > {poor:Float64} AS past_poor,
       if(m.1 = 'views', 0,
          least({grid_last:UInt16},
                if(scaled < 1, 0, toUInt16(1 + floor(log(scaled) / log({grid_ratio:Float64}))))))
           AS bucket
FROM (
    SELECT site, ts, device_class, country, region, m,
           toUInt64(greatest(1, round(sample_weight))) AS w,
           assumeNotNull(m.2) * if(m.1 = 'cls', 1000, 1) AS scaled
    FROM rum.events FINAL
    ARRAY JOIN arrayFilter(x -> x.2 IS NOT NULL AND assumeNotNull(x.2) <= x.3,
                           [('views', CAST(0 AS Nullable(Float64)), inf),
                            ('lcp', CAST(lcp AS Nullable(Float64)), {lcp_cap:Float64}),
                            ('inp', CAST(inp AS Nullable(Float64)), {inp_cap:Float64}),
                            ('cls', CAST(cls AS Nullable(Float64)), {cls_cap:Float64}),
                            ('ttfb', CAST(ttfb AS Nullable(Float64)), {ttfb_cap:Float64})]) AS m
    WHERE kind = 'pageview' AND is_bot = 0
      AND ({site:String} = '' OR site = {site:String})
      AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
      AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
           OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
      AND ts >= fromUnixTimestamp64Milli(if({hole_from_ms:Int64} <= {from_ms:Int64},
                                             greatest({from_ms:Int64}, {hole_until_ms:Int64}),
                                             {from_ms:Int64}), 'UTC')
);

-- as in migration 0180, with the rest's start
CREATE OR REPLACE VIEW rum.part_samples AS
SELECT site, country, region, m.1 AS metric, assumeNotNull(m.2) AS v,
       least({grid_last:UInt16},
             if(v < 1, 0, toUInt16(1 + floor(log(v) / log({grid_ratio:Float64}))))) AS bucket
FROM rum.events FINAL
ARRAY JOIN [('lcp_ttfb', toFloat64(lcp_ttfb)), ('lcp_load_delay', toFloat64(lcp_load_delay)),
            ('lcp_load_time', toFloat64(lcp_load_time)),
            ('lcp_render_delay', toFloat64(lcp_render_delay)),
            ('inp_input_delay', toFloat64(inp_input_delay)),
            ('inp_processing', toFloat64(inp_processing)),
            ('inp_presentation', toFloat64(inp_presentation)), ('rtt', toFloat64(rtt)),
            ('slow_net', if(connection_type = '', NULL,
                            toFloat64(connection_type IN ('slow-2g', '2g', '3g'))))] AS m
WHERE kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
  AND ({site:String} = '' OR site = {site:String})
  AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
  AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
       OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
  AND ts >= fromUnixTimestamp64Milli(if({hole_from_ms:Int64} <= {from_ms:Int64},
                                         greatest({from_ms:Int64}, {hole_until_ms:Int64}),
                                         {from_ms:Int64}), 'UTC');

-- as in migration 0190, with the rest's start
CREATE OR REPLACE VIEW rum.page_samples AS
SELECT site, kind, device_class, country, region, page_group, ts,
       cityHash64(pageview_id) AS pv, cityHash64(session_id) AS sess,
       toUInt64(greatest(1, round(sample_weight))) AS w,
       if(kind = 'pageview', lcp_element, '') AS element,
       if(kind = 'pageview', lcp_resource, '') AS resource,
       -- LCP, INP, CLS, TTFB (METRIC_PARAMS positions 1, 2, 3, 5): each value's grid bucket
       -- (not Nullable: the aggregate states' argument types are the table's)
       arrayMap((v, m) -> assumeNotNull(
                    if(kind != 'pageview' OR isNull(v) OR v > {caps:Array(Float64)}[m], -1,
                       toInt32(if(v * {scales:Array(Float64)}[m] < 1, 0,
                                  least({grid_last:UInt16},
                                        1 + floor(log(v * {scales:Array(Float64)}[m])
                                                  / log({grid_ratio:Float64}))))))),
                [lcp, inp, cls, ttfb], [1, 2, 3, 5]) AS b
FROM rum.events FINAL
WHERE is_bot = 0
  AND ({site:String} = '' OR site = {site:String})
  AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
  AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
       OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
  AND ts >= fromUnixTimestamp64Milli(if({hole_from_ms:Int64} <= {from_ms:Int64},
                                         greatest({from_ms:Int64}, {hole_until_ms:Int64}),
                                         {from_ms:Int64}), 'UTC');
