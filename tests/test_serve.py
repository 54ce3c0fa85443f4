"""`roadmap serve` as a supervisor runs it: stopped by SIGTERM or SIGINT, it leaves nothing
running and the port free."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.processes import RedisServer, wait_for
from tests.smtp import free_port

ROADMAP = str(Path(sys.executable).with_name("roadmap"))


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid`."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            text = (task / "children").read_text() if (task / "children").exists() else ""
            for child in map(int, text.split()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ROADMAP_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "serve-test",
        "SWEEP_INTERVAL_SECONDS": "3600",
    }
    subprocess.run([ROADMAP, "db", "upgrade"], env=values, check=True, capture_output=True)
    return values


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("with_redis", [False, True], ids=["embedded", "celery"])
def test_serve_stops_its_children(env, tmp_path: Path, signum: int, with_redis: bool) -> None:
    redis_server = RedisServer(tmp_path).start() if with_redis else None
    env = {
        **env,
        "REDIS_URL": redis_server.url if redis_server else f"redis://127.0.0.1:{free_port()}/0",
    }
    port = free_port()
    serve = subprocess.Popen(
        [ROADMAP, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), 60, "the UI to answer")
        expected = 2 if with_redis else 1  # gunicorn, and the Celery worker with beat
        wait_for(lambda: len(_children(serve.pid)) >= expected, 30, "the children to start")
        children = _children(serve.pid)
        serve.send_signal(signum)
        assert serve.wait(60) == 0
        wait_for(lambda: not any(_alive(pid) for pid in children), 30, "the children to end")
        assert _port_free(port)
    finally:
        for pid in _children(serve.pid):
            os.kill(pid, signal.SIGKILL)
        if serve.poll() is None:
            serve.kill()
        serve.wait(10)
        if redis_server is not None:
            redis_server.kill()
