-- pages_roll: roll one hour [from_ms, until_ms) of page views and errors into
-- rum.pages_hourly (migration 0190): the rows of rum.page_cells for the hour (per site and
-- page group under each filter of rollups/tables.py PAGES_SETS: aggregate states and
-- counts) and the hour's marker (site '', set 16: n = the raw rows counted first, rolled_until =
-- until_ms, config = what the roll is made with), all under `roll`, in one INSERT, as
-- vitals_roll.sql does.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms; from_ms is the top of the hour),
-- roll UInt64, config UInt64, caps, scales Array(Float64), grid_ratio Float64,
-- grid_last UInt16 (rollups/tables.py PAGES binds them).

INSERT INTO rum.pages_hourly
    (site, hour, set, device_class, country, region, page_group, pageviews, sessions, errors,
     samples, lcp, inp, cls, ttfb, elements, resources, n, config, roll, rolled_until)
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), set, device_class, country,
       region, page_group, pageviews, sessions, errors, samples, lcp, inp, cls, ttfb,
       elements, resources, 0 AS n, 0 AS config, {roll:UInt64},
       fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM rum.page_cells(site = '', from_ms = {from_ms:Int64}, until_ms = {until_ms:Int64},
                    caps = {caps:Array(Float64)}, scales = {scales:Array(Float64)},
                    grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
UNION ALL
-- (the marker's states are empty ones; readers take site != '')
SELECT '', toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), 16, '', '', '', '',
       uniqExactIfState(toUInt64(0), false),
       arrayReduce('uniqExactState', CAST([], 'Array(UInt64)')), 0 AS errors, [],
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       quantileExactWeightedIfState(0.75)(toInt32(-1), toUInt64(1), false),
       sumMapState(CAST([], 'Array(String)'), CAST([], 'Array(UInt64)')),
       sumMapState(CAST([], 'Array(String)'), CAST([], 'Array(UInt64)')),
       (SELECT count() FROM rum.events
        WHERE kind IN ('pageview', 'error') AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')),
       {config:UInt64}, {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
