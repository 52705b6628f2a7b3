"""Benchmark: the scan under load — the L city within the memory target, a 3x L city never killed.

Usage::

    .venv/bin/python bench/load.py            # L = 1M persons (cached city), then 3x L
    .venv/bin/python bench/load.py --seed 2

Two cases, each the real ``fundwatch scan`` CLI in a child process (peak RSS from ``os.wait4``):

1. **L**: the L-tier city of ``bench/speed.py`` (1M persons, ~10M claims, ~35M items; made
   once and cached). Passes when the scan exits 0 within ``TARGET_RSS_BYTES`` (12 GB).
2. **3x L**: the same city three times over, each dataset a folder holding three hard links
   to its file (the contract's folder-per-dataset form; 3x the rows, no extra disk). On a
   machine that cannot hold it the scan must refuse up front — exit 2 and one line on stderr
   naming the input and what to do — and where it fits it must complete (exit 0; the copied
   keys are quarantined as duplicates). Fails on anything else: a kill by the kernel
   (negative exit code), a Python traceback, a multi-line error, or any other exit code.

Prints a table and writes ``bench/results/load-<seed>.json``; exits 1 when a case fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    GB,
    PYTHON,
    REPO,
    RESULTS,
    city_dir,
    ensure_city,
    machine_info,
    run_child,
    table,
    write_json,
)

L_PERSONS = 1_000_000
TARGET_RSS_BYTES = 12 * GB
COPIES = 3
ENV = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"}


def replicate(input_dir: Path, out: Path, copies: int) -> Path:
    """``out/<dataset>/copy-<i>.<ext>``: ``copies`` hard links (or copies) of every dataset file."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for f in sorted(input_dir.iterdir()):
        if not f.is_file():
            continue
        folder = out / f.stem
        folder.mkdir()
        for i in range(copies):
            target = folder / f"copy-{i}{f.suffix}"
            try:
                os.link(f, target)
            except OSError:  # another file system: a real copy
                shutil.copy2(f, target)
    return out


def scan(case: str, input_dir: Path, out_dir: Path) -> dict:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    exe = str(Path(PYTHON).with_name("fundwatch"))
    print(f"  {case}: fundwatch scan {input_dir.relative_to(REPO)} ...", flush=True)
    r = run_child([exe, "scan", str(input_dir), "--out", str(out_dir)], env=ENV, cwd=REPO)
    err_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    return {
        "case": case,
        "returncode": r.returncode,
        "seconds": round(r.seconds, 1),
        "peak_rss_gb": round(r.max_rss / GB, 2),
        "stderr_lines": len(err_lines),
        "traceback": "Traceback" in r.stderr,
        "message": err_lines[-1][:300] if err_lines else "",
    }


def verdict_l(res: dict) -> str:
    if res["returncode"] != 0:
        return f"FAILED: exit {res['returncode']}"
    if res["peak_rss_gb"] * GB > TARGET_RSS_BYTES:
        return f"MISSED: peak {res['peak_rss_gb']} GB > {TARGET_RSS_BYTES / GB:.0f} GB"
    return f"met: peak {res['peak_rss_gb']} GB <= {TARGET_RSS_BYTES / GB:.0f} GB"


def verdict_big(res: dict) -> str:
    rc = res["returncode"]
    if rc < 0:
        return f"FAILED: killed by signal {-rc} (out of memory without a word)"
    if res["traceback"]:
        return "FAILED: a Python traceback reached the user"
    if rc == 0:
        return "met: completed"
    if rc == 2 and res["stderr_lines"] == 1:
        return "met: refused up front with one clear line"
    return f"FAILED: exit {rc} with {res['stderr_lines']} stderr line(s)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    name = f"L-{args.seed}"
    meta = ensure_city(name, L_PERSONS, args.seed)
    city = city_dir(name) / "input"
    runs = RESULTS / "runs"
    print(f"=== load: L city {name} ({meta['rows']['claims']:,} claims, {meta['rows']['claim_items']:,} items)", flush=True)

    l_res = scan("L", city, runs / f"load-{name}")
    l_res["verdict"] = verdict_l(l_res)
    big_dir = replicate(city, RESULTS / "cities" / f"{name}-x{COPIES}", COPIES)
    big_res = scan(f"{COPIES}x L", big_dir, runs / f"load-{name}-x{COPIES}")
    big_res["verdict"] = verdict_big(big_res)
    shutil.rmtree(runs / f"load-{name}-x{COPIES}", ignore_errors=True)

    rows = [l_res, big_res]
    print()
    print(table(rows, ["case", "returncode", "seconds", "peak_rss_gb", "verdict", "message"]))
    path = write_json(RESULTS / f"load-{args.seed}.json", {"machine": machine_info(), "cases": rows})
    print(f"\nwrote {path}")
    return 0 if all(not r["verdict"].startswith(("FAILED", "MISSED")) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
