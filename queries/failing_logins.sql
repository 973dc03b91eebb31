-- failing_logins: where are customers failing to log in, and is that local or global?
--
-- Answers: login attempts, failures and failure rate per segment, the most common
-- failure reasons, the sessions that failed and never succeeded (blocked), and the
-- totals over all segments from which queries/stats.py computes each segment's
-- baseline (the rest of the site: the segment itself excluded) and a two-proportion
-- z-test (docs/analytics.md).
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none).
-- Output, one row per segment: g1, g2, attempts, failures, failure_rate (0-1),
--   top_reasons (up to 5 failure reasons, most frequent first), sessions,
--   sessions_blocked (sessions whose logins all failed), total_attempts, total_failures.
-- Counts are observed logins (not weighted by sample_weight: the test is on what was seen).
SELECT
    g1, g2,
    count() AS attempts,
    countIf(login_success = 0) AS failures,
    failures / attempts AS failure_rate,
    topKIf(5)(login_reason, login_success = 0 AND login_reason != '') AS top_reasons,
    -- one pass, no per-session grouping: a session is blocked when none of its logins
    -- in the segment succeeded, so blocked = sessions - sessions with a success; sessions
    -- counted by a 64-bit hash of their id (a third faster than the strings; two ids
    -- colliding count once: odds ~3e-8 among a million sessions)
    uniqExact(cityHash64(session_id)) AS sessions,
    sessions - uniqExactIf(cityHash64(session_id), login_success = 1) AS sessions_blocked,
    sum(attempts) OVER () AS total_attempts,
    sum(failures) OVER () AS total_failures
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
WHERE kind = 'login'
GROUP BY g1, g2
ORDER BY failure_rate DESC, g1, g2
