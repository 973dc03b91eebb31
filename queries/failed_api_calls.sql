-- failed_api_calls: which API endpoints fail for real users, and how?
--
-- Answers: failed fetch/XHR calls (network errors, status >= the agent's threshold)
-- by method, endpoint (numeric ids in the path grouped as :id) and status.
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   limit UInt32.
-- Output, most calls first: method, endpoint, status (0 = network error), calls,
--   pageviews, sessions, p75_duration (ms), last_seen (UTC).
SELECT
    api_method AS method,
    replaceRegexpAll(api_path, '/\\d+(/|$)', '/:id\\1') AS endpoint,
    api_status AS status,
    count() AS calls,
    uniqExact(pageview_id) AS pageviews,
    uniqExact(session_id) AS sessions,
    round(quantile(0.75)(api_duration), 1) AS p75_duration,
    toString(max(ts)) AS last_seen
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE kind = 'api'
GROUP BY method, endpoint, status
ORDER BY calls DESC, endpoint, status
LIMIT {limit:UInt32}
