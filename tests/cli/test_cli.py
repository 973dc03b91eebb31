"""The `rum` command: help everywhere, one-line errors, migrate, report without a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from tests.queries.test_slow_regions import seed


def rum(*args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=120,
                          cwd=cwd)


@pytest.mark.parametrize("args", [[], ["serve"], ["migrate"], ["report"], ["report", "slow-regions"]])
def test_help_everywhere(args: list[str]) -> None:
    result = rum(*args, "--help")
    assert result.returncode == 0
    assert "usage: rum" in result.stdout


def test_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = rum("migrate", env={"RUM_PORT": "not-a-port", "RUM_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("rum: error: invalid settings: RUM_PORT:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = rum("--config", str(tmp_path / "nope.toml"), "migrate")
    assert result.returncode == 2
    assert result.stderr.strip() == f"rum: error: config file not found: {tmp_path / 'nope.toml'}"


def test_toml_config_is_read(tmp_path: Path) -> None:
    config = tmp_path / "rum.toml"
    config.write_text(f'data_dir = "{tmp_path / "from-toml"}"\nretention_days = 90\n')
    result = rum("--config", str(config), "migrate")
    assert result.returncode == 0, result.stderr
    assert "0001_events.sql" in result.stdout
    assert (tmp_path / "from-toml" / "chdb").is_dir()
    again = rum("--config", str(config), "migrate")
    assert "nothing (schema is current)" in again.stdout


def test_unknown_setting_in_toml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "rum.toml"
    config.write_text('prot = 1\n')
    result = rum("--config", str(config), "migrate")
    assert result.returncode == 2 and "RUM_PROT" in result.stderr


def test_report_reads_the_store_when_no_server_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "data" / "chdb")
    migrate(store, 30)
    seed(store, "IN", "MH", 4300, 60)
    store.close()
    code = main(["report", "slow-regions", "--data-dir", str(tmp_path / "data"),
                 "--min-samples", "30", "--json"])
    assert code == 0
    out = capsys.readouterr().out
    assert '"country": "IN"' in out


def test_report_bad_parameter_is_one_line(tmp_path: Path) -> None:
    result = rum("report", "slow-regions", "--window", "soon", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("rum: error: window:")


def test_report_unreachable_explicit_server(tmp_path: Path) -> None:
    result = rum("report", "slow-regions", "--server", "http://127.0.0.1:9", "--data-dir",
                 str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("rum: error: cannot reach http://127.0.0.1:9")


def test_report_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "data" / "chdb")
    migrate(store, 30)
    seed(store, "IN", "MH", 4300, 60)
    store.close()
    code = main(["report", "slow-segments", "--data-dir", str(tmp_path / "data"), "--csv"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("country,samples,outliers,p50,p75,p95")
    assert lines[1].startswith("IN,60,0,")
