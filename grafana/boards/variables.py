"""The template variables of the ClickHouse dashboards: site, country, device, page group.

Each lists the values seen in the time range (plugin macro `$__timeFilter`); "All"
is the custom value '' that the panel SQL reads as "no filter" (grafana/sql.py).
"""

from __future__ import annotations

from grafana.common import JSON, query_variable

_SITE = "(${site:sqlstring} = '' OR site = ${site:sqlstring})"


def _values_of(column: str) -> str:
    return (f"SELECT DISTINCT {column} FROM rum.events WHERE $__timeFilter(ts) "
            f"AND is_bot = 0 AND {column} != '' AND {_SITE} ORDER BY {column}")


def segment_variables() -> list[JSON]:
    """site (one or All), then country, device and page group (several or All)."""
    return [
        query_variable("site", "Site",
                       "SELECT DISTINCT site FROM rum.events WHERE $__timeFilter(ts) ORDER BY site",
                       multi=False),
        query_variable("country", "Country", _values_of("country"), multi=True),
        query_variable("device", "Device", _values_of("device_class"), multi=True),
        query_variable("page_group", "Page group", _values_of("page_group"), multi=True),
    ]
