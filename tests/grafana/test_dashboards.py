"""The generated dashboards: committed JSON is current, and every panel is complete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from collector.metrics import Metrics
from grafana import generate
from grafana.boards import business, experience, logins, pipeline_health
from grafana.common import CLICKHOUSE, PROMETHEUS, VITAL_UNITS, Panel
from queries.analytics import THRESHOLDS

BOARDS = {"experience-overview.json": experience, "logins-errors.json": logins,
          "business-impact.json": business, "pipeline-health.json": pipeline_health}
# metrics the Kafka producer spool and consumer add (pipeline/, landing with `rum pipeline`)
PENDING_METRICS = {"rum_spool_bytes", "rum_consumer_lag"}
# columns holding a vital's value: lcp_p75, p95, ...
_VITAL_COLUMN = re.compile(r"^((lcp|inp|cls|ttfb|fcp)_)?p\d\d$")


def committed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((generate.OUT_DIR / name).read_text())
    return data


def panels_of(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def thresholds_of(panel: dict[str, Any]) -> list[list[float | None]]:
    """The step values of every threshold set in a panel (defaults and overrides)."""
    found = [panel["fieldConfig"]["defaults"].get("thresholds")]
    for override in panel["fieldConfig"]["overrides"]:
        found += [p["value"] for p in override["properties"] if p["id"] == "thresholds"]
    return [[s["value"] for s in t["steps"]] for t in found if t]


def test_committed_json_is_what_the_code_generates() -> None:
    assert generate.drift() == []
    assert sorted(p.name for p in generate.OUT_DIR.glob("*.json")) == sorted(BOARDS)


def test_check_reports_drift_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate.write(tmp_path)
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "business-impact.json").write_text("{}\n")
    (tmp_path / "stray.json").write_text("{}\n")
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "business-impact.json, stray.json" in err


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_has_datasource_title_unit(name: str) -> None:
    board = committed(name)
    titles = [p["title"] for p in panels_of(board)]
    assert len(titles) == len(set(titles)), "titles are unique within a dashboard"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels_of(board):
        assert panel["title"].strip() and panel["description"].strip()
        assert panel["datasource"] in (CLICKHOUSE, PROMETHEUS), panel["title"]
        assert panel["targets"], panel["title"]
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"])
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']}: no unit"
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24 and pos["h"] > 0


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_showing_a_vital_have_its_thresholds(name: str) -> None:
    panels: list[Panel] = [p for row in BOARDS[name].rows() for p in row.panels]
    by_title = {p["title"]: p for p in panels_of(committed(name))}
    for panel in panels:
        if panel.vital is None:
            assert not any(_VITAL_COLUMN.match(c) for c in panel.expects), \
                f"{panel.title}: shows a vital but does not say which"
            continue
        steps = thresholds_of(by_title[panel.title])
        assert any(len(s) >= 3 for s in steps), f"{panel.title}: no bands"
        if by_title[panel.title]["fieldConfig"]["defaults"]["unit"] != "percentunit":
            good, poor, _cap = THRESHOLDS[panel.vital]
            assert [None, good, poor] in steps, f"{panel.title}: not the {panel.vital} bands"
        if panel.body["type"] == "timeseries":
            custom = panel.body["fieldConfig"]["defaults"]["custom"]
            assert custom["thresholdsStyle"]["mode"] != "off", "threshold lines drawn"
            assert panel.body["fieldConfig"]["defaults"]["unit"] == VITAL_UNITS[panel.vital]


def test_lcp_map_uses_the_core_web_vitals_bands() -> None:
    (geomap,) = [p for p in panels_of(committed("experience-overview.json"))
                 if p["type"] == "geomap"]
    assert thresholds_of(geomap) == [[None, 2500, 4000]]
    layer = geomap["options"]["layers"][0]
    assert layer["location"] == {"mode": "lookup", "lookup": "country",
                                 "gazetteer": "public/gazetteer/countries.json"}
    assert layer["config"]["style"]["color"]["field"] == "lcp_p75"


@pytest.mark.parametrize("name", ["experience-overview.json", "logins-errors.json",
                                  "business-impact.json"])
def test_clickhouse_boards_filter_by_time_site_and_segment(name: str) -> None:
    board = committed(name)
    names = [v["name"] for v in board["templating"]["list"]]
    assert names == ["site", "country", "device", "page_group"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == CLICKHOUSE and "$__timeFilter(ts)" in variable["query"]
    for panel in panels_of(board):
        for target in panel["targets"]:
            sql = target["rawSql"]
            assert "$__fromTime_ms" in sql and "$__toTime_ms" in sql, panel["title"]
            for var in names:
                assert f"${{{var}:sqlstring}}" in sql, f"{panel['title']}: ignores ${var}"
            assert not re.search(r"(?<!\$)\{\w+:[\w()]+\}", sql), "no unbound placeholder"


def known_metric_names() -> set[str]:
    """Series names /metrics exposes (counters end in _total, histograms add _bucket...)."""
    names = set()
    for family in Metrics().registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        for suffix in suffixes.get(family.type, [""]):
            names.add(family.name + suffix)
    return names


def test_pipeline_health_reads_real_metric_names() -> None:
    known = known_metric_names() | PENDING_METRICS
    used: set[str] = set()
    for panel in panels_of(committed("pipeline-health.json")):
        for target in panel["targets"]:
            used |= set(re.findall(r"\brum_\w+", target["expr"]))
    assert used and used <= known, f"unknown metrics: {sorted(used - known)}"
    exposed = {n for n in known_metric_names() if not n.endswith(("_sum", "_count"))}
    assert exposed - used == set(), "every metric the collector exposes has a panel"
    assert PENDING_METRICS <= used
