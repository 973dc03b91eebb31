-- pages_mark_empty: mark whole hours without page views or errors as rolled (a marker each, n = 0), so
-- readers take them from the rollup and the scheduler does not look at them again.
--
-- Parameters: hours Array(Int64) (the hours' starts, epoch ms), roll UInt64, config UInt64
-- (rollups/tables.py PAGES).

INSERT INTO rum.pages_hourly (site, hour, set, n, config, roll, rolled_until)
SELECT '', toDateTime(intDiv(h, 1000), 'UTC'), 16, 0, {config:UInt64}, {roll:UInt64},
       fromUnixTimestamp64Milli(h + 3600000, 'UTC')
FROM (SELECT arrayJoin({hours:Array(Int64)}) AS h)
