-- segments_parts: the segments rollup (migration 0140) also keeps what `why` reads
-- (queries/why.py, docs/analytics.md "Why"): per hour and country, and per hour, country
-- and region, the histogram of each part of LCP and INP, of the RTT, and of `slow_net`
-- (1 for a page view on a slow-2g, 2g or 3g connection, 0 for another connection type;
-- none without one). queries/segment_parts.sql then adds up a day of them instead of
-- reading every page view (0.5 s on the analytics bench's day).
--
-- The metrics are new values of the rollup's `metric` (an Enum: adding values changes
-- only the table's metadata) and are rolled only under the grouping country + region
-- ([1, 2]; a country is the sum of its regions, '' among them, which the reader adds up:
-- half the histogram entries to merge): the explanation is per place. Their histograms
-- are on the same grid, unweighted (counts only: their rows' `weights` are empty, as
-- every reader of the rollup asks for its own metrics), with no outlier cap (`samples`
-- counts them all; a value past the grid's last bucket falls in it).
--
-- rum.part_samples(...) is the one definition of how a page view is counted: one row per
-- page view and part it sent (bots left out, deduplicated: FINAL) with its bucket, over
-- [from_ms, until_ms) but [hole_from_ms, hole_until_ms) (equal: no hole);
-- rum.part_cells(...) rolls them up for rollups/sql/segments_roll.sql, as rum.vital_cells
-- does the vitals. rollups/segments.py PARTS lists the metrics in the view's order, and
-- CELLS becomes 180, so every hour is rolled again and no roll made before is read.
--
-- Parameters: site String ('' = every site), from_ms, until_ms, hole_from_ms,
-- hole_until_ms Int64 (epoch ms; part_samples only: the hole), grid_ratio Float64,
-- grid_last UInt16.

ALTER TABLE rum.segments_hourly MODIFY COLUMN metric
    Enum8('mark' = 0, 'lcp' = 1, 'inp' = 2, 'cls' = 3, 'fcp' = 4, 'ttfb' = 5,
          'lcp_ttfb' = 6, 'lcp_load_delay' = 7, 'lcp_load_time' = 8, 'lcp_render_delay' = 9,
          'inp_input_delay' = 10, 'inp_processing' = 11, 'inp_presentation' = 12,
          'rtt' = 13, 'slow_net' = 14);

CREATE VIEW IF NOT EXISTS rum.part_samples AS
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
       OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'));

CREATE VIEW IF NOT EXISTS rum.part_cells AS
SELECT site, set, vals, metric, sum(c) AS samples,
       arraySort(groupArray((bucket, c))) AS hist,
       arrayMap(x -> x.1, hist) AS buckets, arrayMap(x -> x.2, hist) AS counts
FROM (
    SELECT site, metric, bucket, CAST([1, 2], 'Array(UInt8)') AS set,
           CAST([country, region], 'Array(String)') AS vals, toUInt32(count()) AS c
    FROM rum.part_samples(site = {site:String}, from_ms = {from_ms:Int64},
                          until_ms = {until_ms:Int64}, hole_from_ms = 0, hole_until_ms = 0,
                          grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
    GROUP BY site, metric, bucket, country, region
)
GROUP BY site, set, vals, metric;
