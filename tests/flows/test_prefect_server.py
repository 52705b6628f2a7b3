"""Real Prefect server: deploy the real prefect.yaml, run a deployment through a process
worker on a small synthetic city, and check that the run completed and wrote leads."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError("prefect server did not become healthy")


@pytest.fixture()
def prefect_server(tmp_path):
    port = _free_port()
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, proc)
        yield {**env, "PREFECT_API_URL": url}
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _run(args, env, cwd=REPO, timeout=180):
    res = subprocess.run([PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"prefect {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_deploy_all_and_run_a_deployment_on_a_real_server(prefect_server, small_city_dir, tmp_path):
    out = tmp_path / "runs"
    env = {
        **prefect_server,
        "FUNDWATCH_HOME": str(REPO),
        "FUNDWATCH_INPUT_DIR": str(small_city_dir / "input"),
        "FUNDWATCH_OUT_DIR": str(out),
        "FUNDWATCH_STORE_URL": f"sqlite:///{tmp_path / 'leads.sqlite'}",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    _run(["work-pool", "create", "fundwatch-process", "--type", "process"], env)
    deployed = _run(["--no-prompt", "deploy", "--all"], env)
    for name in ("nightly-subsidy", "monthly-medical", "full-scan"):
        assert name in deployed
    started = _run(["deployment", "run", "fundwatch-scan/nightly-subsidy"], env)
    assert "Created flow run" in started
    match = re.search(r"UUID:\s*([0-9a-f-]{36})", started)
    assert match, started
    run_id = match.group(1)

    from prefect.client.orchestration import SyncPrefectClient

    worker_log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "fundwatch-process"],
                              env=env, cwd=tmp_path, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with SyncPrefectClient(prefect_server["PREFECT_API_URL"]) as client:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_final():
                    break
                time.sleep(2)
    finally:
        _stop(worker)
        worker_log.close()
    assert run.state is not None and run.state.is_completed(), (
        f"flow run ended {run.state}; worker log:\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
    )
    assert run.name.startswith("scan-subsidy")
    leads = out / "subsidy" / "leads.parquet"
    assert leads.exists()
    import polars as pl

    assert pl.read_parquet(leads).height > 0
    shutil.rmtree(out, ignore_errors=True)
