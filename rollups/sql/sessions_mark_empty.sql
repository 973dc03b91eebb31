-- sessions_mark_empty: mark whole hours without page views or conversions as rolled.
--
-- Parameters: hours Array(Int64) (the hours' starts, epoch ms), roll UInt64.

INSERT INTO rum.sessions_hourly (site, hour, part, n, roll, rolled_until)
SELECT '', toDateTime(intDiv(h, 1000), 'UTC'), 'mark', 0, {roll:UInt64},
       fromUnixTimestamp64Milli(h + 3600000, 'UTC')
FROM (SELECT arrayJoin({hours:Array(Int64)}) AS h)
