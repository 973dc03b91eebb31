-- page_view: everything one page view sent, event by event.
--
-- Answers: the rows of one page view (its flushes' timings and vitals, and its errors,
-- failed API calls, logins, conversions and custom events), oldest first.
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   pageview String: the page view id.
--
-- Output, oldest first: ts (UTC text), kind, seq, page_path, country, region, browser,
--   device_class, dns, connect, tls, request, response, dom_interactive, dom_complete,
--   load, fcp, lcp, inp, ttfb (ms), cls, lcp_element, lcp_resource, inp_target,
--   message (error message, API call 'METHOD path -> status', login outcome, conversion
--   value, custom event name), top_frame (an error's first stack frame).
-- Bots are excluded; each event counts once (the view reads FINAL).
SELECT
    toString(ts) AS ts, kind, seq, page_path, country, region, browser, device_class,
    dns, connect, tls, request, response, dom_interactive, dom_complete, load,
    fcp, lcp, inp, ttfb, cls, lcp_element, lcp_resource, inp_target,
    multiIf(kind = 'error', error_message,
            kind = 'api', concat(api_method, ' ', api_path, ' -> ', toString(api_status)),
            kind = 'login', if(login_success = 1, 'login ok', concat('login failed: ', login_reason)),
            kind = 'conversion', concat(toString(conversion_value), ' ', currency),
            kind = 'custom', event_name, '') AS message,
    trim(arrayElement(arrayFilter(l -> match(l, '^\\s*at |@'), splitByChar('\n', error_stack)), 1))
        AS top_frame
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE pageview_id = {pageview:String}
ORDER BY ts, kind
LIMIT 500
