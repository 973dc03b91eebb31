"""Kafka messages: several spooled envelopes packed per partition, decoded back."""

from __future__ import annotations

import pytest

from pipeline.kafka import MessageError, decode, encode, pack, partition_of
from pipeline.spool import Record


def test_packing_joins_rows_per_partition_in_order_and_keeps_sessions_together() -> None:
    records = []
    for i in range(40):
        key, value = encode([{"event_id": f"e{i}", "session_id": f"s{i % 7}"}])
        records.append(Record(key, value, 1, 0, (1, i)))
    messages = pack(records, [0, 1, 2], max_bytes=200)
    got: dict[int, list[str]] = {}
    for partition, _, value in messages:
        got.setdefault(partition, []).extend(r["event_id"] for r in decode(value))
    assert sorted(e for ids in got.values() for e in ids) == sorted(f"e{i}" for i in range(40))
    for partition, ids in got.items():  # spool order within each partition
        assert ids == sorted(ids, key=lambda e: int(e[1:]))
        sessions = {f"s{int(e[1:]) % 7}" for e in ids}
        assert all(partition_of(s.encode(), 3) == partition for s in sessions)
    assert len(messages) < len(records)  # several envelopes per message
    assert all(len(v) <= 200 + 60 for _, _, v in messages)


@pytest.mark.parametrize("value", [b"", b"{not json", b'{"v": 2, "rows": [{"event_id": "x"}]}',
                                   b'{"v": 1, "rows": []}', b'{"v": 1, "rows": [{"kind": "x"}]}',
                                   b'[1, 2]'])
def test_messages_that_are_not_ours_are_refused_with_a_reason(value: bytes) -> None:
    with pytest.raises(MessageError):
        decode(value)
