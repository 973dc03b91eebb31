"""`--help` works for every `rum` subcommand and every report (no help text breaks argparse)."""

from __future__ import annotations

import argparse

import pytest

from cli.main import build_parser, main
from queries.catalog import CATALOG


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path the parser knows, e.g. ('report', 'revenue-impact')."""
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def test_every_report_is_a_command() -> None:
    assert {("report", name) for name in CATALOG} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "rum")
def test_help_exits_0(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: rum")
