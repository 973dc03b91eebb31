-- segment_parts: the parts of LCP and INP per country and per country + region (issue #22),
-- for the explanation of slow segments (queries/why.py, docs/analytics.md "Why"), from raw
-- events with exact quantiles. queries/why.py runs it when no hour of the window is rolled
-- (rollups off, not rolled yet, or a window under an hour): it takes under half the time
-- of segment_parts_rolled.sql with everything in its raw rest (1.3 s against 3.1 s on the
-- analytics bench's day), whose p75s are the middle of this one's grid bucket (within 1%).
--
-- Answers: p75 (quantileExact, weighted by nothing: parts come only from the attribution
-- build, so there are few) of each part of LCP (lcp_ttfb, lcp_load_delay, lcp_load_time,
-- lcp_render_delay) and INP (inp_input_delay, inp_processing, inp_presentation), the share
-- of page views on a slow connection (connection_type 'slow-2g', '2g' or '3g'), and RTT p75.
--
-- Parameters:
--   site     String  site key; '' = every site
--   from_ms  Int64   window start, epoch milliseconds (inclusive)
--   until_ms Int64   window end, epoch milliseconds (exclusive)
--
-- Output, one row per segment: level ('country' | 'region'), country, region ('' on
-- country rows), the seven p75s as <part>_q (ms; meaningless when the count is 0:
-- queries/why.py reads them as missing), n_lcp_parts and n_inp_parts (page views that sent
-- LCP / INP parts), slow_share (0-1, NULL without
-- connection_type), rtt_p75 (ms, NULL without RTT).
-- Bots are excluded; each event counts once (rum.events FINAL).
SELECT
    if(grouping(r) = 1, 'country', 'region') AS level,
    country,
    if(grouping(r) = 1, '', r) AS region,
    quantileExactIf(0.75)(lcp_ttfb, lcp_ttfb IS NOT NULL) AS lcp_ttfb_q,
    quantileExactIf(0.75)(lcp_load_delay, lcp_load_delay IS NOT NULL) AS lcp_load_delay_q,
    quantileExactIf(0.75)(lcp_load_time, lcp_load_time IS NOT NULL) AS lcp_load_time_q,
    quantileExactIf(0.75)(lcp_render_delay, lcp_render_delay IS NOT NULL) AS lcp_render_delay_q,
    quantileExactIf(0.75)(inp_input_delay, inp_input_delay IS NOT NULL) AS inp_input_delay_q,
    quantileExactIf(0.75)(inp_processing, inp_processing IS NOT NULL) AS inp_processing_q,
    quantileExactIf(0.75)(inp_presentation, inp_presentation IS NOT NULL) AS inp_presentation_q,
    countIf(lcp_ttfb IS NOT NULL) AS n_lcp_parts,
    countIf(inp_processing IS NOT NULL) AS n_inp_parts,
    if(countIf(connection_type != '') = 0, NULL,
       countIf(connection_type IN ('slow-2g', '2g', '3g')) / countIf(connection_type != ''))
        AS slow_share,
    if(countIf(rtt IS NOT NULL) = 0, NULL, quantileExactIf(0.75)(rtt, rtt IS NOT NULL)) AS rtt_p75
FROM (SELECT *, region AS r FROM rum.events FINAL
WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
  AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
  AND kind = 'pageview' AND is_bot = 0)
GROUP BY GROUPING SETS ((country), (country, r))
SETTINGS group_by_use_nulls = 0
