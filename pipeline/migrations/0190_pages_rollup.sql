-- pages_rollup: the pages of a site per hour, so that slow-pages (the dashboard's Pages
-- view and drill-down step 2) adds up rolled aggregate states instead of reading every
-- page view of the window (docs/analytics.md, "Rollups").
--
-- The rollup keeps ClickHouse's own aggregate states, which add up across hours exactly:
-- uniqExact of the page views' and sessions' 64-bit id hashes (a page view flushed in two
-- hours, a session over many, count once), quantileExactWeighted of each metric's grid
-- bucket (a map bucket -> summed weight: the weighted histogram), and sumMap of the LCP
-- elements and resources (each one's page views). A question merges the rolled hours'
-- states with the raw rest's, computed by the same expressions, so its answer is the one
-- it gives on raw events alone.
--
-- rum.page_samples(...) is the one definition of how an event is counted: one row per
-- event (bots left out, deduplicated: FINAL) with its device class, country,
-- region and page group, its ids' hashes (pv, sess), its sample weight rounded (w), the
-- LCP element and resource of a page view ('' otherwise) and `b`, the grid bucket of its
-- LCP, INP, CLS and TTFB (rollups/grid.py; CLS x 1000: `scales`; -1: not a page view, no
-- value, or past the metric's cap, an outlier), over [from_ms, until_ms) but
-- [hole_from_ms, hole_until_ms) (equal: no hole).
--
-- rum.page_cells(...) rolls them up for rollups/sql/pages_roll.sql:
-- per site and page group, of page views and errors, under each filter slow-pages takes
-- (`set`, bits: device class 1, country 2, region 4; a region is kept with its country;
-- rollups/tables.py PAGES_SETS), the columns not in the set ''.
--
-- Parameters: site String ('' = every site), from_ms, until_ms Int64 (epoch ms),
-- hole_from_ms, hole_until_ms Int64 (page_samples only), caps, scales Array(Float64) (LCP,
-- INP, CLS, FCP, TTFB: rollups/segments.py METRIC_PARAMS), grid_ratio Float64,
-- grid_last UInt16.
CREATE VIEW IF NOT EXISTS rum.page_samples AS
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
       OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'));

CREATE VIEW IF NOT EXISTS rum.page_cells AS
-- (a column a grouping set leaves out reads '', its type's default)
SELECT site, toUInt8(7 - grouping(region, country, device_class)) AS set, device_class,
       country, region, page_group,
       uniqExactIfState(pv, kind = 'pageview') AS pageviews, uniqExactState(sess) AS sessions,
       toUInt64(countIf(kind = 'error')) AS errors,
       [toUInt64(countIf(b[1] >= 0)), toUInt64(countIf(b[2] >= 0)),
        toUInt64(countIf(b[3] >= 0)), toUInt64(countIf(b[4] >= 0))] AS samples,
       quantileExactWeightedIfState(0.75)(b[1], w, b[1] >= 0) AS lcp,
       quantileExactWeightedIfState(0.75)(b[2], w, b[2] >= 0) AS inp,
       quantileExactWeightedIfState(0.75)(b[3], w, b[3] >= 0) AS cls,
       quantileExactWeightedIfState(0.75)(b[4], w, b[4] >= 0) AS ttfb,
       sumMapState(if(element = '', [], [element]), if(element = '', [], [toUInt64(1)])) AS elements,
       sumMapState(if(resource = '', [], [resource]), if(resource = '', [], [toUInt64(1)])) AS resources
FROM rum.page_samples(site = {site:String}, from_ms = {from_ms:Int64}, until_ms = {until_ms:Int64},
                      hole_from_ms = 0, hole_until_ms = 0, caps = {caps:Array(Float64)},
                      scales = {scales:Array(Float64)}, grid_ratio = {grid_ratio:Float64},
                      grid_last = {grid_last:UInt16})
WHERE kind IN ('pageview', 'error')
-- rollups/tables.py PAGES_SETS, in its order (0, 1, 2, 3, 6, 7; a test checks they agree)
GROUP BY GROUPING SETS ((site, page_group), (site, page_group, device_class),
                        (site, page_group, country), (site, page_group, country, device_class),
                        (site, page_group, country, region),
                        (site, page_group, country, region, device_class));

-- One row per (site, hour, set, device class, country, region, page group) of a roll, and
-- per hour a marker (site '', set 16: n = the raw page views and errors counted, rolled_until = the end
-- of the time covered, config = what the roll was made with: rollups/tables.py PAGES),
-- all under the roll's id, as the other rollups (a reader takes each hour's newest roll).
CREATE TABLE IF NOT EXISTS rum.pages_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    set          UInt8,
    device_class LowCardinality(String),
    country      LowCardinality(String),
    region       LowCardinality(String),
    page_group   String,
    pageviews    AggregateFunction(uniqExactIf, UInt64, UInt8),
    sessions     AggregateFunction(uniqExact, UInt64),
    errors       UInt64,
    samples      Array(UInt64),
    lcp          AggregateFunction(quantileExactWeightedIf(0.75), Int32, UInt64, UInt8),
    inp          AggregateFunction(quantileExactWeightedIf(0.75), Int32, UInt64, UInt8),
    cls          AggregateFunction(quantileExactWeightedIf(0.75), Int32, UInt64, UInt8),
    ttfb         AggregateFunction(quantileExactWeightedIf(0.75), Int32, UInt64, UInt8),
    elements     AggregateFunction(sumMap, Array(String), Array(UInt64)),
    resources    AggregateFunction(sumMap, Array(String), Array(UInt64)),
    n            UInt64,
    config       UInt64,
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, set, hour, device_class, country, region, page_group)
-- Kept 8 days (rollups/tables.py PAGES keep_days): the page views' and sessions' hashes make
-- a day of it about 0.6 GB at 10 million page views (the exact distinct counts cost
-- that); a window reaching further back reads its older hours raw. Granules of 64 rows:
-- a row's states are large, so a place's rows are read without its neighbours' (a
-- region's slow pages read 37 ms instead of 213 on the analytics bench's day).
TTL hour + INTERVAL 8 DAY
SETTINGS index_granularity = 64;
