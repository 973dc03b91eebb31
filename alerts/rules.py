"""Alert rules files (YAML or TOML): parsing and validation, each problem with its line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VITALS = ("lcp", "inp", "cls", "fcp", "ttfb")
RATES = ("error_rate", "login_failure_rate", "api_failure_rate", "apdex")
METRICS = VITALS + RATES
STATS = ("p50", "p75", "p95")
DIMENSIONS = ("country", "region", "city", "device_class", "browser", "os", "page_group",
              "connection_type")
FORMATS = ("generic", "slack")
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
RULE_FIELDS = {"name", "metric", "stat", "above", "below", "group_by", "window", "for",
               "min_samples", "site", "webhooks", "hysteresis"}
WEBHOOK_FIELDS = {"url", "format", "secret_env", "timeout"}
Lines = dict[tuple[int, str | None], int]
LineOf = Callable[..., int | None]


@dataclass(frozen=True)
class Webhook:
    """Where notifications go."""

    name: str
    url: str
    format: str = "generic"
    secret_env: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class Rule:
    """One threshold rule, evaluated per group (e.g. per country)."""

    name: str
    metric: str
    threshold: float
    direction: str  # "above" or "below"
    stat: str = "p75"
    group_by: tuple[str, ...] = ()
    window: int = 900
    for_seconds: int = 0
    min_samples: int = 50
    site: str = ""
    webhooks: tuple[str, ...] = ()
    # resolve only when the value is back past the threshold by this fraction (no flapping)
    hysteresis: float = 0.1

    def breached(self, value: float) -> bool:
        """True when `value` is on the wrong side of the threshold."""
        return value > self.threshold if self.direction == "above" else value < self.threshold

    def recovered(self, value: float) -> bool:
        """True when `value` is back inside the threshold by the hysteresis margin."""
        margin = abs(self.threshold) * self.hysteresis
        if self.direction == "above":
            return value <= self.threshold - margin
        return value >= self.threshold + margin


@dataclass
class RuleSet:
    """The whole file: rules and named webhooks."""

    rules: list[Rule] = field(default_factory=list)
    webhooks: dict[str, Webhook] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One mistake in a rules file."""

    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"line {self.line}: " if self.line else ""
        return f"{at}{self.where}: {self.message}"


class RulesError(ValueError):
    """A rules file with problems; str() lists them one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_duration(text: Any) -> int:
    """'15m' -> 900 seconds; raises ValueError."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def load_rules(path: Path) -> RuleSet:
    """Read and validate a rules file; RulesError lists every problem with its line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise RulesError([Problem(None, str(path), exc.strerror or str(exc))]) from exc
    lines: Lines = {}  # tomllib keeps no positions: TOML problems carry no line
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RulesError([Problem(None, str(path), str(exc))]) from exc
    else:
        data, lines = _load_yaml(text, path)
    return _validate(data, lines)


def _load_yaml(text: str, path: Path) -> tuple[Any, Lines]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RulesError([Problem(line, str(path), str(getattr(exc, "problem", exc)))]) from exc
    lines: Lines = {}
    _collect_lines(node, data, lines)
    return data, lines


def _collect_lines(node: Any, data: Any, lines: Lines) -> None:
    """Map (id of each parsed mapping, key) to its line, so problems can name lines."""
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        lines[(id(data), None)] = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = key_node.value
            if key in data:
                lines[(id(data), key)] = key_node.start_mark.line + 1
                _collect_lines(value_node, data[key], lines)
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for child, item in zip(node.value, data, strict=False):
            _collect_lines(child, item, lines)


def _validate(data: Any, lines: Lines) -> RuleSet:
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError([Problem(1, "file", "needs a top-level `rules:` list "
                                  "(and optionally `webhooks:`)")])
    unknown = set(data) - {"rules", "webhooks"}
    if unknown:
        problems.append(Problem(1, "file", f"unknown key(s): {', '.join(sorted(unknown))}"))
    ruleset = RuleSet()
    hooks = data.get("webhooks") or {}
    if not isinstance(hooks, dict):
        problems.append(Problem(lines.get((id(data), "webhooks")), "webhooks",
                                "must be a mapping of names"))
        hooks = {}
    for name, spec in hooks.items():
        hook = _webhook(str(name), spec, _line_of(lines, spec), problems)
        if hook is not None:
            ruleset.webhooks[hook.name] = hook
    seen: set[str] = set()
    for index, spec in enumerate(data["rules"]):
        rule = _rule(index, spec, _line_of(lines, spec), problems, set(hooks))
        if rule is not None:
            if rule.name in seen:
                problems.append(Problem(lines.get((id(spec), "name")), f"rule {rule.name}",
                                        "duplicate name"))
            seen.add(rule.name)
            ruleset.rules.append(rule)
    if problems:
        raise RulesError(problems)
    return ruleset


def _line_of(lines: Lines, spec: Any) -> LineOf:
    """A function giving the line of a key of `spec` (or of `spec` itself)."""

    def line(key: str | None = None) -> int | None:
        return lines.get((id(spec), key)) or lines.get((id(spec), None))

    return line


def _webhook(name: str, spec: Any, line: LineOf, problems: list[Problem]) -> Webhook | None:
    where = f"webhook {name}"
    if not isinstance(spec, dict):
        problems.append(Problem(line(), where, "must be a mapping with a url"))
        return None
    start = len(problems)

    def bad(key: str, message: str) -> None:
        problems.append(Problem(line(key), f"{where}.{key}", message))

    for key in sorted(set(spec) - WEBHOOK_FIELDS):
        bad(key, "unknown field")
    url = spec.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        bad("url", "must be an http:// or https:// URL")
    fmt = spec.get("format", "generic")
    if fmt not in FORMATS:
        bad("format", f"must be one of {', '.join(FORMATS)}")
    timeout = spec.get("timeout", 5.0)
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        bad("timeout", "must be a number of seconds in (0, 60]")
    secret = spec.get("secret_env")
    if secret is not None and not isinstance(secret, str):
        bad("secret_env", "must be an environment variable name")
    if len(problems) > start:
        return None
    return Webhook(name, str(url), str(fmt), secret, float(timeout))


def _rule(index: int, spec: Any, line: LineOf, problems: list[Problem],
          hooks: set[str]) -> Rule | None:
    if not isinstance(spec, dict):
        problems.append(Problem(line(), f"rules[{index}]", "must be a mapping"))
        return None
    name = spec.get("name")
    where = f"rule {name}" if isinstance(name, str) else f"rules[{index}]"
    start = len(problems)

    def bad(key: str, message: str) -> None:
        problems.append(Problem(line(key), f"{where}.{key}", message))

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        bad("name", "is required: 1-64 characters of A-Z a-z 0-9 _ . -")
    for key in sorted(set(spec) - RULE_FIELDS):
        bad(key, "unknown field")
    metric = spec.get("metric")
    if metric not in METRICS:
        bad("metric", f"must be one of {', '.join(METRICS)}")
    stat = spec.get("stat", "p75" if metric in VITALS else "rate")
    if metric in VITALS and stat not in STATS:
        bad("stat", f"must be one of {', '.join(STATS)} for {metric}")
    has_above, has_below = "above" in spec, "below" in spec
    if has_above == has_below:
        bad("above", "give exactly one of `above` or `below`")
    threshold = spec.get("above", spec.get("below"))
    if has_above != has_below and (not isinstance(threshold, (int, float))
                                   or isinstance(threshold, bool)):
        bad("above" if has_above else "below", "must be a number")
    group_by = spec.get("group_by", [])
    if (not isinstance(group_by, list) or len(group_by) > 2
            or any(g not in DIMENSIONS for g in group_by)):
        bad("group_by", f"at most two of {', '.join(DIMENSIONS)}")
    durations = {}
    for key, default in (("window", "15m"), ("for", "0s")):
        try:
            durations[key] = parse_duration(spec.get(key, default))
        except ValueError as exc:
            bad(key, str(exc))
    if durations.get("window", 60) < 60:
        bad("window", "must be at least 1m")
    min_samples = spec.get("min_samples", 50)
    if not isinstance(min_samples, int) or isinstance(min_samples, bool) or min_samples < 1:
        bad("min_samples", "must be a positive integer")
    site = spec.get("site", "")
    if not isinstance(site, str) or (site and not _NAME.fullmatch(site)):
        bad("site", "must be a site key")
    webhooks = spec.get("webhooks", [])
    if not isinstance(webhooks, list) or not all(isinstance(w, str) for w in webhooks):
        bad("webhooks", "must be a list of webhook names")
        webhooks = []
    for hook in webhooks:
        if hook not in hooks:
            bad("webhooks", f"unknown webhook {hook!r} (define it under `webhooks:`)")
    hysteresis = spec.get("hysteresis", 0.1)
    if not isinstance(hysteresis, (int, float)) or not 0 <= hysteresis < 1:
        bad("hysteresis", "must be a fraction in [0, 1)")
    if len(problems) > start:
        return None
    return Rule(name=str(name), metric=str(metric), threshold=float(threshold or 0),
                direction="above" if has_above else "below", stat=str(stat),
                group_by=tuple(group_by), window=durations["window"],
                for_seconds=durations["for"], min_samples=int(min_samples), site=str(site),
                webhooks=tuple(webhooks), hysteresis=float(hysteresis))
