-- lcp_inp_parts: the parts of LCP and INP (issue #22), measured by the attribution build of
-- the browser agent (docs/beacon-protocol.md, vitals.lcp_* / vitals.inp_*, ms):
-- LCP = lcp_ttfb + lcp_load_delay + lcp_load_time + lcp_render_delay, and
-- INP = inp_input_delay + inp_processing + inp_presentation; inp_script is the script URL
-- (path only, scrubbed like lcp_resource) that the longest long animation frame of the
-- interaction blames. NULL / '' when the beacon did not send them (default rum.js, old agents).
-- The columns go to the landing table and rum.events, and the page-view view of 0100 is
-- recreated to copy them (a view's SELECT cannot be altered in place): a block inserted
-- between its DROP and CREATE would lose its page-view row, so apply this migration
-- before the new collectors, as docs/deploy.md says for every landing-table change.

ALTER TABLE rum.beacon_records
    ADD COLUMN IF NOT EXISTS lcp_ttfb Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_load_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_load_time Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_render_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_input_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_processing Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_presentation Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_script String;

ALTER TABLE rum.events
    ADD COLUMN IF NOT EXISTS lcp_ttfb Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_load_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_load_time Nullable(Float32),
    ADD COLUMN IF NOT EXISTS lcp_render_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_input_delay Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_processing Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_presentation Nullable(Float32),
    ADD COLUMN IF NOT EXISTS inp_script String;

DROP VIEW IF EXISTS rum.beacon_records_pageviews;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum.beacon_records_pageviews TO rum.events AS
WITH lower(hex(MD5(concat(site, '/', session_id, '/', pageview_id, '/', toString(seq), '/',
                          if(batch = '', '', concat(batch, '/')), 'pv')))) AS h
SELECT
    toUUID(concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-', substring(h, 13, 4), '-',
                  substring(h, 17, 4), '-', substring(h, 21, 12))) AS event_id,
    site, 'pageview' AS kind,
    fromUnixTimestamp64Milli(received_ms, 'UTC') AS ts,
    fromUnixTimestamp64Milli(received_ms, 'UTC') AS received_at,
    session_id, pageview_id, seq, user_id, page_path, page_query, page_group, referrer_host,
    country, region, city, asn, as_org, browser, browser_version, os, device_class, is_bot,
    least(sample_weight, 100) AS sample_weight, nav_type, connection_type, rtt, downlink, save_data,
    lcp, inp, cls, fcp, ttfb, dns, connect, tls, request, response,
    dom_interactive, dom_complete, load, transfer_size, long_tasks, tbt, rage_clicks,
    lcp_element, lcp_resource, inp_target, cls_source,
    lcp_ttfb, lcp_load_delay, lcp_load_time, lcp_render_delay,
    inp_input_delay, inp_processing, inp_presentation, inp_script,
    1 AS schema_version
FROM rum.beacon_records
WHERE pv = 1;
