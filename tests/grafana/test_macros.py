"""The macro and variable expansion the tests rely on matches the plugin and Grafana."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grafana.macros import ALL, MacroError, TimeRange, Variable, expand_macros, replace_variables

RANGE = TimeRange(datetime(2024, 1, 2, 3, 4, 5, 678000, UTC),
                  datetime(2024, 1, 3, 0, 0, 0, tzinfo=UTC), interval_s=30)


@pytest.mark.parametrize(("sql", "expected"), [
    ("$__fromTime", "toDateTime(1704164645)"),
    ("$__toTime_ms", "fromUnixTimestamp64Milli(1704240000000)"),
    ("$__fromTime_ms", "fromUnixTimestamp64Milli(1704164645678)"),
    ("$__timeFilter(ts)", "ts >= toDateTime(1704164645) AND ts <= toDateTime(1704240000)"),
    ("$__dateFilter(d)", "d >= toDate('2024-01-02') AND d <= toDate('2024-01-03')"),
    ("$__timeInterval(ts)", "toStartOfInterval(toDateTime(ts), INTERVAL 30 second)"),
    ("$__interval_s", "30"),
    ("f($__timeFilter(toDateTime(ts, 'UTC')))",
     "f(toDateTime(ts, 'UTC') >= toDateTime(1704164645) AND "
     "toDateTime(ts, 'UTC') <= toDateTime(1704240000))"),
])
def test_plugin_macros(sql: str, expected: str) -> None:
    assert expand_macros(sql, RANGE) == expected


def test_unknown_macro_and_bad_arguments_fail() -> None:
    with pytest.raises(MacroError):
        expand_macros("$__nope", RANGE)
    with pytest.raises(MacroError):
        expand_macros("$__timeFilter(a, b)", RANGE)


def test_variables_sqlstring_and_custom_all() -> None:
    variables = {"c": Variable(["IN", "it's"], "''"), "s": Variable([ALL], "''")}
    assert replace_variables("[${c:sqlstring}] ${s:sqlstring}", variables) == "['IN','it''s'] ''"
    assert replace_variables("$__interval_s", variables) == "$__interval_s"
    with pytest.raises(MacroError):
        replace_variables("$missing", variables)
