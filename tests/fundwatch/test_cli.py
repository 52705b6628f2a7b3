"""The command line: exit codes, one-line errors without tracebacks, help with examples,
and the README's demo command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import polars as pl
import pytest

from cli_helpers import run_cli as fundwatch

VERBS = ("synth", "scan", "validate", "demo", "review", "evaluate")


def fundwatch_process(*args, cwd=None, timeout=600, env: dict | None = None):
    """The real command in a child process (smoke tests: start-up, exit, nothing in-process)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    env.pop("FUNDWATCH_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "fundwatch", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_examples(verb):
    res = fundwatch(verb, "--help")
    assert res.returncode == 0
    assert "examples:" in res.stdout


def test_no_command_prints_help_and_exits_2():
    assert fundwatch().returncode == 2


def test_unknown_option_is_a_usage_error():
    assert_one_line_error(fundwatch("scan", "x", "--out", "y", "--bogus"), "--bogus")


def test_missing_input_directory(tmp_path):
    assert_one_line_error(fundwatch("scan", tmp_path / "nope", "--out", tmp_path / "o"), "nope")


def test_bad_period(tmp_path):
    assert_one_line_error(fundwatch("scan", tmp_path, "--out", tmp_path / "o", "--period-start", "2025-13"), "2025-13")


def test_garbage_dataset_names_the_file(tiny_city_dir, tmp_path):
    import shutil

    inp = tmp_path / "input"
    shutil.copytree(tiny_city_dir / "input", inp)
    for p in list(inp.iterdir()):
        if p.name.startswith("claims"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    (inp / "claims.csv").write_bytes(bytes(range(256)) * 40)
    res = fundwatch("scan", inp, "--out", tmp_path / "o", "--domain", "medical")
    assert_one_line_error(res, "claims.csv")


def test_review_needs_a_store(tmp_path):
    assert_one_line_error(fundwatch("review", "FW-1", "--status", "confirmed"), "--out")


def test_evaluate_missing_run(tmp_path):
    assert_one_line_error(fundwatch("evaluate", tmp_path, "--labels", tmp_path / "l.parquet"), "leads.parquet")


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    # a real process, with Prefect unreachable: the default scan must not need it
    res = fundwatch_process("demo", "--out", tmp_path / "demo", "--persons", "2500",
                            env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    report = tmp_path / "demo" / "run" / "report.html"
    assert str(report) in res.stdout
    assert report.exists()
    run = json.loads((tmp_path / "demo" / "run" / "run.json").read_text(encoding="utf-8"))
    assert run["rows"]["quarantined"] > 0  # the demo city is written dirty on purpose
    assert run["rows"]["read"] == run["rows"]["accepted"] + run["rows"]["quarantined"]
    assert pl.read_parquet(tmp_path / "demo" / "run" / "leads.parquet").height > 0


@pytest.mark.slow
def test_scan_review_and_rescan_remember_the_decision(tiny_city_dir, tmp_path):
    out = tmp_path / "run"
    assert fundwatch("scan", tiny_city_dir / "input", "--out", out, "--domain", "subsidy").returncode == 0
    leads = pl.read_parquet(out / "leads.parquet")
    first, second = leads["lead_id"][0], leads["lead_id"][1]
    assert fundwatch("review", first, "--status", "confirmed", "--note", "核实属实", "--out", out).returncode == 0
    assert fundwatch("review", second, "--status", "dismissed", "--note", "guardian", "--out", out).returncode == 0
    assert_one_line_error(fundwatch("review", "FW-does-not-exist", "--status", "confirmed", "--out", out), "FW-does-not-exist")
    res = fundwatch("scan", tiny_city_dir / "input", "--out", out, "--domain", "subsidy")
    assert res.returncode == 0, res.stderr
    again = pl.read_parquet(out / "leads.parquet")
    assert first in again["lead_id"].to_list()
    # dismissed and unchanged: still listed, under its status, in the workbook too (not silently dropped)
    assert second in again["lead_id"].to_list()
    import openpyxl

    ws = openpyxl.load_workbook(out / "leads.xlsx", read_only=True)["线索"]
    rows = list(ws.iter_rows(values_only=True))
    i_id, i_status = rows[0].index("线索编号"), rows[0].index("当前状态")
    assert {r[i_id]: r[i_status] for r in rows[1:]}[second] == "已排除"


# ----------------------------------------------------------------------------- Chinese
def test_help_in_chinese_with_lang_or_locale():
    zh = fundwatch("--lang", "zh", "--help")
    assert zh.returncode == 0 and "用法" in zh.stdout and "惠民惠农" in zh.stdout and "示例" in zh.stdout
    by_locale = fundwatch("scan", "--help", env={"LANG": "zh_CN.UTF-8", "LC_ALL": None, "LC_MESSAGES": None})
    assert "位置参数" in by_locale.stdout and "检测领域" in by_locale.stdout and "显示本帮助并退出" in by_locale.stdout
    en = fundwatch("scan", "--help", env={"LANG": "en_US.UTF-8", "LC_ALL": None, "LC_MESSAGES": None})
    assert "usage:" in en.stdout and "用法" not in en.stdout


@pytest.mark.parametrize("verb", VERBS)
def test_every_chinese_help_line_is_chinese(verb):
    """No English sentence left in the Chinese help (codes, paths and option names aside)."""
    import re

    out = fundwatch(verb, "--help", "--lang", "zh").stdout
    body = out.split("示例")[0]
    for line in body.splitlines():
        words = re.findall(r"[A-Za-z]{4,}(?: [a-z]{3,}){2,}", line)  # three or more English words in a row
        assert not words, line


def test_usage_errors_in_chinese_one_line():
    res = fundwatch("review", "FW-1", "--status", "确认", "--out", "x", "--lang", "zh")
    assert_one_line_error(res, "已确认/已排除/核查中", "确认")


def test_review_accepts_chinese_status(tmp_path):
    from fundwatch import cli

    recorded = {}

    def fake_review(store, lead, status, note):
        recorded.update(store=store, lead=lead, status=status, note=note)

    import fundwatch.dispositions as d

    saved = d.review
    d.review = fake_review
    try:
        res = fundwatch("review", "FW-0001", "--status", "已确认", "--note", "核实属实", "--out", tmp_path, "--lang", "zh")
    finally:
        d.review = saved
    assert res.returncode == 0, res.stderr
    assert recorded["status"] == "confirmed" and recorded["lead"] == "FW-0001"
    assert "已确认" in res.stdout
    assert cli.EXIT_OK == 0
