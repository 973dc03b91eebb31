-- journey: how many sessions go through the steps the site defines, in order, and how
-- fast is each step?
--
-- Answers, per segment (one session-level dimension, or none): the sessions that
-- reached each step of a funnel in order (windowFunnel: step k counts when steps
-- 1..k happened in that order within `within_ms` of step 1, other events allowed in
-- between), and the median LCP of each step's page views. queries/experience.py adds
-- the conversion per step and the test against the rest of the site.
--
-- Order: a page view's row is written when the page is flushed (its `ts` is the
-- beacon's arrival), after the events that happened on the page (a conversion on the
-- checkout page has an earlier `ts` than the checkout page view). So rows are ordered
-- by their page view's start (the earliest `ts` among the rows of its pageview_id),
-- then, within a page view, the page view itself first and its events by `ts`: a
-- conversion counts after the page it happened on, and after every earlier page.
-- Computed per session, in one GROUP BY and array functions over its rows (window
-- functions over every row sorted the window's events twice: 14.5 s against 7.3-8.6 s
-- on the analytics bench's 10M-event day, bench/RESULTS.md). A session's segment is its
-- earliest row's (ties broken by event id), found by argMin over rumEventOrder (migration
-- 0230: 6.2-7.4 s -> 4.4-4.9 s against argMin over the tuple (ts, event_id)).
--
-- A step is a page group ('/product/:id'), a custom event name ('add_to_cart'),
-- 'conversion' (a conversion event) or 'login' (a successful login).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1 String: segment dimension, as in rum.segmented_events ('' = whole site),
--   step1 .. step8 String: the steps in order ('' past the last one),
--   n_steps UInt8: how many steps are set (2-8),
--   within_ms UInt64: the longest time from step 1 to the last step (ms),
--   cap Float64: LCP values past it (ms) are outliers, left out of the step speed.
--
-- Output, one row per segment and step: g1 (segment, '' when none), step (1-based),
--   step_name, sessions (sessions that reached this step in order; observed, not
--   weighted), lcp_p50 (median LCP of the step's page views in the segment, weighted
--   by sample_weight, ms; NULL for event steps), lcp_samples.
SELECT
    funnel.g1 AS g1, funnel.step AS step,
    [{step1:String}, {step2:String}, {step3:String}, {step4:String},
     {step5:String}, {step6:String}, {step7:String}, {step8:String}][funnel.step] AS step_name,
    funnel.sessions AS sessions,
    if(speed.lcp_samples = 0, NULL, round(speed.lcp_p50, 1)) AS lcp_p50,
    speed.lcp_samples AS lcp_samples
FROM
(
    SELECT g1, step, countIf(level >= step) AS sessions
    FROM
    (
        SELECT
            g1,
            -- a session's rows by page view (a row without one stands alone), each page
            -- view's own row first, then its events by (ts, event_id); `by_time` has the
            -- same page views at the same positions, each page view's rows by time
            arraySort(x -> (x.1, if(x.1 = '', 0, x.2), x.3, x.4), rows) AS ordered,
            arraySort(x -> (x.1, x.3, x.4), rows) AS by_time,
            arrayMap(x -> x.1, ordered) AS views,
            -- where a page view's rows start: its first position, and its start (earliest ts)
            arrayMap((v, prev, i) -> i = 1 OR v = '' OR v != prev, views,
                     arrayPopBack(arrayPushFront(views, '')), arrayEnumerate(views)) AS firsts,
            arrayFill((x, first) -> first, arrayEnumerate(views), firsts) AS first_at,
            arrayFill((x, first) -> first, arrayMap(x -> x.3, by_time), firsts) AS started,
            -- t: page view start (ms) x 1000 + rank within the page view, so the window too
            arrayMap((s, i, f) -> toUInt64(toUInt64(toUnixTimestamp64Milli(s)) * 1000
                                           + least(999, i - f)),
                     started, arrayEnumerate(views), first_at) AS t,
            -- the funnel over the session's rows in that order (bit k - 1 of x.5: step k)
            arrayReduce(concat('windowFunnel(', toString({within_ms:UInt64} * 1000), ')'), t,
                        arrayMap(x -> bitTest(x.5, 0), ordered),
                        arrayMap(x -> bitTest(x.5, 1), ordered),
                        arrayMap(x -> bitTest(x.5, 2), ordered),
                        arrayMap(x -> bitTest(x.5, 3), ordered),
                        arrayMap(x -> bitTest(x.5, 4), ordered),
                        arrayMap(x -> bitTest(x.5, 5), ordered),
                        arrayMap(x -> bitTest(x.5, 6), ordered),
                        arrayMap(x -> bitTest(x.5, 7), ordered)) AS level
        FROM
        (
            SELECT
                argMin(g1, rumEventOrder(ts, event_id)) AS g1,
                -- a session's rows: page view, whether an event, time, id, and the steps the
                -- row is (bit k - 1: step k)
                groupArray((pageview_id, kind != 'pageview', ts, event_id,
                    toUInt8(arraySum(arrayMap((s, k) -> bitShiftLeft(toUInt16(s != '' AND (
                            (kind = 'pageview' AND page_group = s)
                            OR (kind = 'custom' AND event_name = s)
                            OR (s = 'conversion' AND kind = 'conversion')
                            OR (s = 'login' AND kind = 'login'
                                AND ifNull(login_success, 0) = 1))), k - 1),
                        [{step1:String}, {step2:String}, {step3:String}, {step4:String},
                         {step5:String}, {step6:String}, {step7:String}, {step8:String}],
                        range(1, 9)))))) AS rows
            FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
                until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = '')
            WHERE kind IN ('pageview', 'custom', 'conversion', 'login')
            GROUP BY session_id
        )
    )
    ARRAY JOIN range(1, {n_steps:UInt8} + 1) AS step
    GROUP BY g1, step
) AS funnel
LEFT JOIN
(
    SELECT
        g1,
        indexOf([{step1:String}, {step2:String}, {step3:String}, {step4:String},
                 {step5:String}, {step6:String}, {step7:String}, {step8:String}], page_group)
            AS step,
        quantileExactWeighted(0.5)(lcp, toUInt64(greatest(1, round(sample_weight)))) AS lcp_p50,
        count() AS lcp_samples
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = '')
    WHERE kind = 'pageview' AND lcp IS NOT NULL AND lcp <= {cap:Float64} AND step > 0
    GROUP BY g1, step
) AS speed ON funnel.g1 = speed.g1 AND funnel.step = speed.step
ORDER BY g1, step
