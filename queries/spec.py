"""Query specs and typed parameters: what a question takes and how its answer is finished."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.store import Store
from queries import load_sql
from rollups.kept import Kept

_WINDOW = re.compile(r"^(\d{1,6})([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW_SECONDS = 400 * 86400
_SITE = re.compile(r"^[A-Za-z0-9_.\-]{0,64}$")


class ParamError(ValueError):
    """A query parameter is unknown or has a bad value; the message says which."""


def parse_window(text: str) -> int:
    """'15m', '24h', '7d' -> seconds."""
    match = _WINDOW.fullmatch(text.strip())
    if not match:
        raise ParamError(f"window: {text!r} is not a duration like 15m, 24h or 7d")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 60 <= seconds <= MAX_WINDOW_SECONDS:
        raise ParamError("window: must be between 1m and 400d")
    return seconds


def parse_flag(name: str) -> Callable[[str], bool]:
    """A yes/no parameter: true/false, 1/0, yes/no."""
    def parse(text: str) -> bool:
        value = text.strip().lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no", ""):
            return False
        raise ParamError(f"{name}: {text!r} is not true or false")
    return parse


def parse_site(text: str) -> str:
    if not _SITE.fullmatch(text):
        raise ParamError("site: must be 0-64 characters of A-Z a-z 0-9 _ . -")
    return text


_PLACE = re.compile(r"^[A-Za-z0-9\-]{0,8}\Z")


def parse_place(name: str) -> Callable[[str], str]:
    """A country (ISO 3166-1 alpha-2) or region (ISO 3166-2 subdivision) code, '' = any."""
    def parse(text: str) -> str:
        if not _PLACE.fullmatch(text):
            raise ParamError(f"{name}: a code such as BR or SP (up to 8 of A-Z 0-9 -), or empty")
        return text.upper()
    return parse


def int_param(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ParamError(f"{name}: {text!r} is not an integer") from None
        if not low <= value <= high:
            raise ParamError(f"{name}: must be between {low} and {high}")
        return value

    return parse


def min_count(name: str, default: str, help_text: str) -> Param:
    """A minimum count (samples, sessions, attempts): an integer from 1 to 10 million."""
    return Param(int_param(name, 1, 10_000_000), default, help_text)


def float_param(name: str, low: float, high: float) -> Callable[[str], float]:
    """A parser of a finite number within [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ParamError(f"{name}: {text!r} is not a number") from None
        if not low <= value <= high:  # also refuses nan
            raise ParamError(f"{name}: must be between {low:g} and {high:g}")
        return value

    return parse


@dataclass(frozen=True)
class Param:
    """One user-facing parameter: its parser, default and help; `table_default`, when set,
    is what `rum report`'s default table (no --wide, --json or --csv) asks when the
    parameter is not given: for one that only feeds columns that table does not show."""

    parse: Callable[[str], Any]
    default: str
    help: str
    table_default: str | None = None


Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    """What a QuerySpec's `plan` read from the store before the question runs: the SQL
    parameters it adds (e.g. what a rollup covers), the .sql file to run instead of the
    spec's (None: the spec's; same output), and whether the answer may be kept
    (`settled`: it depends only on rows that never change under these parameters)."""

    params: Mapping[str, Any]
    sql_name: str | None = None
    settled: bool = False


@dataclass(frozen=True)
class QuerySpec:
    """A question: its .sql file, the parameters users may pass, and how answers are finished.

    `bind` turns the parsed values into the SQL's parameters (beyond the window);
    `plan` reads the store first and returns a Plan: parameters (e.g. what a rollup
    covers), maybe another .sql file for them (same output), and `settled` when the answer
    depends only on rows that never change under those parameters (named rolls of a
    rollup, no raw events): such answers are kept (`SETTLED_KEPT` of them per process) and
    given again while the parameters are the same;
    `post` finishes the rows in Python (statistics on the few rows a query returns);
    `attach` adds to them what another query of the store answers (e.g. `why`), only when
    the `why` parameter asks for it (it costs another question: the parts' rollup read).
    """

    name: str
    sql_name: str
    summary: str
    params: Mapping[str, Param]
    bind: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    post: Callable[[Rows, dict[str, Any]], Rows] | None = None
    plan: Callable[[Store, dict[str, Any]], Plan] | None = None
    attach: Callable[[Store, Rows, dict[str, Any]], Rows] | None = None

    def parse(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Validate user parameters (strings) into typed values, defaults filled in."""
        unknown = sorted(set(raw) - set(self.params))
        if unknown:
            raise ParamError(
                f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(self.params)}"
            )
        return {key: p.parse(raw.get(key, p.default)) for key, p in self.params.items()}

    def run(self, store: Store, values: Mapping[str, Any], now: float | None = None) -> list[dict[str, Any]]:
        """Bind the typed values (window -> since/until from `now`) and run the SQL."""
        bound = self.bind(dict(values)) if self.bind else dict(values)
        if "window" in bound:
            until_ms = int((time.time() if now is None else now) * 1000)
            bound["until_ms"] = until_ms
            bound["since_ms"] = until_ms - bound.pop("window") * 1000
        sql_name, settled = self.sql_name, False
        if self.plan:
            planned = self.plan(store, bound)
            bound.update(planned.params)
            sql_name, settled = planned.sql_name or sql_name, planned.settled
        explain = bound.pop("why", False)  # `attach` runs only when asked: another question
        key = (id(store), sql_name, repr(sorted(bound.items()))) if settled else None
        rows = _settled_answer(key) if key else None
        if rows is None:
            rows = store.query(load_sql(sql_name), bound)
            if key:
                _keep_answer(key, rows)
        rows = self.post(rows, dict(values)) if self.post else rows
        return self.attach(store, [dict(r) for r in rows], bound) if self.attach and explain else rows


# Settled answers (QuerySpec.plan said `settled`): the newest SETTLED_KEPT, per process,
# copied in and out (callers change their rows).
SETTLED_KEPT = 64
_settled: Kept[tuple[int, str, str], list[dict[str, Any]]] = Kept(SETTLED_KEPT)


def _settled_answer(key: tuple[int, str, str]) -> list[dict[str, Any]] | None:
    rows = _settled.get(key)
    return [dict(row) for row in rows] if rows is not None else None


def forget_settled() -> None:
    """Drop the kept answers (benchmarks time questions cold)."""
    _settled.clear()


def _keep_answer(key: tuple[int, str, str], rows: list[dict[str, Any]]) -> None:
    _settled.put(key, [dict(row) for row in rows])


COMMON = {
    "window": Param(parse_window, "24h", "time window ending now: 15m, 24h, 7d ..."),
    "site": Param(parse_site, "", "site key ('' = all sites)"),
}


WHY = Param(parse_flag("why"), "false",
            "also explain each flagged segment (`why`: the part of LCP/INP that grew; reads raw events)")
