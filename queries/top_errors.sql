-- top_errors: which JavaScript errors hurt the most page views?
--
-- Answers: JS errors grouped by fingerprint (the message with numbers, hex and quoted
-- strings normalized, plus the top stack frame with its query string (app.js?v=3) and
-- line/column removed), with the page views, sessions, page groups and browsers they
-- touched and when they were first and last seen in the window.
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   limit UInt32 (how many fingerprints).
-- Output, most page views first: fingerprint (hex), message (one example), top_frame,
--   occurrences, pageviews, sessions, pages (distinct page groups), page_groups (up to 5),
--   browsers (up to 5), first_seen, last_seen (UTC).
SELECT
    lower(hex(cityHash64(norm_message, norm_frame))) AS fingerprint,
    any(error_message) AS message,
    any(norm_frame) AS top_frame,
    count() AS occurrences,
    uniqExact(pageview_id) AS pageviews,
    uniqExact(session_id) AS sessions,
    uniqExact(page_group) AS pages,
    groupUniqArray(5)(page_group) AS page_groups,
    groupUniqArray(5)(browser) AS browsers,
    toString(min(ts)) AS first_seen,
    toString(max(ts)) AS last_seen
FROM
(
    SELECT
        error_message, pageview_id, session_id, page_group, browser, ts,
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(error_message,
            '"[^"]*"|\'[^\']*\'', '<str>'), '0x[0-9a-fA-F]+|[0-9a-f]{8,}', '<hex>'), '\\d+', '<n>')
            AS norm_message,
        replaceRegexpAll(replaceRegexpAll(trim(arrayElement(arrayFilter(l -> match(l, '^\\s*at |@'),
            splitByChar('\n', error_stack)), 1)), '\\?[^:)\\s]*', ''), ':\\d+(:\\d+)?\\)?$', '')
            AS norm_frame
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind = 'error'
)
GROUP BY norm_message, norm_frame
ORDER BY pageviews DESC, occurrences DESC, fingerprint
LIMIT {limit:UInt32}
