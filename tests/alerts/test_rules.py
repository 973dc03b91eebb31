"""Rules files: good ones load, each mistake is named with its rule, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.rules import RulesError, load_rules

GOOD = """\
rules:
  - name: slow-lcp-by-country
    metric: lcp
    stat: p75
    above: 4000
    group_by: [country]
    window: 15m
    for: 10m
    min_samples: 50
    site: shop-eu
    webhooks: [ops]
  - name: logins
    metric: login_failure_rate
    above: 0.05
    webhooks: [ops, chat]
webhooks:
  ops: {url: "https://hooks.example.com/rum", format: generic, secret_env: RUM_HOOK_SECRET}
  chat: {url: "https://hooks.slack.com/services/x", format: slack}
"""


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, GOOD))
    first = rules.rules[0]
    assert (first.metric, first.threshold, first.window, first.for_seconds) == ("lcp", 4000, 900, 600)
    assert first.group_by == ("country",) and first.webhooks == ("ops",)
    assert rules.rules[1].stat == "rate" and rules.webhooks["chat"].format == "slack"


def test_toml_file(tmp_path: Path) -> None:
    text = ('[[rules]]\nname = "x"\nmetric = "inp"\nabove = 200\n\n'
            '[webhooks.ops]\nurl = "https://a.example/h"\n')
    assert load_rules(write(tmp_path, text, "rules.toml")).rules[0].metric == "inp"


@pytest.mark.parametrize(("change", "expected"), [
    (("metric: lcp", "metric: lcpp"), "line 3: rule slow-lcp-by-country.metric: must be one of"),
    (("above: 4000", "above: fast"), "line 5: rule slow-lcp-by-country.above: must be a number"),
    (("stat: p75", "stat: p99"), "line 4: rule slow-lcp-by-country.stat: must be one of p50"),
    (("[country]", "[planet]"), "line 6: rule slow-lcp-by-country.group_by: at most two of"),
    (("window: 15m", "window: soon"), "line 7: rule slow-lcp-by-country.window: 'soon'"),
    (("for: 10m", "for: -1"), "line 8: rule slow-lcp-by-country.for:"),
    (("min_samples: 50", "min_samples: 0"), "line 9: rule slow-lcp-by-country.min_samples"),
    (("webhooks: [ops]\n  - name: logins", "webhooks: [pager]\n  - name: logins"),
     "line 11: rule slow-lcp-by-country.webhooks: unknown webhook 'pager'"),
    (("    stat: p75\n", "    stat: p75\n    colour: red\n"),
     "line 5: rule slow-lcp-by-country.colour: unknown field"),
    (("format: slack", "format: teams"), "line 18: webhook chat.format: must be one of"),
    (("name: logins", "name: slow-lcp-by-country"), "line 12: rule slow-lcp-by-country: duplicate name"),
    (("    above: 0.05\n", ""), "line 12: rule logins.above: give exactly one of"),
])
def test_each_mistake_is_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, GOOD.replace(*change)))
    assert any(str(p).startswith(expected) for p in info.value.problems), str(info.value)


def test_broken_yaml_and_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="line 3: .*expected ','"):
        load_rules(write(tmp_path, "rules:\n  - name: [unclosed\n"))
    with pytest.raises(RulesError, match="top-level `rules:` list"):
        load_rules(write(tmp_path, "- name: x\n"))
    with pytest.raises(RulesError, match="No such file"):
        load_rules(tmp_path / "missing.yaml")
