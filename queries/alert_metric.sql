-- alert_metric: the value of one alert metric per group over a window, for alert rules.
--
-- Answers: "what is p75 LCP per country over the last 15 minutes?", "what share of
-- logins fails per country?", ... for the alert evaluator (alerts/evaluator.py).
--
-- Parameters:
--   site      String   site key; '' = every site
--   since_ms  Int64    window start, epoch ms (inclusive)
--   until_ms  Int64    window end, epoch ms (exclusive)
--   metric    String   lcp | inp | cls | fcp | ttfb (quantile at `level`),
--                      error_rate (page views with a JS error / page views),
--                      login_failure_rate (failed logins / login attempts),
--                      api_failure_rate (page views with a failed API call / page views),
--                      apdex (LCP-based: (satisfied + tolerating / 2) / samples, T = apdex_t)
--   level     Float64  quantile level for vitals (0.5, 0.75, 0.95)
--   apdex_t   Float64  Apdex T in ms (satisfied <= T, tolerating <= 4T)
--   d1, d2    String   group dimensions (country, region, city, device_class, browser,
--                      os, page_group, connection_type), '' = not grouped, mapped to
--                      columns by the rum.segmented_events view: no SQL text from a rule.
--
-- Output, one row per group: g1, g2 (group values, '' when not grouped),
--   value (ms for vitals, unitless CLS, a 0-1 ratio for rates and apdex), samples
--   (page views with the vital, page views, or login attempts), sessions (distinct).
-- Bots are excluded.
SELECT
    g1, g2,
    uniqExactIf(pageview_id, kind = 'pageview') AS pageviews,
    countIf(kind = 'login') AS logins,
    multiIf(
        {metric:String} IN ('lcp', 'inp', 'cls', 'fcp', 'ttfb'),
            quantileIf({level:Float64})(vital, kind = 'pageview'),
        {metric:String} = 'error_rate',
            uniqExactIf(pageview_id, kind = 'error') / greatest(pageviews, 1),
        {metric:String} = 'login_failure_rate',
            countIf(kind = 'login' AND login_success = 0) / greatest(logins, 1),
        {metric:String} = 'api_failure_rate',
            uniqExactIf(pageview_id, kind = 'api') / greatest(pageviews, 1),
        {metric:String} = 'apdex',
            (countIf(kind = 'pageview' AND lcp <= {apdex_t:Float64})
             + countIf(kind = 'pageview' AND lcp > {apdex_t:Float64}
                       AND lcp <= 4 * {apdex_t:Float64}) / 2)
            / greatest(countIf(kind = 'pageview' AND lcp IS NOT NULL), 1),
        NULL) AS value,
    multiIf(
        {metric:String} IN ('lcp', 'inp', 'cls', 'fcp', 'ttfb'),
            countIf(kind = 'pageview' AND vital IS NOT NULL),
        {metric:String} = 'login_failure_rate', logins,
        {metric:String} = 'apdex', countIf(kind = 'pageview' AND lcp IS NOT NULL),
        pageviews) AS samples,
    uniqExact(session_id) AS sessions
FROM
(
    SELECT
        kind, pageview_id, session_id, login_success, lcp,
        g1, g2,
        multiIf({metric:String} = 'lcp', lcp, {metric:String} = 'inp', inp,
                {metric:String} = 'cls', cls, {metric:String} = 'fcp', fcp,
                {metric:String} = 'ttfb', ttfb, NULL) AS vital
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
    WHERE kind IN ('pageview', 'error', 'api', 'login')
)
GROUP BY g1, g2
ORDER BY g1, g2
