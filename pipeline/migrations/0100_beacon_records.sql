-- beacon_records: the landing table of the intake. The collector writes one record per
-- accepted beacon (collector/record.py: the columns every row of the beacon shares, the
-- page view's measurements, its events as an array); ENGINE = Null keeps nothing, and
-- the two materialized views below build the rum.events rows from each inserted block:
-- one 'pageview' row when pv = 1, and one row per event (ARRAY JOIN). Columns a view
-- does not name take rum.events' defaults (NULL for a timing, '' for a string), as the
-- Python row builder left them before.
--
-- Event ids are deterministic, so a resent beacon yields the same ids: the UUID written
-- from MD5('site/session/page view/seq/pv') for the page view and '.../<index>' for the
-- event at that index of the envelope (tests/collector/test_rows.py computes the same).
-- A receiver of another agent's batches sets `batch` (e.g. Faro's Idempotency-Key), and
-- the key is then '.../seq/<batch>/pv' and '.../seq/<batch>/<index>'.
-- Times: received_ms and each event's ts_ms (skew-corrected by the collector) are epoch ms.
-- A row weighs at most 100 page views (the collector's sample-rate floor of 0.01, kept
-- here too: see migration 0110).
CREATE TABLE IF NOT EXISTS rum.beacon_records
(
    site             String,
    session_id       String,
    pageview_id      String,
    seq              UInt16,
    received_ms      Int64,
    user_id          String,
    page_path        String,
    page_query       String,
    page_group       String,
    referrer_host    String,
    country          String,
    region           String,
    city             String,
    asn              UInt32,
    as_org           String,
    browser          String,
    browser_version  String,
    os               String,
    device_class     String,
    is_bot           UInt8,
    sample_weight    Float32 DEFAULT 1,
    connection_type  String,
    batch            String,
    pv               UInt8,
    nav_type         String,
    dns              Nullable(Float32),
    connect          Nullable(Float32),
    tls              Nullable(Float32),
    request          Nullable(Float32),
    response         Nullable(Float32),
    dom_interactive  Nullable(Float32),
    dom_complete     Nullable(Float32),
    load             Nullable(Float32),
    transfer_size    Nullable(UInt32),
    lcp              Nullable(Float32),
    inp              Nullable(Float32),
    cls              Nullable(Float32),
    fcp              Nullable(Float32),
    ttfb             Nullable(Float32),
    long_tasks       UInt32,
    tbt              Float32,
    rage_clicks      UInt32,
    lcp_element      String,
    lcp_resource     String,
    inp_target       String,
    cls_source       String,
    rtt              Nullable(Float32),
    downlink         Nullable(Float32),
    save_data        UInt8,
    events Array(Tuple(
        i        UInt16,
        kind     String,
        ts_ms    Int64,
        message  String,
        source   String,
        line     UInt32,
        col      UInt32,
        stack    String,
        method   String,
        api_path String,
        status   UInt16,
        duration Nullable(Float32),
        success  Nullable(UInt8),
        reason   String,
        value    Nullable(Float64),
        currency String,
        name     String,
        props    String))
)
ENGINE = Null;

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
    1 AS schema_version
FROM rum.beacon_records
WHERE pv = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum.beacon_records_events TO rum.events AS
WITH lower(hex(MD5(concat(site, '/', session_id, '/', pageview_id, '/', toString(seq), '/',
                          if(batch = '', '', concat(batch, '/')), toString(e.i))))) AS h
SELECT
    toUUID(concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-', substring(h, 13, 4), '-',
                  substring(h, 17, 4), '-', substring(h, 21, 12))) AS event_id,
    site, e.kind AS kind,
    fromUnixTimestamp64Milli(e.ts_ms, 'UTC') AS ts,
    fromUnixTimestamp64Milli(received_ms, 'UTC') AS received_at,
    session_id, pageview_id, seq, user_id, page_path, page_query, page_group, referrer_host,
    country, region, city, asn, as_org, browser, browser_version, os, device_class, is_bot,
    least(sample_weight, 100) AS sample_weight, connection_type,
    e.message AS error_message, e.source AS error_source, e.line AS error_line,
    e.col AS error_col, e.stack AS error_stack,
    e.method AS api_method, e.api_path AS api_path, e.status AS api_status,
    e.duration AS api_duration,
    e.success AS login_success, e.reason AS login_reason,
    e.value AS conversion_value, e.currency AS currency,
    e.name AS event_name, e.props AS event_props,
    1 AS schema_version
FROM rum.beacon_records
ARRAY JOIN events AS e;
