"""Panel SQL: load a question's .sql (queries/ or grafana/sql/) and turn it into Grafana's form.

The same text runs in `rum report` and in Grafana: the ClickHouse `{name:Type}`
placeholders of the time window and site become plugin macros and dashboard
variables, every read of `rum.segmented_events(...)` is narrowed by the country,
device and page-group variables, and per-panel constants fill the rest. A
placeholder left over is an error, so a changed query file cannot silently drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

from queries import load_sql

# placeholders every panel shares: the time picker (plugin macros) and the site variable
SHARED = {
    "site:String": "${site:sqlstring}",
    "since_ms:Int64": "toUnixTimestamp64Milli($__fromTime_ms)",
    "until_ms:Int64": "toUnixTimestamp64Milli($__toTime_ms)",
    "bucket_s:UInt32": "$__interval_s",
}
# dashboard variable -> column: a custom "All" value of '' keeps every row
SEGMENT_VARIABLES = {"country": "country", "device": "device_class", "page_group": "page_group"}
SEGMENT_FILTER = " AND ".join(
    f"(has([${{{var}:sqlstring}}], '') OR has([${{{var}:sqlstring}}], {col}))"
    for var, col in SEGMENT_VARIABLES.items()
)
_VIEW = "FROM rum.segmented_events("
_PLACEHOLDER = re.compile(r"(?<!\$)\{(\w+:[\w()]+)\}")


class PanelSqlError(ValueError):
    """A query file does not fit the dashboard translation (says which and why)."""


def load(name: str) -> str:
    """`queries/<name>.sql` (a product question) or `grafana/sql/<name>.sql` (a panel's own)."""
    local = resources.files("grafana").joinpath("sql", f"{name}.sql")
    if local.is_file():
        return local.read_text()
    return load_sql(name)


def strip_header(sql: str) -> str:
    """The statement without its leading `--` header comment."""
    lines = sql.splitlines()
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip()


def for_grafana(name: str, consts: Mapping[str, str] | None = None) -> str:
    """The panel SQL of query `name`: filters injected, placeholders replaced.

    `consts` maps a placeholder (`limit:UInt32`) to the SQL literal the panel fixes, or
    a `{name:Query}` placeholder to another query's panel SQL (a subquery).
    """
    sql = strip_header(load(name))
    if _VIEW in sql:
        sql = narrow_by_segment(sql)
    table = {**SHARED, **(consts or {})}

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in table:
            raise PanelSqlError(f"{name}.sql: no value for {{{key}}} (add it to the panel's consts)")
        return table[key]

    sql = _PLACEHOLDER.sub(one, sql)
    if SEGMENT_FILTER not in sql:
        raise PanelSqlError(f"{name}.sql must read rum.segmented_events(...) (site, window, bots)")
    return sql


def narrow_by_segment(sql: str) -> str:
    """Wrap each `FROM rum.segmented_events(...)` in a subquery filtered by the segment variables."""
    out: list[str] = []
    pos = 0
    while (start := sql.find(_VIEW, pos)) >= 0:
        end = _closing_paren(sql, start + len(_VIEW) - 1)
        call = sql[start + len("FROM "):end + 1]
        out.append(sql[pos:start])
        out.append(f"FROM (SELECT * FROM {call} WHERE {SEGMENT_FILTER})")
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


def _closing_paren(sql: str, at: int) -> int:
    depth = 0
    for i in range(at, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise PanelSqlError("unbalanced parentheses in rum.segmented_events(...)")
