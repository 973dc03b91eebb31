"""The production stack files: compose parses, settings exist, images pinned, health gated.

No Docker engine runs here, so these are static checks; the commands the images run
are checked against the real `rum` CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
# RUM_CONFIG names the settings file; it is read by load_settings, not a field
SETTING_NAMES = {f"RUM_{name.upper()}" for name in Settings.model_fields} | {"RUM_CONFIG"}
_RUM_VAR = re.compile(r"\bRUM_[A-Z0-9_]+\b")


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def rum_command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else list(command or [])


def test_compose_has_the_stack() -> None:
    assert {"kafka", "clickhouse", "collector", "pipeline", "alerts", "grafana",
            "prometheus"} <= set(SERVICES)
    assert {"kafka-data", "clickhouse-data", "grafana-data"} <= set(COMPOSE["volumes"])
    for name, mount in [("kafka", "kafka-data:"), ("clickhouse", "clickhouse-data:"),
                        ("grafana", "grafana-data:")]:
        assert any(str(v).startswith(mount) for v in SERVICES[name]["volumes"]), name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_rum_variable_is_a_setting(name: str) -> None:
    unknown = {k for k in environment(SERVICES[name]) if k.startswith("RUM_")} - SETTING_NAMES
    assert not unknown, f"{name}: not settings: {sorted(unknown)}"


def test_every_rum_variable_referenced_anywhere_is_a_setting() -> None:
    for path in ("docker-compose.yml", ".env.example", "Dockerfile"):
        unknown = set(_RUM_VAR.findall((ROOT / path).read_text())) - SETTING_NAMES
        assert not unknown, f"{path}: not settings: {sorted(unknown)}"


def test_env_example_lists_every_secret_compose_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    listed = set(re.findall(r"^#?\s*(\w+)=", (ROOT / ".env.example").read_text(), re.M))
    assert required and required <= listed


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str) -> None:
    image = SERVICES[name].get("image")
    assert image, f"{name}: no image"
    repo, _, tag = image.rpartition(":")
    assert repo and "/" not in tag, f"{name}: {image} has no tag"
    assert tag and tag != "latest" and not tag.startswith("${"), f"{name}: {image} is not pinned"


def test_grafana_installs_a_pinned_clickhouse_plugin() -> None:
    plugins = environment(SERVICES["grafana"])["GF_INSTALL_PLUGINS"]
    assert re.fullmatch(r"grafana-clickhouse-datasource \d+\.\d+\.\d+", plugins)


def test_kafka_is_kraft_without_auto_created_topics() -> None:
    env = environment(SERVICES["kafka"])
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_dependency_is_healthy_first() -> None:
    targets: set[str] = set()
    for name, service in SERVICES.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends.items():
            assert spec == {"condition": "service_healthy"}, f"{name} -> {target}"
            targets.add(target)
    for target in targets:
        check = SERVICES[target].get("healthcheck")
        assert check and check.get("test"), f"{target} is depended on but has no healthcheck"


def dockerfile_instruction(keyword: str) -> list[str]:
    lines = [ln for ln in (ROOT / "Dockerfile").read_text().splitlines()
             if ln.startswith(keyword + " ")]
    assert len(lines) == 1, f"one {keyword}"
    parsed: list[str] = json.loads(lines[0][len(keyword) + 1:])
    return parsed


def test_dockerfile_is_multistage_and_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms[0].startswith("node:") and froms[-1] == "python:3.11-slim"
    assert all(":" in f and not f.endswith(":latest") for f in froms)
    assert "npm ci" in text and "npm run build" in text
    assert re.search(r"^USER (?!root|0\b)\w+", text, re.M)
    assert dockerfile_instruction("ENTRYPOINT") == ["rum"]


def rum_commands() -> list[list[str]]:
    """The `rum` arguments each image-built service runs (and the image's default)."""
    commands = [dockerfile_instruction("CMD")]
    commands += [rum_command(s) for s in SERVICES.values() if "build" in s]
    return sorted({tuple(c): c for c in commands}.values())


@pytest.mark.parametrize("args", rum_commands(), ids=" ".join)
def test_commands_are_real_cli_commands(args: list[str]) -> None:
    rum = shutil.which("rum", path=str(Path(sys.executable).parent))
    assert rum, "the rum console script is installed in the venv"
    done = subprocess.run([rum, *args, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]


def test_prometheus_scrapes_the_services_admin_listeners() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service in ("collector", "pipeline"):
        (sd,) = jobs[f"rum-{service}"]["dns_sd_configs"]
        assert sd["names"] == [service]
        assert str(sd["port"]) == environment(SERVICES[service])["RUM_ADMIN_PORT"]


def test_grafana_provisioning_matches_the_dashboards() -> None:
    sources = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/datasources.yaml").read_text())["datasources"]
    by_uid = {s["uid"]: s["type"] for s in sources}
    assert by_uid == {"clickhouse": "grafana-clickhouse-datasource", "prometheus": "prometheus"}
    (provider,) = yaml.safe_load(
        (ROOT / "grafana/provisioning/dashboards/rum.yaml").read_text())["providers"]
    mounts = [str(v) for v in SERVICES["grafana"]["volumes"]]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def _compose_config(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose missing: `make system-deps` installs Debian's package"
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLICKHOUSE_PASSWORD", "CLICKHOUSE_GRAFANA_PASSWORD", "GRAFANA_ADMIN_PASSWORD")}
    return subprocess.run([binary, "-f", str(ROOT / "docker-compose.yml"), "--project-directory",
                           str(ROOT), "config"], capture_output=True, text=True, timeout=60,
                          env={**env, **extra_env}, cwd=ROOT)


def test_a_real_compose_parser_accepts_the_stack_with_its_secrets_set() -> None:
    secrets = {"CLICKHOUSE_PASSWORD": "pw1", "CLICKHOUSE_GRAFANA_PASSWORD": "pw2",
               "GRAFANA_ADMIN_PASSWORD": "pw3"}
    done = _compose_config(secrets)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == set(SERVICES)
    for name, service in resolved["services"].items():
        assert "healthcheck" in service, f"{name}: every service has a healthcheck"
        assert "build" in service or re.search(r":[\w.-]+$", service["image"]), name


def test_a_real_compose_parser_refuses_to_start_without_the_secrets() -> None:
    done = _compose_config({})
    assert done.returncode != 0
    assert "set CLICKHOUSE_PASSWORD in .env" in done.stderr


# the ClickHouse plugin's provisioning fields (grafana-clickhouse-datasource 4.x, "Configure
# the ClickHouse data source"): the required three, and the optional ones used here or common
CLICKHOUSE_REQUIRED = {"host", "port", "protocol"}
CLICKHOUSE_FIELDS = CLICKHOUSE_REQUIRED | {
    "secure", "username", "path", "tlsSkipVerify", "tlsAuth", "tlsAuthWithCACert", "defaultDatabase",
    "defaultTable", "dialTimeout", "queryTimeout", "validateSql", "httpHeaders", "logs", "traces"}


def test_clickhouse_datasource_uses_the_plugins_provisioning_fields() -> None:
    sources = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/datasources.yaml").read_text())["datasources"]
    clickhouse = next(s for s in sources if s["type"] == "grafana-clickhouse-datasource")
    fields = clickhouse["jsonData"]
    assert CLICKHOUSE_REQUIRED <= set(fields) <= CLICKHOUSE_FIELDS, set(fields) - CLICKHOUSE_FIELDS
    assert fields["protocol"] in ("native", "http")
    assert (fields["protocol"], fields["port"]) in {("native", 9000), ("http", 8123)}, "port of the protocol"
    assert set(clickhouse["secureJsonData"]) == {"password"}
    assert clickhouse["secureJsonData"]["password"].startswith("$"), "from the environment, not the file"


def test_the_public_proxy_routes_every_intake_and_no_read_path() -> None:
    """deploy/nginx/nginx.conf forwards the public side to the collectors: each intake route
    the app serves (the v1 beacon and the agents' receivers among them), and nothing of the
    read side."""
    from collector.app import create_app
    from collector.settings import load_settings

    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    found = re.search(r"location ~ (\^/\(.*\)\$) \{", conf)
    assert found, "no public location in nginx.conf"
    public = re.compile(found.group(1))
    app = create_app(load_settings(None), role="collector")
    intake = {r.path for r in app.router.routes if r.path in ("/v1/beacon", "/collect", "/v1/boomerang")}
    assert intake == {"/v1/beacon", "/collect", "/v1/boomerang"}
    for path in (*intake, "/v1/snippet", "/rum.js", "/rum.attribution.js", "/healthz"):
        assert public.match(path), path
    for path in ("/", "/metrics", "/v1/query/slow-regions", "/v1/alerts", "/v1/openapi.json"):
        assert not public.match(path), path
