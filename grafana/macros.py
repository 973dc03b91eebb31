"""What Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it.

Two steps, in the order they happen in production: the Grafana frontend replaces
template variables (`${country:sqlstring}`), then the plugin backend expands its
macros (`$__timeFilter(ts)`, `$__fromTime_ms`, `$__interval_s`, ...). The macro
expansions follow grafana/clickhouse-datasource `pkg/macros/macros.go` (v4), so the
tests run on chDB exactly the SQL a ClickHouse server would receive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALL = "$__all"  # a variable's value when "All" is selected
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
_MACRO = re.compile(r"\$__(\w+)")


class MacroError(ValueError):
    """A macro or variable the plugin (or this module) does not know, or a bad argument list."""


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time picker (UTC) and the panel's interval in seconds."""

    start: datetime
    end: datetime
    interval_s: float = 60.0


@dataclass(frozen=True)
class Variable:
    """A template variable's selection and its custom "All" value (used unformatted, as Grafana does)."""

    values: Sequence[str]
    all_value: str | None = None


def interpolate(sql: str, variables: Mapping[str, Variable], time_range: TimeRange) -> str:
    """Variables (the frontend), then macros (the plugin backend): the SQL ClickHouse runs."""
    return expand_macros(replace_variables(sql, variables), time_range)


def replace_variables(sql: str, variables: Mapping[str, Variable]) -> str:
    """Grafana's template replacement for the formats our dashboards use (raw, sqlstring)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name.startswith("__"):
            return match.group(0)  # a plugin macro or a global: not a dashboard variable
        if name not in variables:
            raise MacroError(f"unknown variable ${name}")
        var = variables[name]
        if list(var.values) == [ALL] and var.all_value is not None:
            # Grafana skips formatting of a custom all value
            return var.all_value
        fmt = match.group(2) or "raw"
        if fmt == "sqlstring":
            return ",".join("'" + v.replace("'", "''") + "'" for v in var.values)
        if fmt == "raw":
            return ",".join(var.values)
        raise MacroError(f"format {fmt!r} of ${name} is not supported here")

    return _VARIABLE.sub(one, sql)


def expand_macros(sql: str, time_range: TimeRange) -> str:
    """Expand the ClickHouse plugin's `$__name` and `$__name(args)` macros."""
    out: list[str] = []
    pos = 0
    for match in _MACRO.finditer(sql):
        if match.start() < pos:
            continue
        name = match.group(1)
        if name not in _MACROS:
            raise MacroError(f"unknown macro $__{name}")
        args, end = _arguments(sql, match.end())
        out.append(sql[pos:match.start()])
        out.append(_MACROS[name](time_range, args))
        pos = end
    out.append(sql[pos:])
    return "".join(out)


def _arguments(sql: str, at: int) -> tuple[list[str], int]:
    """The comma-separated arguments in balanced parentheses at `at` (none if no paren)."""
    if at >= len(sql) or sql[at] != "(":
        return [], at
    depth = 0
    args: list[str] = []
    current: list[str] = []
    for i in range(at, len(sql)):
        char = sql[i]
        if char == "(":
            depth += 1
            if depth == 1:
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return [a for a in args if a], i + 1
        elif char == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    raise MacroError("unbalanced parentheses after a macro")


def _seconds(t: datetime) -> int:
    return int(t.astimezone(UTC).timestamp())


def _millis(t: datetime) -> int:
    return int(round(t.astimezone(UTC).timestamp() * 1000))


def _date(t: datetime) -> str:
    return f"toDate('{t.astimezone(UTC):%Y-%m-%d}')"


def _one(args: list[str], count: int = 1) -> list[str]:
    if len(args) != count:
        raise MacroError(f"expected {count} argument(s), received {len(args)}")
    return args


def _time_filter(r: TimeRange, args: list[str]) -> str:
    (col,) = _one(args)
    return f"{col} >= toDateTime({_seconds(r.start)}) AND {col} <= toDateTime({_seconds(r.end)})"


def _time_filter_ms(r: TimeRange, args: list[str]) -> str:
    (col,) = _one(args)
    return (f"{col} >= fromUnixTimestamp64Milli({_millis(r.start)}) AND "
            f"{col} <= fromUnixTimestamp64Milli({_millis(r.end)})")


def _date_filter(r: TimeRange, args: list[str]) -> str:
    (col,) = _one(args)
    return f"{col} >= {_date(r.start)} AND {col} <= {_date(r.end)}"


def _date_time_filter(r: TimeRange, args: list[str]) -> str:
    date_col, time_col = _one(args, 2)
    return (f"({date_col} >= {_date(r.start)} AND {date_col} <= {_date(r.end)}) AND "
            f"({time_col} >= toDateTime({_seconds(r.start)}) AND "
            f"{time_col} <= toDateTime({_seconds(r.end)}))")


def _time_interval(r: TimeRange, args: list[str]) -> str:
    (col,) = _one(args)
    return f"toStartOfInterval(toDateTime({col}), INTERVAL {int(max(r.interval_s, 1))} second)"


def _time_interval_ms(r: TimeRange, args: list[str]) -> str:
    (col,) = _one(args)
    ms = int(max(r.interval_s * 1000, 1))
    return f"toStartOfInterval(toDateTime64({col}, 3), INTERVAL {ms} millisecond)"


_MACROS: dict[str, Callable[[TimeRange, list[str]], str]] = {
    "fromTime": lambda r, a: f"toDateTime({_seconds(r.start)})",
    "toTime": lambda r, a: f"toDateTime({_seconds(r.end)})",
    "fromTime_ms": lambda r, a: f"fromUnixTimestamp64Milli({_millis(r.start)})",
    "toTime_ms": lambda r, a: f"fromUnixTimestamp64Milli({_millis(r.end)})",
    "timeFilter": _time_filter,
    "timeFilter_ms": _time_filter_ms,
    "dateFilter": _date_filter,
    "dateTimeFilter": _date_time_filter,
    "dt": _date_time_filter,
    "timeInterval": _time_interval,
    "timeInterval_ms": _time_interval_ms,
    "interval_s": lambda r, a: str(int(max(r.interval_s, 1))),
}
