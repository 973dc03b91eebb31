"""rum_stage_seconds times the stages of one beacon in STAGE_TIMING_SAMPLE (the first one
included); timed or not, a beacon is enriched or refused the same way."""

from __future__ import annotations

from typing import Any

import orjson

from collector.clientip import TrustedProxies
from collector.drops import Dropped, DropReason
from collector.geo import GeoLookup
from collector.intake import STAGE_TIMING_SAMPLE, BeaconIntake, Cors, Parsed
from collector.metrics import Metrics
from collector.stages import Beacon, build_stages
from tests.beacons import all_event_kinds, envelope


def _intake() -> tuple[BeaconIntake, Metrics]:
    metrics = Metrics()
    intake = BeaconIntake(65536, TrustedProxies([]), Cors(["*"]), metrics)
    intake.bind(build_stages(GeoLookup(None)), None)  # type: ignore[arg-type]  # no sink needed
    return intake, metrics


def _timed(metrics: Metrics, stage: str) -> float:
    return metrics.registry.get_sample_value("rum_stage_seconds_count", {"stage": stage}) or 0.0


def _enrich(intake: BeaconIntake, doc: Any) -> Beacon | Dropped:
    return intake._enrich("10.0.0.1", "10.0.0.1", {b"user-agent": b"Mozilla/5.0"},
                          Parsed(body=orjson.dumps(doc)))


def test_one_beacon_in_the_sample_is_timed_starting_with_the_first() -> None:
    intake, metrics = _intake()
    _enrich(intake, envelope())
    assert _timed(metrics, "decode") == 1 and _timed(metrics, "encode") == 1
    for _ in range(STAGE_TIMING_SAMPLE):
        _enrich(intake, envelope())
    assert _timed(metrics, "decode") == 2 and _timed(metrics, "encode") == 2


def test_timed_and_untimed_beacons_give_the_same_rows_and_drops() -> None:
    intake, _ = _intake()
    results = []
    for _ in range(2):  # the first is timed, the second is not
        body = envelope(sid="same", pid="same", events=all_event_kinds(1.0e12))
        body["sent_at"] = 1.0e12
        results.append(_enrich(intake, body))
    timed, untimed = results
    assert isinstance(timed, Beacon) and isinstance(untimed, Beacon)
    assert timed.record is not None and untimed.record is not None
    assert timed.rows == untimed.rows == 6
    # the receive time (and so the skew-corrected event times) differs, nothing else
    for record in (timed.record, untimed.record):
        record.received_ms = 0
        for event in record.events:
            event.ts_ms = 0
    assert timed.record == untimed.record
    intake, metrics = _intake()
    for _ in range(2):  # timed, then not
        refused = _enrich(intake, envelope(sid=""))
        assert isinstance(refused, Dropped) and refused.reason is DropReason.INVALID_ENVELOPE
    assert _timed(metrics, "decode") == 1 and _timed(metrics, "encode") == 0
