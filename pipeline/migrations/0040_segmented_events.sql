-- segmented_events: rum.events of one window and site, bots left out, with two segment
-- columns g1, g2 chosen by name. A parameterized view, so every query (queries/*.sql)
-- shares one definition of the filter and of the dimension list, and a segment name from
-- a request is a bound string mapped by multiIf, never SQL text.
--
-- Parameters: site String ('' = every site), since_ms Int64, until_ms Int64 (epoch ms,
--   [since, until)), d1, d2 String: country, region, city, asn, device_class, browser,
--   os, page_group, connection_type, or '' (the column is then '').
-- Use: SELECT g1, count() FROM rum.segmented_events(site = {site:String}, ...) GROUP BY g1
CREATE VIEW IF NOT EXISTS rum.segmented_events AS
SELECT
    *,
    multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
            {d1:String} = 'city', city, {d1:String} = 'asn', toString(asn),
            {d1:String} = 'device_class', device_class, {d1:String} = 'browser', browser,
            {d1:String} = 'os', os, {d1:String} = 'page_group', page_group,
            {d1:String} = 'connection_type', connection_type, '') AS g1,
    multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
            {d2:String} = 'city', city, {d2:String} = 'asn', toString(asn),
            {d2:String} = 'device_class', device_class, {d2:String} = 'browser', browser,
            {d2:String} = 'os', os, {d2:String} = 'page_group', page_group,
            {d2:String} = 'connection_type', connection_type, '') AS g2
FROM rum.events
WHERE is_bot = 0
  AND ({site:String} = '' OR site = {site:String})
  AND ts >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC');
