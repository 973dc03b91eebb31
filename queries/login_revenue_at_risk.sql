-- login_revenue_at_risk: what do failing logins cost?
--
-- Answers, per segment (one or two session-level dimensions, or none): the sessions
-- that tried to log in, those blocked (every login attempt failed), those logged in
-- (a successful login), and how logged-in sessions convert and spend (conversion rows
-- of the same session). queries/revenue.py multiplies the blocked sessions by the
-- site's conversion rate of logged-in sessions and their value per conversion, and
-- tests each segment's blocked share against the rest of the site (docs/analytics.md).
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none).
--
-- Output, one row per segment with a login attempt: g1, g2, login_sessions, blocked,
--   logged_in, logged_in_converted (logged-in sessions with a conversion),
--   logged_in_revenue (their conversion value, site currency), all observed;
--   weighted_login_sessions, weighted_blocked (weighted by sample_weight),
--   currencies (currency codes seen on conversions).
SELECT
    g1, g2,
    countIf(attempts > 0) AS login_sessions,
    countIf(attempts > 0 AND succeeded = 0) AS blocked,
    countIf(succeeded = 1) AS logged_in,
    countIf(succeeded = 1 AND orders > 0) AS logged_in_converted,
    sumIf(revenue, succeeded = 1) AS logged_in_revenue,
    sumIf(w, attempts > 0) AS weighted_login_sessions,
    sumIf(w, attempts > 0 AND succeeded = 0) AS weighted_blocked,
    groupUniqArrayArray(currencies) AS currencies
FROM
(
    SELECT
        g1, g2, session_id,
        countIf(kind = 'login') AS attempts,
        maxIf(ifNull(login_success, 0), kind = 'login') AS succeeded,
        countIf(kind = 'conversion') AS orders,
        sumIf(ifNull(conversion_value, 0), kind = 'conversion') AS revenue,
        max(toFloat64(sample_weight)) AS w,
        groupUniqArrayIf(currency, kind = 'conversion' AND currency != '') AS currencies
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
    WHERE kind IN ('login', 'conversion')
    GROUP BY g1, g2, session_id
)
GROUP BY g1, g2
HAVING login_sessions > 0
ORDER BY blocked DESC, g1, g2
