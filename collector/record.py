"""The beacon record: one compact row per accepted beacon, the collector's only output.

A record is the enriched envelope: the columns every event row of the beacon shares
(site, session, page, geo, agent, receive time), the page view's measurements, and
its events as an array. It is encoded once (msgspec, JSON) and goes as it is to the
landing table `rum.beacon_records` (embedded batcher, or Kafka then `rum pipeline`);
ClickHouse's materialized views turn each record into the `rum.events` rows
(pipeline/migrations/0100_beacon_records.sql). Field names are the landing table's
columns: a new field needs a migration adding the column (unknown keys are skipped,
so an older store reads a newer collector's records).
"""

from __future__ import annotations

import msgspec
from msgspec import Struct

# the version of the Kafka message format that carries records (pipeline/kafka.py)
RECORD_VERSION = 2


class EventRecord(Struct, omit_defaults=True):
    """One event of the beacon: `i` its index in the envelope (part of its event id),
    `ts_ms` its skew-corrected time (epoch ms)."""

    i: int
    kind: str
    ts_ms: int
    message: str = ""
    source: str = ""
    line: int = 0
    col: int = 0
    stack: str = ""
    method: str = ""
    api_path: str = ""
    status: int = 0
    duration: float | None = None
    success: int | None = None
    reason: str = ""
    value: float | None = None
    currency: str = ""
    name: str = ""
    props: str = ""


class BeaconRecord(Struct, omit_defaults=True):
    """One accepted beacon, enriched: what the landing table holds."""

    site: str
    session_id: str
    pageview_id: str
    received_ms: int
    seq: int = 0
    user_id: str = ""
    page_path: str = ""
    page_query: str = ""
    page_group: str = ""
    referrer_host: str = ""
    country: str = ""
    region: str = ""
    city: str = ""
    asn: int = 0
    as_org: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    device_class: str = ""
    is_bot: int = 0
    sample_weight: float = 1.0
    connection_type: str = ""
    # a receiver's batch key (e.g. Faro's Idempotency-Key): part of the event ids, so a batch
    # resent with the same key makes the same ids and is stored once
    batch: str = ""
    # the page view row: made when pv = 1 (the envelope had nav, vitals, perf or net)
    pv: int = 0
    nav_type: str = ""
    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    request: float | None = None
    response: float | None = None
    dom_interactive: float | None = None
    dom_complete: float | None = None
    load: float | None = None
    transfer_size: int | None = None
    lcp: float | None = None
    inp: float | None = None
    cls: float | None = None
    fcp: float | None = None
    ttfb: float | None = None
    long_tasks: int = 0
    tbt: float = 0.0
    rage_clicks: int = 0
    lcp_element: str = ""
    lcp_resource: str = ""
    inp_target: str = ""
    cls_source: str = ""
    # the parts of LCP and INP (ms) and the script blamed for INP (migration 0130)
    lcp_ttfb: float | None = None
    lcp_load_delay: float | None = None
    lcp_load_time: float | None = None
    lcp_render_delay: float | None = None
    inp_input_delay: float | None = None
    inp_processing: float | None = None
    inp_presentation: float | None = None
    inp_script: str = ""
    rtt: float | None = None
    downlink: float | None = None
    save_data: int = 0
    events: list[EventRecord] = []


_encoder = msgspec.json.Encoder()


def encode_record(record: BeaconRecord) -> bytes:
    """The record as one line of JSON (msgspec never writes a raw newline inside it)."""
    return _encoder.encode(record)


def rows_of(record: BeaconRecord) -> int:
    """How many rum.events rows ClickHouse builds from the record."""
    return record.pv + len(record.events)
