"""Real Prefect server: deploy the real prefect.yaml, run a deployment through a process
worker on a small synthetic city, and check that the run completed and wrote leads."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect_helpers import PREFECT, running_prefect_server, stop_process_group

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def prefect_server(tmp_path):
    """A server of this test's own: deploying writes deployments and work pools into it."""
    with running_prefect_server(tmp_path / "prefect-home") as env:
        yield env


def _run(args, env, cwd=REPO, timeout=180):
    res = subprocess.run([PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"prefect {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_deploy_all_and_run_a_deployment_on_a_real_server(prefect_server, tiny_city_dir, tmp_path):
    out = tmp_path / "runs"
    env = {
        **prefect_server,
        "FUNDWATCH_HOME": str(REPO),
        "FUNDWATCH_INPUT_DIR": str(tiny_city_dir / "input"),
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
        stop_process_group(worker)
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
