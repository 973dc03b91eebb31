-- series_roll: roll one hour [from_ms, until_ms) of page views into rum.series_hourly
-- (migration 0170): per site, 10-minute slice, metric and segment of each filter set
-- (GROUPING SETS: the whole site, device, country, device and country, country and
-- region, all three; `set` as rollups/tables.py SERIES_SETS numbers them),
-- rum.series_samples added up (samples, LCP's weights past good and poor, the sparse
-- weighted histogram), and the hour's marker (site '', metric 'mark': n = the raw page
-- views counted first, rolled_until = until_ms, config = what the roll is made with), all
-- under `roll`, in one INSERT, as vitals_roll.sql does.
--
-- Parameters: from_ms, until_ms Int64 (epoch ms; from_ms is the top of the hour),
-- roll UInt64, and rollups/tables.py SERIES binds: config UInt64, lcp_cap, inp_cap,
-- cls_cap, ttfb_cap, good, poor Float64, grid_ratio Float64, grid_last UInt16.

INSERT INTO rum.series_hourly
    (site, hour, t, metric, set, device_class, country, region, samples, above_good_w,
     above_poor_w, buckets, weights, n, config, roll, rolled_until)
SELECT site, toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), t, metric, set, device_class,
       country, region, samples, gw, pw, arrayMap(x -> x.1, hist), arrayMap(x -> x.2, hist),
       0 AS n, 0 AS config, {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
FROM (
    SELECT site, t, metric, set, device_class, country, region, toUInt32(sum(c)) AS samples,
           sum(bgw) AS gw, sum(bpw) AS pw,
           arraySort(groupArray((bucket, cw))) AS hist  -- (bucket, summed weight), ascending
    FROM (
        SELECT site, t, metric, device_class, country, region, bucket, count() AS c,
               sum(w) AS cw, sumIf(w, past_good) AS bgw, sumIf(w, past_poor) AS bpw,
               -- grouping(): a 1 bit = not grouped by (device_class the high bit)
               toUInt8(bitXor(7, (bitTest(grouping(device_class, country, region), 2)
                                  + 2 * bitTest(grouping(device_class, country, region), 1)
                                  + 4 * bitTest(grouping(device_class, country, region), 0))))
                   AS set
        FROM rum.series_samples(site = '', from_ms = {from_ms:Int64}, until_ms = {until_ms:Int64},
                                hole_from_ms = 0, hole_until_ms = 0, lcp_cap = {lcp_cap:Float64},
                                inp_cap = {inp_cap:Float64}, cls_cap = {cls_cap:Float64},
                                ttfb_cap = {ttfb_cap:Float64}, good = {good:Float64},
                                poor = {poor:Float64}, grid_ratio = {grid_ratio:Float64},
                                grid_last = {grid_last:UInt16})
        GROUP BY GROUPING SETS (
            -- rollups/tables.py SERIES_SETS: 0, 1, 2, 3, 6, 7
            (site, t, metric, bucket), (site, t, metric, bucket, device_class),
            (site, t, metric, bucket, country), (site, t, metric, bucket, device_class, country),
            (site, t, metric, bucket, country, region),
            (site, t, metric, bucket, device_class, country, region))
    )
    GROUP BY site, t, metric, set, device_class, country, region
)
UNION ALL
SELECT '', toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC'), toDateTime(0, 'UTC'), 'mark', 0, '', '',
       '', 0, 0, 0, [], [],
       (SELECT count() FROM rum.events WHERE kind = 'pageview'
          AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')),
       {config:UInt64}, {roll:UInt64}, fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
