-- login_failure_reasons: why do logins fail?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   limit UInt32.
-- Output, most failures first: reason ('unspecified' when the site sent none), failures.
SELECT
    if(login_reason = '', 'unspecified', login_reason) AS reason,
    count() AS failures
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE kind = 'login' AND login_success = 0
GROUP BY reason
ORDER BY failures DESC, reason
LIMIT {limit:UInt32}
