"""A real Prefect server for tests that need one (CLI subprocesses, deployments, workers)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PREFECT = str(Path(sys.executable).with_name("prefect"))
SERVER_STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM a process started with ``start_new_session=True`` and its children; SIGKILL if stuck."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def running_prefect_server(home: Path):
    """A real ``prefect server start`` on a free 127.0.0.1 port with its own home and database;
    yields the environment that points clients (CLI subprocesses, workers) at it."""
    import httpx

    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("FUNDWATCH_DEBUG", None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    with open(home / "server.log", "w") as log:
        proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_STARTUP_SECONDS
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"prefect server exited early with {proc.returncode}: see {home / 'server.log'}")
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"prefect server did not become healthy in {SERVER_STARTUP_SECONDS} s")
                time.sleep(1)
            yield {**env, "PREFECT_API_URL": url}
        finally:
            stop_process_group(proc)


