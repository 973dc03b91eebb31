-- alert_affected_users: which users (ids the site sends) had page views in an alerting group.
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String (group dimensions as in alert_metric.sql, '' = none),
--   v1, v2 String (the group's values), max_users UInt32 (cap on the list).
-- Output: one row: users (Array(String), at most max_users ids, pseudonymized when they
--   looked like e-mail addresses at intake).
SELECT groupUniqArray({max_users:UInt32})(user_id) AS users
FROM rum.events
WHERE is_bot = 0
  AND user_id != ''
  AND ({site:String} = '' OR site = {site:String})
  AND ts >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
  AND multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
              {d1:String} = 'city', city, {d1:String} = 'device_class', device_class,
              {d1:String} = 'browser', browser, {d1:String} = 'os', os,
              {d1:String} = 'page_group', page_group,
              {d1:String} = 'connection_type', connection_type, '') = {v1:String}
  AND multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
              {d2:String} = 'city', city, {d2:String} = 'device_class', device_class,
              {d2:String} = 'browser', browser, {d2:String} = 'os', os,
              {d2:String} = 'page_group', page_group,
              {d2:String} = 'connection_type', connection_type, '') = {v2:String}
