-- login_failures_vs_baseline: which countries fail to log in more than the rest of the site?
--
-- Reads queries/failing_logins.sql (the same text as `rum report failing-logins`) by country
-- and adds the baseline: the failure rate of every other country together. The
-- significance test stays in queries/stats.py (the CLI and API show it).
-- Parameters: those of failing_logins (d1 = 'country', d2 = '').
-- Output, highest failure rate first: country, attempts, failures, failure_rate,
--   baseline_rate (0-1), vs_baseline (failure_rate - baseline_rate), sessions_blocked,
--   top_reasons.
SELECT
    if(g1 = '', 'unknown', g1) AS country,
    attempts, failures, failure_rate,
    (total_failures - failures) / greatest(total_attempts - attempts, 1) AS baseline_rate,
    failure_rate - baseline_rate AS vs_baseline,
    sessions_blocked,
    arrayStringConcat(top_reasons, ', ') AS top_reasons
FROM ({failing_logins:Query})
ORDER BY failure_rate DESC, country
