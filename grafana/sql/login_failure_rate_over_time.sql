-- login_failure_rate_over_time: is the login failure rate of a country rising?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   bucket_s UInt32 (bucket width, seconds), min_attempts UInt32 (countries with fewer
--   attempts in the window are left out: noise).
-- Output, long format (one row per bucket and country, oldest first): time (UTC),
--   country, failure_rate (0-1). The ClickHouse plugin turns it into one series per country.
SELECT
    toStartOfInterval(toDateTime(ts), INTERVAL {bucket_s:UInt32} second) AS time,
    if(country = '', 'unknown', country) AS country,
    countIf(login_success = 0) / count() AS failure_rate
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE kind = 'login'
  AND country IN (
      SELECT country
      FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
          until_ms = {until_ms:Int64}, d1 = '', d2 = '')
      WHERE kind = 'login'
      GROUP BY country
      HAVING count() >= {min_attempts:UInt32})
GROUP BY time, country
ORDER BY time, country
