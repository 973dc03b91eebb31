-- alert_affected_users: which users (ids the site sends) had page views in an alerting group.
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String (group dimensions as in rum.segmented_events, '' = none),
--   v1, v2 String (the group's values), max_users UInt32 (cap on the list).
-- Output: one row: users (Array(String), at most max_users ids, pseudonymized when they
--   looked like e-mail addresses at intake).
SELECT groupUniqArray({max_users:UInt32})(user_id) AS users
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
WHERE user_id != ''
  AND g1 = {v1:String}
  AND g2 = {v2:String}
