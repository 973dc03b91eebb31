-- segments_roll: roll one hour [from_ms, until_ms) of page views into rum.segments_hourly
-- (migrations 0140, 0150, 0180): the rows of rum.vital_cells for the hour (per site, segment
-- of each grouping of rollups/segments.py GROUPINGS, and metric: exact counts, weighted
-- ones and the sparse histogram), those of rum.part_cells (the parts of LCP and INP, RTT
-- and slow_net by country + region: counts and histogram), and the hour's
-- marker (site '', metric 'mark': n = the raw page views counted first, rolled_until =
-- until_ms, config = what the roll is made with), all under `roll`, in one INSERT, as
-- vitals_roll.sql does.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms; from_ms is the top of the hour),
-- roll UInt64, config UInt64, and the metrics' constants and the grid (rollups/segments.py ROLL_PARAMS).

INSERT INTO rum.segments_hourly
    (site, hour, metric, set, vals, samples, outliers, above_good, above_poor, weight_sq,
     above_good_w, above_poor_w, above_4good_w, buckets, counts, weights, n, config, roll,
     rolled_until)
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), metric, set, vals, samples,
       outliers, above_good, above_poor, weight_sq, above_good_w, above_poor_w, above_4good_w,
       buckets, counts, weights, 0 AS n, 0 AS config, {roll:UInt64},
       fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM rum.vital_cells(site = '', from_ms = {from_ms:Int64}, until_ms = {until_ms:Int64},
                     caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)},
                     poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)},
                     grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
UNION ALL
-- the parts of LCP and INP, the RTT and slow_net, by country + region (migration 0180):
-- counts and the histogram, no weights
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), metric, set, vals, samples,
       0, 0, 0, 0, 0, 0, 0, buckets, counts, CAST([], 'Array(UInt64)'), 0, 0, {roll:UInt64},
       fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM rum.part_cells(site = '', from_ms = {from_ms:Int64}, until_ms = {until_ms:Int64},
                    grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
UNION ALL
SELECT '', toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), 'mark', [], [], 0, 0, 0, 0, 0, 0, 0, 0,
       [], [], [],
       (SELECT count() FROM rum.events WHERE kind = 'pageview'
          AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')),
       {config:UInt64}, {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
