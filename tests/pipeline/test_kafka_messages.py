"""Kafka messages: spooled records packed per partition, split back into their lines."""

from __future__ import annotations

import orjson
import pytest

from pipeline.kafka import RECORDS_HEAD, MessageError, decode, encode_rows, pack, partition_of
from pipeline.spool import Record
from tests.pipeline.records import record_line


def test_packing_joins_records_per_partition_in_order_and_keeps_sessions_together() -> None:
    records = []
    for i in range(40):
        line = record_line(i)
        records.append(Record(f"s{i % 7}".encode(), line, 1, 0, (1, i)))
    messages = pack(records, [0, 1, 2], max_bytes=1200)
    got: dict[int, list[str]] = {}
    for partition, key, value in messages:
        assert value.startswith(RECORDS_HEAD)
        got.setdefault(partition, []).extend(
            orjson.loads(line)["pageview_id"] for line in decode(value).records)
        assert partition_of(key, 3) == partition
    assert sorted(p for ids in got.values() for p in ids) == sorted(f"p{i}" for i in range(40))
    for partition, ids in got.items():  # spool order within each partition
        assert ids == sorted(ids, key=lambda p: int(p[1:]))
        assert all(partition_of(f"s{int(p[1:]) % 7}".encode(), 3) == partition for p in ids)
    assert len(messages) < len(records)  # several records per message
    assert all(len(v) <= 1200 + len(record_line(0)) for _, _, v in messages)


def test_messages_of_the_previous_format_are_read_as_rows() -> None:
    key, value = encode_rows([{"event_id": "e1", "session_id": "s1", "site": "x"}])
    assert key == b"s1"
    decoded = decode(value)
    assert decoded.records == [] and decoded.rows[0]["event_id"] == "e1"
    # spooled by an older collector: packed as its own message, not joined to records
    spooled = [Record(b"s1", value, 1, 0, (1, 0)), Record(b"s1", record_line(1), 1, 0, (1, 1))]
    values = [v for _, _, v in pack(spooled, [0], max_bytes=1 << 20)]
    assert values[0] == value and decode(values[1]).records == [record_line(1)]


@pytest.mark.parametrize("value", [b"", b"{not json", b'{"v": 2, "rows": [{"event_id": "x"}]}',
                                   b'{"v": 1, "rows": []}', b'{"v": 1, "rows": [{"kind": "x"}]}',
                                   b'[1, 2]', RECORDS_HEAD, RECORDS_HEAD + b"\n\n"])
def test_messages_that_are_not_ours_are_refused_with_a_reason(value: bytes) -> None:
    with pytest.raises(MessageError):
        decode(value)
