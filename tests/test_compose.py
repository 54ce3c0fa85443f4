"""docker-compose.yml: one image in every role, healthchecks, order, environment only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_ROLES = ("migrate", "web", "worker", "beat")


def _command(name: str) -> str:
    command = SERVICES[name]["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_services_and_one_image() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert {SERVICES[name]["image"] for name in APP_ROLES} == {"roadmap-engine:latest"}
    assert all(SERVICES[name]["build"] == "." for name in APP_ROLES)
    assert (ROOT / "Dockerfile").is_file()


def test_commands() -> None:
    assert _command("migrate") == "roadmap db upgrade"
    assert _command("web").startswith("gunicorn ") and _command("web").endswith("web.wsgi:app")
    assert _command("worker").startswith("celery -A worker.celery_app worker")
    assert _command("beat").startswith("celery -A worker.celery_app beat")
    redis = _command("redis")
    for setting in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
        assert setting in redis


def test_every_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    worker_check = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "celery -A worker.celery_app inspect ping" in worker_check
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_startup_order() -> None:
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}


def test_configuration_only_through_the_environment() -> None:
    for name in APP_ROLES:
        env = SERVICES[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://roadmap:${POSTGRES_PASSWORD")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
        assert "configs" not in SERVICES[name] and "secrets" not in SERVICES[name]
    assert int(SERVICES["worker"]["environment"]["CELERY_TASK_TIME_LIMIT"]) < int(
        SERVICES["worker"]["environment"]["CELERY_VISIBILITY_TIMEOUT"]
    )


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the Compose specification's published schema (vendored)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_file_follows_the_compose_specification() -> None:
    done = _schema_check(ROOT / "docker-compose.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_catches_a_wrong_file(tmp_path: Path) -> None:
    broken = dict(COMPOSE)
    broken["services"] = {**SERVICES, "web": {**SERVICES["web"], "depends_on": "migrate"}}
    broken["servcies"] = {}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    done = _schema_check(path)
    assert done.returncode != 0 and "servcies" in done.stdout


def test_docker_compose_config_accepts_it_where_the_client_can_check() -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip("no docker compose plugin here; the schema check above stands for it")
    done = subprocess.run(
        [docker, "compose", "config", "--quiet"],
        cwd=ROOT,
        env={"POSTGRES_PASSWORD": "x", "SECRET_KEY": "x", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
