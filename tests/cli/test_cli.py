"""The `rum` command: help everywhere, one-line errors, migrate, report without a server."""

from __future__ import annotations

import json
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


def test_a_default_table_does_not_ask_the_counts_it_does_not_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """slow-pages' default table shows no distinct count, so it asks counts=false (their
    time, bench/RESULTS.md); --wide and --json show them and ask them, as --counts does."""
    from cli import commands
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "data" / "chdb")
    migrate(store, 30)
    seed(store, "IN", "MH", 4300, 60)
    store.close()
    asked: list[bool] = []
    answer = commands._from_store
    monkeypatch.setattr(commands, "_from_store",
                        lambda settings, spec, values: asked.append(values["counts"])
                        or answer(settings, spec, values))
    data = ["--data-dir", str(tmp_path / "data")]
    for extra in ([], ["--wide"], ["--counts", "true"]):
        assert main(["report", "slow-pages", *data, *extra]) == 0
    capsys.readouterr()  # the tables
    assert main(["report", "slow-pages", *data, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert asked == [False, True, True, True]
    assert isinstance(row["pageviews"], int) and row["samples"] == 60


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


@pytest.mark.parametrize(("given", "reached"), [
    ("127.0.0.1:9", "http://127.0.0.1:9"), ("localhost:9", "http://localhost:9"),
    ("http://127.0.0.1:9/", "http://127.0.0.1:9/")])
def test_server_accepts_host_port_and_urls(tmp_path: Path, given: str, reached: str) -> None:
    result = rum("report", "slow-regions", "--server", given, env={"RUM_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"rum: error: cannot reach {reached}: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("given", ["ftp://x", "http://", "http://x:99999", "a b:1"])
def test_server_that_is_no_url_is_one_line(tmp_path: Path, given: str) -> None:
    result = rum("report", "slow-regions", "--server", given, env={"RUM_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr == f"rum: error: --server: expected host:port or an http(s):// URL, got {given!r}\n"


def test_data_dir_in_use_is_one_line_for_report_migrate_and_serve(tmp_path: Path) -> None:
    from pipeline.chdb_store import ChdbStore

    held = ChdbStore(tmp_path / "chdb")  # this process holds the data dir, as a running `rum serve` does
    try:
        env = {"RUM_DATA_DIR": str(tmp_path), "RUM_PORT": "9"}
        for args in (["report", "slow-regions"], ["migrate"], ["serve"]):
            result = rum(*args, env=env)
            assert result.returncode == 2, args
            assert result.stderr.startswith(f"rum: error: the data dir {tmp_path} is in use"), result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    finally:
        held.close()
    assert rum("migrate", env={"RUM_DATA_DIR": str(tmp_path)}).returncode == 0, "the lock goes with the store"


def test_unknown_site_is_named_with_the_sites_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "chdb")
    migrate(store, 30)
    seed(store, "IN", "MH", 4300, 40, site="shop-eu")
    seed(store, "FR", "IDF", 900, 40, site="blog")
    store.close()
    code = main(["report", "slow-regions", "--data-dir", str(tmp_path), "--site", "no-such-site"])
    assert code == 2
    assert capsys.readouterr().err == (
        "rum: error: unknown site 'no-such-site': no event stored for it; sites seen: blog, shop-eu\n")
    # a known site with nothing to flag in the window is an answer, not an error
    assert main(["report", "slow-regions", "--data-dir", str(tmp_path), "--site", "blog",
                 "--min-samples", "1000"]) == 0
