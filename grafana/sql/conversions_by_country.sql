-- conversions_by_country: where do sessions convert, and how much do they bring in?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   limit UInt32.
-- Output, most revenue first: country ('unknown' when not located), currency
--   ('' when the site sent none), sessions (sessions of that country), converted
--   (sessions with a conversion), conversion_rate (0-1), conversions, revenue (sum of
--   conversion values, in that currency). A country with two currencies has two rows.
SELECT
    if(country = '', 'unknown', country) AS country,
    currency,
    any(country_sessions) AS sessions,
    uniqExact(session_id) AS converted,
    converted / greatest(sessions, 1) AS conversion_rate,
    count() AS conversions,
    round(sum(ifNull(conversion_value, 0)), 2) AS revenue
FROM
(
    SELECT
        country, currency, session_id, conversion_value, kind,
        uniqExactIf(session_id, kind = 'pageview') OVER (PARTITION BY country) AS country_sessions
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind IN ('pageview', 'conversion')
)
WHERE kind = 'conversion'
GROUP BY country, currency
ORDER BY revenue DESC, conversions DESC, country
LIMIT {limit:UInt32}
