"""Crash safety and concurrency of the lead store.

A scan failing at any step (fault injection: ``[runtime] fail_at_step``) or killed with SIGKILL
while it waits to write leaves the store without a partial run and with every earlier
disposition; two scans on one SQLite store both complete or the second fails fast with a
one-line StoreBusyError — never a corrupted store."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from hardening_helpers import assert_one_line_error

pytestmark = pytest.mark.slow

STEPS = ("load", "validate", "detect", "rank", "store", "report")


def _state(db: Path) -> tuple[int, int, dict, str]:
    con = sqlite3.connect(db)
    try:
        runs = con.execute("select count(*) from runs").fetchone()[0]
        leads = con.execute("select count(*) from leads").fetchone()[0]
        disp = {r[0]: r[1] for r in con.execute("select lead_id, status from lead_cases where status != 'new'")}
        ok = con.execute("pragma integrity_check").fetchone()[0]
        orphans = con.execute("select count(*) from leads where run_id not in (select run_id from runs)").fetchone()[0]
        assert orphans == 0
    finally:
        con.close()
    return runs, leads, disp, ok


@pytest.fixture(scope="module")
def reviewed_store(cli, default_run, tmp_path_factory):
    """A copy of the default run's store with one confirmed lead."""
    out, _ = default_run
    root = tmp_path_factory.mktemp("crash")
    db = root / "store.sqlite"
    src = sqlite3.connect(out / "leads.sqlite")
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    lead = pl.read_parquet(out / "leads.parquet")["lead_id"][0]
    res = cli("review", lead, "--status", "confirmed", "--note", "核实属实", "--store", f"sqlite:///{db}")
    assert res.returncode == 0, res.stderr
    return root, db, lead


@pytest.mark.parametrize("step", STEPS)
def test_fault_at_step_leaves_store_whole(step, cli, base_city, reviewed_store, tmp_path):
    root, db, lead = reviewed_store
    before = _state(db)
    settings = tmp_path / "fault.toml"
    settings.write_text(f'[runtime]\nfail_at_step = "{step}"\n', encoding="utf-8")
    res = cli("scan", base_city.input, "--out", tmp_path / "out", "--store", f"sqlite:///{db}", "--settings", settings)
    assert res.returncode in (1, 2), res.stderr[-2000:]
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert step in lines[0]
    after = _state(db)
    assert after == before
    assert after[2][lead] == "confirmed"
    assert after[3] == "ok"


def test_rerun_after_faults_completes_and_keeps_disposition(cli, base_city, reviewed_store, tmp_path):
    root, db, lead = reviewed_store
    runs, _, _, _ = _state(db)
    res = cli("scan", base_city.input, "--out", tmp_path / "out", "--store", f"sqlite:///{db}")
    assert res.returncode == 0, res.stderr[-2000:]
    after = _state(db)
    assert after[0] == runs + 1
    assert after[2][lead] == "confirmed"


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, isolation_level=None, timeout=30)
    con.execute("BEGIN IMMEDIATE")
    return con


def test_sigkill_while_storing_leaves_no_partial_run(base_city, reviewed_store, tmp_path):
    """The scan is made to wait inside its store step (we hold the write lock), then killed."""
    root, db, lead = reviewed_store
    before = _state(db)
    out = tmp_path / "out"
    lock = _hold_write_lock(db)
    proc = subprocess.Popen([sys.executable, "-m", "fundwatch", "scan", str(base_city.input), "--out", str(out),
                             "--store", f"sqlite:///{db}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while not (out / "leads.xlsx").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the report is written just before the store step
        assert proc.poll() is None, "the scan ended before it could be killed while storing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        lock.rollback() if lock.in_transaction else None
        lock.close()
    after = _state(db)
    assert after == before
    assert after[3] == "ok"
    assert not (out / "run.json").exists()


def test_scan_fails_fast_when_store_is_busy(cli, base_city, reviewed_store, tmp_path):
    root, db, lead = reviewed_store
    before = _state(db)
    settings = tmp_path / "busy.toml"
    settings.write_text("[store]\nbusy_timeout_seconds = 1\n", encoding="utf-8")
    lock = _hold_write_lock(db)
    try:
        res = cli("scan", base_city.input, "--out", tmp_path / "out", "--store", f"sqlite:///{db}", "--settings", settings)
    finally:
        lock.rollback()
        lock.close()
    assert_one_line_error(res, "busy")
    assert _state(db) == before


def test_two_scans_on_one_store_at_once(base_city, reviewed_store, tmp_path):
    root, db, lead = reviewed_store
    shared = tmp_path / "shared.sqlite"
    shutil.copy(db, shared)
    runs0 = _state(shared)[0]
    procs = [
        subprocess.Popen([sys.executable, "-m", "fundwatch", "scan", str(base_city.input), "--out", str(tmp_path / f"o{i}"),
                          "--store", f"sqlite:///{shared}"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    results = [(p.wait(timeout=900), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    ok = [r for r in results if r[0] == 0]
    for code, err in results:
        if code != 0:
            assert code == 2 and "busy" in err.lower() and len(err.strip().splitlines()) == 1, err[-2000:]
    assert ok, results
    runs, _, disp, integrity = _state(shared)
    assert integrity == "ok"
    assert runs == runs0 + len(ok)
    assert disp[lead] == "confirmed"
