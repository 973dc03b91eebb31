"""Panel factories shared by every dashboard: datasources, targets, thresholds, layout.

Each factory returns a `Panel` that knows its Grafana JSON and, for the tests, the
columns its SQL must return and the Core Web Vital it shows (if any).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from queries.analytics import THRESHOLDS

JSON = dict[str, Any]
CLICKHOUSE: JSON = {"type": "grafana-clickhouse-datasource", "uid": "clickhouse"}
PROMETHEUS: JSON = {"type": "prometheus", "uid": "prometheus"}
GRID_WIDTH = 24
# units per vital: milliseconds, except CLS (a unitless layout-shift score)
VITAL_UNITS = {"lcp": "ms", "inp": "ms", "fcp": "ms", "ttfb": "ms", "cls": "none"}
_FORMAT = {"table": 1, "timeseries": 0}


@dataclass
class Panel:
    """One panel: its JSON body (without id and position), its size, and what tests expect."""

    body: JSON
    width: int = 12
    height: int = 8
    expects: tuple[str, ...] = ()
    vital: str | None = None

    @property
    def title(self) -> str:
        """The panel's title."""
        return str(self.body["title"])

    def sql(self) -> list[str]:
        """The ClickHouse SQL of each target (empty for Prometheus panels)."""
        return [t["rawSql"] for t in self.body["targets"] if "rawSql" in t]


@dataclass
class Row:
    """A titled row of panels, laid out left to right and wrapped at 24 columns."""

    title: str
    panels: Sequence[Panel] = field(default_factory=list)


def clickhouse_target(sql: str, fmt: str = "table", ref: str = "A") -> JSON:
    """A raw-SQL target of the ClickHouse plugin (format table or time series)."""
    return {"datasource": CLICKHOUSE, "editorType": "sql", "format": _FORMAT[fmt],
            "queryType": fmt, "rawSql": sql, "refId": ref}


def prometheus_target(expr: str, legend: str, ref: str = "A") -> JSON:
    """A PromQL range query with a legend template."""
    return {"datasource": PROMETHEUS, "editorMode": "code", "expr": expr,
            "legendFormat": legend, "range": True, "refId": ref}


def vital_thresholds(metric: str) -> JSON:
    """Core Web Vitals bands as Grafana thresholds: good, needs improvement, poor."""
    good, poor, _cap = THRESHOLDS[metric]
    return steps(("green", None), ("orange", good), ("red", poor))


def steps(*bands: tuple[str, float | None]) -> JSON:
    """Absolute thresholds from (color, lower bound) pairs; the first bound is None."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in bands]}


NEUTRAL = steps(("green", None))


def _defaults(unit: str, thresholds: JSON, color: str = "thresholds", **extra: Any) -> JSON:
    return {"unit": unit, "thresholds": thresholds, "color": {"mode": color}, **extra}


def _unit_override(column: str, unit: str, thresholds: JSON | None = None) -> JSON:
    props: list[JSON] = [{"id": "unit", "value": unit}]
    if thresholds is not None:
        props += [{"id": "thresholds", "value": thresholds},
                  {"id": "custom.cellOptions", "value": {"type": "color-text"}}]
    return {"matcher": {"id": "byName", "options": column}, "properties": props}


def timeseries(title: str, description: str, targets: list[JSON], unit: str,
               thresholds: JSON | None = None, expects: tuple[str, ...] = (),
               vital: str | None = None, width: int = 12, stack: bool = False) -> Panel:
    """A time series; thresholds, when given, are drawn as dashed lines."""
    custom: JSON = {"drawStyle": "line", "lineWidth": 2, "fillOpacity": 10 if stack else 0,
                    "spanNulls": False, "showPoints": "never",
                    "stacking": {"mode": "normal" if stack else "none", "group": "A"},
                    "thresholdsStyle": {"mode": "dashed" if thresholds else "off"}}
    body = {"type": "timeseries", "title": title, "description": description,
            "datasource": targets[0]["datasource"], "targets": targets,
            "fieldConfig": {"defaults": _defaults(unit, thresholds or NEUTRAL, "palette-classic",
                                                  custom=custom), "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom",
                                   "calcs": ["mean", "max", "lastNotNull"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}
    return Panel(body, width=width, expects=expects, vital=vital)


def table(title: str, description: str, sql: str, unit: str, columns: Mapping[str, str],
          thresholds: Mapping[str, JSON] | None = None, hide: Sequence[str] = (),
          vital: str | None = None, width: int = 24, height: int = 9) -> Panel:
    """A table of one ClickHouse query; `columns` maps each shown column to its unit."""
    thresholds = thresholds or {}
    overrides = [_unit_override(c, u, thresholds.get(c)) for c, u in columns.items()]
    body = {"type": "table", "title": title, "description": description,
            "datasource": CLICKHOUSE, "targets": [clickhouse_target(sql)],
            "fieldConfig": {"defaults": _defaults(unit, NEUTRAL), "overrides": overrides},
            "options": {"showHeader": True, "cellHeight": "sm",
                        "footer": {"show": False, "reducer": ["sum"], "fields": ""}},
            "transformations": [{"id": "organize", "options": {
                "excludeByName": {c: True for c in hide}, "indexByName": {}, "renameByName": {}}}]}
    return Panel(body, width=width, height=height,
                 expects=tuple(columns) + tuple(hide), vital=vital)


def barchart(title: str, description: str, sql: str, x: str, unit: str,
             expects: tuple[str, ...], thresholds: JSON | None = None, stack: bool = False,
             hide: Sequence[str] = (), vital: str | None = None, width: int = 12,
             horizontal: bool = False, rename: Mapping[str, str] | None = None) -> Panel:
    """Bars per category (x, named after `rename`); stacked when the values are shares."""
    body = {"type": "barchart", "title": title, "description": description,
            "datasource": CLICKHOUSE, "targets": [clickhouse_target(sql)],
            "fieldConfig": {"defaults": _defaults(
                unit, thresholds or NEUTRAL, "thresholds" if thresholds else "palette-classic",
                custom={"fillOpacity": 80, "lineWidth": 1}), "overrides": []},
            "options": {"xField": (rename or {}).get(x, x), "stacking": "normal" if stack else "none",
                        "orientation": "horizontal" if horizontal else "auto",
                        "showValue": "auto", "legend": {"displayMode": "list",
                                                        "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi"}},
            "transformations": [{"id": "organize", "options": {
                "excludeByName": {c: True for c in hide}, "indexByName": {},
                "renameByName": dict(rename or {})}}]}
    return Panel(body, width=width, expects=expects, vital=vital)


def piechart(title: str, description: str, sql: str, label: str, value: str,
             unit: str = "short", width: int = 6) -> Panel:
    """Shares of one value across the rows' labels."""
    body = {"type": "piechart", "title": title, "description": description,
            "datasource": CLICKHOUSE, "targets": [clickhouse_target(sql)],
            "fieldConfig": {"defaults": _defaults(unit, NEUTRAL, "palette-classic"),
                            "overrides": []},
            "options": {"pieType": "donut", "displayLabels": ["name", "percent"],
                        "reduceOptions": {"values": True, "calcs": ["lastNotNull"],
                                          "fields": f"/^{value}$/"},
                        "legend": {"displayMode": "table", "placement": "right",
                                   "values": ["value", "percent"]},
                        "tooltip": {"mode": "single"}}}
    return Panel(body, width=width, expects=(label, value))


def country_map(title: str, description: str, sql: str, value: str, metric: str,
                size: str, width: int = 12, height: int = 12) -> Panel:
    """A world map: one marker per country (ISO alpha-2), coloured by the vital's bands."""
    layer = {"type": "markers", "name": title, "tooltip": True,
             "location": {"mode": "lookup", "lookup": "country",
                          "gazetteer": "public/gazetteer/countries.json"},
             "config": {"showLegend": True, "style": {
                 "color": {"field": value, "fixed": "green"},
                 "size": {"field": size, "fixed": 6, "min": 4, "max": 24},
                 "opacity": 0.7,
                 "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"}}}}
    body = {"type": "geomap", "title": title, "description": description,
            "datasource": CLICKHOUSE, "targets": [clickhouse_target(sql)],
            "fieldConfig": {"defaults": _defaults(VITAL_UNITS[metric], vital_thresholds(metric)),
                            "overrides": []},
            "options": {"view": {"id": "zero", "lat": 20, "lon": 0, "zoom": 1},
                        "controls": {"showZoom": True, "mouseWheelZoom": False,
                                     "showAttribution": True},
                        "basemap": {"type": "default", "name": "Basemap"},
                        "layers": [layer], "tooltip": {"mode": "details"}}}
    return Panel(body, width=width, height=height, expects=("country", value, size), vital=metric)


def query_variable(name: str, label: str, sql: str, multi: bool) -> JSON:
    """A ClickHouse query variable with "All" = '' (the queries' "no filter" value)."""
    return {"name": name, "label": label, "type": "query", "datasource": CLICKHOUSE,
            "query": sql, "definition": sql, "refresh": 2, "sort": 1, "hide": 0,
            "includeAll": True, "allValue": "''", "multi": multi, "regex": "", "options": [],
            "current": {"selected": True, "text": ["All"] if multi else "All",
                        "value": ["$__all"] if multi else "$__all"}}


def dashboard(uid: str, title: str, description: str, rows: Sequence[Row],
              variables: Sequence[JSON] = (), refresh: str = "1m") -> JSON:
    """The dashboard JSON: rows laid out on the 24-column grid, panel ids in order."""
    panels: list[JSON] = []
    y, next_id = 0, 1
    for row in rows:
        panels.append({"type": "row", "title": row.title, "id": next_id, "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        x, line_height = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append({**panel.body, "id": next_id,
                           "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y}})
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {"uid": uid, "title": title, "description": description, "tags": ["rum"],
            "timezone": "utc", "editable": True, "graphTooltip": 1, "schemaVersion": 39,
            "version": 1, "refresh": refresh, "time": {"from": "now-24h", "to": "now"},
            "annotations": {"list": []},
            "links": [{"type": "dashboards", "tags": ["rum"], "asDropdown": True,
                       "title": "rum dashboards", "includeVars": True, "keepTime": True}],
            "templating": {"list": list(variables)}, "panels": panels}
