"""`rum report` tables: a default set of columns per report that fits 100 columns, every
column with `--wide`; cells read by cli/figures.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from cli.figures import DIMENSIONS, TIMES, show, utc_offset
from queries.analytics import THRESHOLDS

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Col:
    """One column: its header and how a row fills its cell; `wrap` for free text."""

    header: str
    cell: Callable[[Row], str]
    wrap: bool = False
    keep: bool = False  # never left out on a narrow terminal (the others go, right first)


def kept(col: Col) -> Col:
    """The same column, never left out."""
    return Col(col.header, col.cell, col.wrap, keep=True)


def fig(key: str, header: str) -> Col:
    """The column `key`, shown by its kind (cli/figures.py)."""
    return Col(header, lambda row: show(key, row.get(key), row))


def span(low: str, high: str, header: str, unitless: bool = False) -> Col:
    """An interval 'low-high' from two columns of the same kind."""
    def cell(row: Row) -> str:
        if row.get(low) is None or row.get(high) is None:
            return "-"
        a, b = show(low, row[low], row, unitless), show(high, row[high], row, unitless)
        unit = next((u for u in (" ms", "%", f" {row.get('currency', '')}") if u.strip()
                     and a.endswith(u) and b.endswith(u)), "")
        return f"{a[:len(a) - len(unit)]}-{b}" if unit else f"{a}-{b}"
    return Col(header, cell)


def _place(row: Row) -> str:
    return f"{row['country']}-{row['region']}" if row.get("region") else str(row["country"] or "?")


def _slow_by(row: Row) -> str:
    """'LCP +2,666 ms': each metric that tripped the flag and how far its p75 is past 'good'."""
    parts = []
    for metric in row.get("slow_metrics") or []:
        past = row[f"{metric}_p75"] - THRESHOLDS[metric][0]
        parts.append(f"{metric.upper()} +{past:,.0f} ms")
    return ", ".join(parts)


def _vital(key: str, header: str, unitless: bool) -> Col:
    return kept(Col(header, lambda row: show(key, row.get(key), row, unitless)))


def _text(key: str, header: str, width: int = 60) -> Col:
    def cell(row: Row) -> str:
        text = str(row.get(key) or "")
        return text if len(text) <= width else text[:width - 1] + "…"
    return Col(header, cell, wrap=True)


def default_columns(name: str, values: Mapping[str, Any]) -> list[Col]:
    """The columns `rum report NAME` shows without --wide."""
    unitless = values.get("metric") == "cls"
    by = [kept(fig(d, d.replace("_", " "))) for d in values.get("by", ()) if d in DIMENSIONS]
    if tuple(values.get("by", ())) == ("country", "region"):
        by = [kept(Col("place", _place))]  # 'BR-SP', as slow-regions names a place
    flagged = kept(fig("flagged", "flagged"))
    if name == "slow-regions":
        return [kept(Col("place", _place)), fig("samples", "views"),
                kept(fig("lcp_p75", "LCP p75")), fig("inp_p75", "INP p75"),
                fig("ttfb_p75", "TTFB p75"), kept(Col("slow by", _slow_by, wrap=True)), flagged]
    if name == "slow-segments":
        return [*by, fig("samples", "views"),
                _vital("p75", f"{values['metric'].upper()} p75", unitless),
                span("p75_ci_low", "p75_ci_high", "p75 95% CI", unitless),
                fig("good", "good"), fig("p_value", "p"), flagged,
                kept(fig("worse_than_rest", "worse than rest"))]
    if name == "vitals-ratings":
        return [*by, kept(Col("metric", lambda row: str(row.get("metric") or "").upper())),
                fig("samples", "views"), kept(fig("good", "good")),
                kept(fig("needs_improvement", "needs impr.")), kept(fig("poor", "poor")),
                fig("outliers", "outliers")]
    if name == "failing-logins":
        return [*by, fig("attempts", "attempts"), kept(fig("failure_rate", "failed")),
                kept(fig("baseline_rate", "elsewhere")), fig("p_value", "p"), flagged,
                Col("top reasons", lambda r: show("top_reasons", r.get("top_reasons"), r),
                    wrap=True)]
    if name == "top-errors":
        return [kept(_text("message", "message", 72)), kept(fig("pageviews", "views")),
                fig("sessions", "sessions"), fig("pages", "pages"),
                fig("last_seen", "last seen")]
    if name == "failed-api-calls":
        return [kept(fig("method", "method")), kept(_text("endpoint", "endpoint", 36)),
                kept(fig("status", "status")), kept(fig("calls", "calls")),
                fig("sessions", "sessions"), fig("p75_duration", "p75 time"),
                fig("last_seen", "last seen")]
    if name == "apdex":
        return [*by, fig("samples", "views"), kept(fig("apdex", "Apdex")),
                span("apdex_ci_low", "apdex_ci_high", "95% CI"), fig("rating", "rating"),
                fig("experience_score", "score"), flagged]
    if name == "journey":
        return [*by, kept(fig("step", "step")), kept(_text("step_name", "name", 24)),
                kept(fig("sessions", "sessions")), fig("conversion_from_previous", "from prev."),
                fig("conversion_from_start", "from start"), fig("lcp_p50", "LCP p50"),
                kept(fig("worse_than_rest", "worse than rest"))]
    if name == "revenue-impact":
        return [*by, kept(fig("method", "method")), fig("p75_lcp", "LCP p75"),
                kept(fig("revenue_at_risk_per_day", "at risk/day")),
                fig("revenue_at_risk_per_30d", "at risk/30 d"), flagged,
                kept(Col("note", lambda r: str(r.get("reason") or ""), wrap=True))]
    if name == "conversion-by-speed":
        return [*by, kept(fig("bucket", "LCP")), kept(fig("sessions", "sessions")),
                kept(fig("conversion_rate", "converts")), span("ci_low", "ci_high", "95% CI"),
                fig("revenue_per_session", "per session"), kept(fig("optimal", "best")),
                fig("on_plateau", "plateau")]
    if name == "login-revenue-at-risk":
        return [*by, fig("login_sessions", "sessions"), kept(fig("blocked_share", "blocked")),
                fig("baseline_share", "elsewhere"), fig("p_value", "p"), flagged,
                kept(fig("excess_revenue_at_risk_per_day", "excess/day")),
                fig("excess_revenue_at_risk_per_30d", "excess/30 d")]
    if name == "sites":
        return [kept(fig("site", "site")), kept(fig("pageviews", "page views")), fig("sessions", "sessions"),
                fig("events", "events"), fig("last_seen", "last seen")]
    if name == "slow-pages":
        return [kept(_text("page_group", "page group", 32)), fig("samples", "views"),
                kept(fig("lcp_p75", "LCP p75")), fig("inp_p75", "INP p75"), fig("cls_p75", "CLS p75"),
                fig("errors", "errors"), _text("lcp_element", "LCP element", 28)]
    if name == "page-views":
        # the page view id is what `rum report page-view --pageview` takes: never left out
        return [kept(fig("started", "started")), kept(_text("page_path", "page", 28)),
                kept(fig("lcp", "LCP")), fig("inp", "INP"), fig("cls", "CLS"), fig("errors", "errors"),
                kept(fig("pageview_id", "page view")), Col("place", _place)]
    if name == "page-view":
        return [kept(fig("ts", "time")), kept(fig("kind", "kind")), fig("lcp", "LCP"),
                fig("inp", "INP"), fig("ttfb", "TTFB"), fig("load", "load"),
                kept(_text("message", "what", 48))]
    if name == "vitals-timeseries":
        return [kept(fig("t", "from")), fig("samples", "views"), kept(fig("lcp_p75", "LCP p75")),
                fig("inp_p75", "INP p75"), fig("cls_p75", "CLS p75"), fig("ttfb_p75", "TTFB p75"),
                fig("good", "good"), fig("poor", "poor")]
    return []


def all_columns(rows: Sequence[Row], values: Mapping[str, Any]) -> list[Col]:
    """Every column of the rows, headed by its JSON name (--wide)."""
    unitless = values.get("metric") == "cls"
    return [Col(key, (lambda k: lambda row: show(k, row.get(k), row, unitless))(key))
            for key in rows[0]]


def table(name: str, rows: Sequence[Row], values: Mapping[str, Any], wide: bool,
          width: int | None = None) -> Table:
    """The report as a rich Table; within `width` (columns left out, right first, unless kept)."""
    columns = (all_columns(rows, values) if wide else default_columns(name, values)) or \
        all_columns(rows, values)
    built = _build(name, rows, columns, wide, left_out=0)
    left_out = 0
    while width is not None and _minimum(built) > width:
        droppable = [i for i, c in enumerate(columns) if not c.keep]
        if not droppable:
            break
        del columns[droppable[-1]]
        left_out += 1
        built = _build(name, rows, columns, wide, left_out)
    return built


def _minimum(table: Table) -> int:
    return Console(width=10_000).measure(table).minimum


def _build(name: str, rows: Sequence[Row], columns: list[Col], wide: bool, left_out: int) -> Table:
    notes = []
    if any(key in TIMES for key in rows[0]):
        notes.append(f"times local (UTC{utc_offset()})")
    if left_out:
        notes.append(f"{left_out} column(s) left out at this width")
    if not wide:
        notes.append("--wide: every column; --json: raw values")
    out = Table(title=name, caption="; ".join(notes), caption_justify="left")
    cells = [[c.cell(row) for c in columns] for row in rows]
    for i, col in enumerate(columns):
        texts = [line[i] for line in cells]
        sample = next((t for t in texts if t != "-"), "")
        numeric = sample[:1].isdigit() or sample[:1] in "<-+" and sample[1:2].isdigit()
        # a figure is never cut: its column is as wide as its widest cell; free text wraps,
        # in 24 characters or more when it has them (optional columns go first)
        widest = max(len(t) for t in [col.header, *texts])
        out.add_column(col.header, justify="right" if numeric else "left",
                       min_width=min(24, widest) if col.wrap else widest,
                       no_wrap=not col.wrap, overflow="fold")
    for line in cells:
        out.add_row(*line)
    return out


def print_table(name: str, rows: Sequence[Row], values: Mapping[str, Any], wide: bool,
                console: Console | None = None) -> None:
    """Print the report; --wide widens the console to the table rather than cut columns."""
    console = console or Console()
    if not rows:
        console.print(f"{name}: no segment has enough samples in this window")
        return
    rendered = table(name, rows, values, wide, None if wide else console.width)
    if wide:
        width = Console(width=10_000).measure(rendered).maximum
        if width > console.width:
            console = Console(width=width, file=console.file)
    console.print(rendered)
