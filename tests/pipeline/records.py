"""Beacon record lines for pipeline tests: what the intake hands the writer."""

from __future__ import annotations

import hashlib
import time

from collector.record import BeaconRecord, encode_record

_now_ms = int(time.time() * 1000)


def record_line(i: int, site: str = "t", **fields: object) -> bytes:
    """One page view's record (one rum.events row), its session s<i % 50>, page view p<i>."""
    record = BeaconRecord(site=site, session_id=f"s{i % 50}", pageview_id=f"p{i}",
                          received_ms=int(time.time() * 1000), pv=1, lcp=1000.0 + i % 3000)
    line = encode_record(record)
    if fields:  # a field of another type than the record's: a record the store refuses
        import orjson

        doc = orjson.loads(line)
        doc.update(fields)
        line = orjson.dumps(doc)
    return line


def record_lines(n: int, site: str = "t", start: int = 0) -> list[bytes]:
    """n distinct page-view records of `site`."""
    return [record_line(start + i, site) for i in range(n)]


def record_message(i: int, site: str = "t") -> tuple[bytes, bytes]:
    """(key, value) of a Kafka message carrying record_line(i)."""
    from pipeline.kafka import records_message

    return f"s{i % 50}".encode(), records_message([record_line(i, site)])


def event_id(key: str) -> str:
    """The id the landing table's views give the row of `key` (site/sid/pid/seq/pv|index)."""
    h = hashlib.md5(key.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def page_view_id(i: int, site: str = "t") -> str:
    """The event id of record_line(i, site)'s page-view row."""
    return event_id(f"{site}/s{i % 50}/p{i}/0/pv")
