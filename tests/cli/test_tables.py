"""`rum report` tables: every report fits 80 and 100 columns with no header cut, --wide
shows every column, and the table's figures are the JSON's."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cli.main import main
from cli.tables import default_columns, print_table
from queries.catalog import CATALOG, get_query
from tests.queries.test_slow_regions import seed

# rows each report gave on a `rum demo` store (its JSON, cut to a few rows per report;
# vitals-ratings': the analytics bench's 7-day store)
ROWS: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "report_rows.json").read_text())


# the parameters a report is shown with (page-view needs its page view)
SHOWN_WITH = {"revenue-impact": {"by": "country,region"}, "page-view": {"pageview": "p-BR-9-checkout"}}


def render(name: str, width: int, wide: bool = False) -> str:
    spec = get_query(name)
    values = spec.parse(SHOWN_WITH.get(name, {}))
    out = io.StringIO()
    print_table(name, ROWS[name], values, wide, Console(file=out, width=width))
    return out.getvalue()


def test_every_report_has_sample_rows() -> None:
    assert set(ROWS) == set(CATALOG) and all(ROWS.values())


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_no_header_is_cut(name: str, width: int) -> None:
    text = render(name, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    header = next(line for line in lines if line.startswith("┃"))
    shown = [cell.strip() for cell in header.strip("┃").split("┃")]
    values = get_query(name).parse(SHOWN_WITH.get(name, {}))
    expected = [c.header for c in default_columns(name, values)]
    assert shown and all(h in expected for h in shown), (shown, expected)
    assert "…" not in header
    if width == 100:
        assert shown == expected, "the default columns fit 100 columns"


def test_wide_shows_every_column() -> None:
    text = render("slow-regions", 80, wide=True)
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃").split("┃")] == list(ROWS["slow-regions"][0])


def test_figures_have_units_and_rounding() -> None:
    text = render("slow-segments", 100)
    assert "<0.001" in text and "4,472 ms" in text and "e-" not in text
    failing = render("failing-logins", 100)
    assert "32.0%" in failing and "0.32" not in failing
    errors = render("top-errors", 100)
    assert "2026-12-03T" in errors and "times local (UTC" in errors


def test_table_shows_the_json_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "data" / "chdb")
    migrate(store, 30)
    seed(store, "IN", "MH", 4300, 400)
    seed(store, "NL", "NH", 1600, 400)
    store.close()
    args = ["report", "slow-regions", "--data-dir", str(tmp_path / "data")]
    assert main([*args, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("COLUMNS", "100")
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert rows and all(isinstance(r["flagged"], bool) for r in rows)
    for row in rows:
        place = f"{row['country']}-{row['region']}" if row["region"] else row["country"]
        (line,) = [ln for ln in lines if ln.startswith(f"│ {place} ")]
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[:5] == [place, f"{row['samples']:,}", f"{row['lcp_p75']:,.0f} ms",
                             f"{row['inp_p75']:,.0f} ms", f"{row['ttfb_p75']:,.0f} ms"]
        assert cells[-1] == ("yes" if row["flagged"] else "no")
        good = {"lcp": 2500, "inp": 200, "ttfb": 800}
        assert cells[5] == ", ".join(f"{m.upper()} +{row[f'{m}_p75'] - good[m]:,.0f} ms"
                                     for m in row["slow_metrics"])
    assert any(r["flagged"] for r in rows) and not all(r["flagged"] for r in rows)
