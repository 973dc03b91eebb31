"""README stays true to the code: every setting in its table, every command it names exists (#21)."""

from __future__ import annotations

import re
from pathlib import Path

from cli.main import build_parser
from collector.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
# settings whose unset value means a default computed at start, shown as such in the table
EFFECTIVE = {"RUM_BEACON_DIR": "`js-beacon/dist`", "RUM_DASHBOARD_DIR": "`dashboard/dist`",
             "RUM_PUBLIC_URL": "the read-side listener"}
ROWS = [line for line in README.splitlines() if line.startswith("| `RUM_")]


def _row(env: str) -> str | None:
    for row in ROWS:
        if f"`{env}`" in row.split("|")[1]:
            return row
    return None


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    for name, field in Settings.model_fields.items():
        env = f"RUM_{name.upper()}"
        row = _row(env)
        assert row is not None, f"{env} is not in README's settings table"
        default_cell = row.split("|")[2]
        default = field.get_default(call_default_factory=True)
        if env in EFFECTIVE:
            assert default is None and EFFECTIVE[env] in default_cell, (env, default_cell)
        elif default is None or default == []:
            assert "unset" in default_cell or "empty" in default_cell, (env, default_cell)
        elif isinstance(default, bool):
            assert f"`{str(default).lower()}`" in default_cell, (env, default_cell)
        elif isinstance(default, list):
            assert f"`{','.join(default)}`" in default_cell, (env, default_cell)
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            shown = {f"`{default}`", f"`{default:g}`", f"`{int(default)}`" if default == int(default) else ""}
            assert any(s and s in default_cell for s in shown), (env, default, default_cell)
        else:
            assert f"`{default}`" in default_cell, (env, default, default_cell)


def test_every_rum_command_the_readme_names_exists() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    named = set(re.findall(r"`rum ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", README))
    assert named, "the README names commands"
    for command, sub in named:
        assert command in commands, f"README names `rum {command}`, which does not exist"
        if command == "report" and sub:
            from queries.catalog import CATALOG

            assert sub in CATALOG, f"README names `rum report {sub}`, which does not exist"
