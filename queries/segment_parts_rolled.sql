-- segment_parts_rolled: segment_parts.sql from the segments rollup's rolled hours and the
-- raw rest (queries/why.py picks it when some hour of the window is rolled): the parts of
-- LCP and INP per country and per country + region (issue #22), for the explanation of
-- slow segments (docs/analytics.md "Why").
--
-- Answers: p75 of each part of LCP (lcp_ttfb, lcp_load_delay, lcp_load_time,
-- lcp_render_delay) and INP (inp_input_delay, inp_processing, inp_presentation), unweighted
-- (the parts come only from the attribution build, so there are few), the share of page
-- views on a slow connection (connection_type 'slow-2g', '2g' or '3g', among those that
-- sent one), and RTT p75.
--
-- Parameters:
--   site     String  site key; '' = every site
--   from_ms  Int64   window start, epoch milliseconds (inclusive)
--   until_ms Int64   window end, epoch milliseconds (exclusive)
--   first_ms, rolled_until_ms Int64, rolls Array(UInt64): the part of the window the
--            segments rollup answers and the roll of each of its hours (rollups/coverage.py
--            `coverage` with rollups.tables.SEGMENTS; first_ms = rolled_until_ms and [] =
--            none); hole_from_ms Int64: where the raw rest stops before them (`coverage`);
--            grid_ratio Float64, grid_last UInt16: the histogram grid
--   countries UInt8: 1 = answer every country (0 = none)
--   regions_of String: the countries whose regions to answer, a JSON array ('*' = every
--            country's)
--
-- Output, one row per segment that sent a part, an RTT or a connection type: level
-- ('country' | 'region'), country, region ('' on country rows), the seven p75s as
-- <part>_q (ms; meaningless when the count is 0: queries/why.py reads them as missing),
-- n_lcp_parts and n_inp_parts (page views that sent LCP / INP parts), slow_share (0-1,
-- NULL without connection_type), rtt_p75 (ms, NULL without RTT).
--
-- Bots are excluded; each event counts once (rum.events FINAL). Whole hours come from the
-- segments rollup (migrations 0180, 0220: the metrics of rollups/segments.py PARTS, per
-- country and per country + region) where it has rolled them, a country from its own rows
-- (not the sum of its regions'), the rest of the window from raw page views counted
-- the same way (rum.part_samples), so the answer is the same with or without the rollup.
-- A p75 is the middle of the grid bucket (rollups/grid.py) that holds the element
-- quantileExact picks, so within 1% of it (a part under 1 ms reads 0). The sparse
-- histograms are made dense (600 buckets) before they are added up: sumForEach over the
-- dense arrays takes under half the time of sumMap over the sparse ones (bench/RESULTS.md).
WITH
    cells AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py):
        -- the countries' histograms (set [1]) when asked, and those of the regions of the
        -- countries in regions_of (set [1, 2])
        SELECT if(set = [1], 'country', 'region') AS level, vals[1] AS c,
               if(set = [1], '', vals[2]) AS r, toString(metric) AS metric, buckets, counts
        FROM rum.segments_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          -- segments_hourly.metric: the column (its key), not the String alias above
          AND segments_hourly.metric IN ('lcp_ttfb', 'lcp_load_delay', 'lcp_load_time',
                                         'lcp_render_delay', 'inp_input_delay', 'inp_processing',
                                         'inp_presentation', 'rtt', 'slow_net')
          AND ((set = [1] AND {countries:UInt8} = 1)
               OR (set = [1, 2] AND ({regions_of:String} = '*'
                                     OR has(JSONExtract({regions_of:String}, 'Array(String)'), vals[1]))))
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
        UNION ALL
        -- the raw rest: the window but the rolled hours, counted as the roll counts it
        SELECT if(grouping(region) = 1, 'country', 'region') AS level, country AS c,
               if(grouping(region) = 1, '', region) AS r, metric, [bucket] AS buckets,
               [toUInt32(count())] AS counts
        FROM rum.part_samples(site = {site:String}, from_ms = {from_ms:Int64},
                              until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                              hole_until_ms = {rolled_until_ms:Int64},
                              grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
        GROUP BY GROUPING SETS ((country, metric, bucket), (country, region, metric, bucket))
        HAVING if(level = 'country', {countries:UInt8} = 1,
                  {regions_of:String} = '*' OR has(JSONExtract({regions_of:String}, 'Array(String)'), c))
    ),
    placed AS (
        -- each place's dense histogram of each metric (h[i] is bucket i - 1); quantileExact's
        -- rank floor(0.75 n) + 1 found in it, read at its bucket's middle (bucket 0, [0, 1): 0)
        SELECT level, c, r AS seg_region, metric,
               sumForEach(dense) AS h, arrayCumSum(h) AS cn, cn[-1] AS total,
               arrayFirstIndex(x -> x >= toUInt64(floor(0.75 * total)) + 1, cn) AS at,
               if(at <= 1, 0., pow({grid_ratio:Float64}, at - 1.5)) AS q,
               -- slow_net's page views on a slow connection: its values past bucket 0
               total - h[1] AS above_zero
        FROM (
            SELECT level, c, r, metric, mapPopulateSeries(buckets, counts) AS f,
                   arrayConcat(arrayWithConstant(f.1[1], toUInt32(0)), f.2,
                               arrayWithConstant({grid_last:UInt16} - f.1[-1], toUInt32(0))) AS dense
            FROM cells
        )
        -- the second set (a country's rows added up, dropped by HAVING) is not needed, but
        -- with it ClickHouse adds up the dense arrays in ~0.7 of the time of a plain GROUP BY
        -- of the first alone (bench/RESULTS.md, 2026-12-05)
        GROUP BY GROUPING SETS ((level, c, r, metric), (level, c, metric))
        HAVING grouping(r) = 0
    )
SELECT
    level, c AS country, seg_region AS region,
    anyIf(q, metric = 'lcp_ttfb') AS lcp_ttfb_q,
    anyIf(q, metric = 'lcp_load_delay') AS lcp_load_delay_q,
    anyIf(q, metric = 'lcp_load_time') AS lcp_load_time_q,
    anyIf(q, metric = 'lcp_render_delay') AS lcp_render_delay_q,
    anyIf(q, metric = 'inp_input_delay') AS inp_input_delay_q,
    anyIf(q, metric = 'inp_processing') AS inp_processing_q,
    anyIf(q, metric = 'inp_presentation') AS inp_presentation_q,
    sumIf(total, metric = 'lcp_ttfb') AS n_lcp_parts,
    sumIf(total, metric = 'inp_processing') AS n_inp_parts,
    if(sumIf(total, metric = 'slow_net') = 0, NULL,
       sumIf(above_zero, metric = 'slow_net') / sumIf(total, metric = 'slow_net')) AS slow_share,
    if(sumIf(total, metric = 'rtt') = 0, NULL, anyIf(q, metric = 'rtt')) AS rtt_p75
FROM placed
GROUP BY level, c, seg_region
