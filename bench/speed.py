"""Benchmark: wall time and peak memory of every scan step, end to end, and the floor.

Usage::

    .venv/bin/python bench/speed.py --tiers S,M            # S = 10k persons, M = 100k (~1M claims)
    .venv/bin/python bench/speed.py --tiers L              # 1M persons (~10M claims, ~38M items)
    .venv/bin/python bench/speed.py --tiers S --profile    # also pyinstrument every step (bench-only tool)

Per tier, in this order and each in its own child process (so one measurement's memory does
not inflate the next):

1. **generate** the synthetic city once (cached in ``bench/results/cities/<tier>-<seed>/``;
   its generation time and peak RSS are measured when it is made and kept in ``meta.json``);
2. **floor**: one polars pass that reads every input file once and computes one group-by per
   dataset (by ``person_id`` where the dataset has one, else by its first column; every other
   column counted, so every column is read) — the least any scan of these files must cost;
3. **steps**: one scan through ``fundwatch.pipeline.run_scan`` with a measuring ``submit``
   (the pipeline's own order, not restated here), each step timed, with this process's peak
   RSS sampled by a background thread (``bench/_common.PeakRSS``); every detector run summed by
   family (subsidy rules, medical rules, peer models, collusion);
4. **end to end**: the real CLI ``fundwatch scan INPUT --out OUT`` in a child process (in
   process, no Prefect), wall time and its peak RSS from ``os.wait4`` (the figure
   ``/usr/bin/time -v`` reports), and its **overhead**: wall time minus the sum of the step
   timings in its run.json (target <= 1.5 s);
5. **baseline**, same run: ``fundwatch scan --prefect`` (the Prefect flow on a local ephemeral
   server), and the fixed cost of an empty Prefect flow in a fresh process.

Prints a table per tier and a summary with end-to-end / floor; writes
``bench/results/speed-<tiers>.json``. Targets: M end to end <= 60 s; L end to end <= 600 s
within 12 GB on 2 cores; end-to-end / floor <= 8.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    GB,
    PYTHON,
    REPO,
    RESULTS,
    PeakRSS,
    ensure_city,
    machine_info,
    ratio,
    run_child,
    table,
    write_json,
)

TIERS = {"S": 10_000, "M": 100_000, "L": 1_000_000}
TARGET_E2E_SECONDS = {"M": 60.0, "L": 600.0}
TARGET_RSS_BYTES = {"L": 12 * GB}
TARGET_FLOOR_RATIO = 8.0
#: Wall time of ``fundwatch scan`` beyond the sum of its steps' timings (issue 14).
TARGET_OVERHEAD_SECONDS = 1.5

#: The CLI starts Prefect's ephemeral API server; its default 20 s start-up timeout is too short
#: on a loaded machine (the scan then fails before loading anything), so the benchmark allows more.
E2E_ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}

FAMILIES = (  # module prefix -> family (first match wins)
    ("fundwatch.detectors.medical.collusion", "collusion"),
    ("fundwatch.detectors.subsidy", "subsidy rules"),
    ("fundwatch.detectors.medical", "medical rules"),
    ("fundwatch.detectors.peers", "peer models"),
)


def family_of(module: str) -> str:
    return next((f for prefix, f in FAMILIES if module.startswith(prefix)), module)


# ------------------------------------------------------------------------- floor (child)
def floor_pass(input_dir: Path) -> dict:
    """One polars pass: every input file read once, one group-by per dataset."""
    import polars as pl

    frames, names = [], []
    for path in sorted(input_dir.iterdir()):
        if path.suffix != ".parquet":
            continue
        lf = pl.scan_parquet(path)
        cols = lf.collect_schema().names()
        key = "person_id" if "person_id" in cols else cols[0]
        frames.append(lf.group_by(key).agg(pl.len().alias("_n"), pl.all().exclude(key).count()))
        names.append(path.stem)
    with PeakRSS() as m:
        out = pl.collect_all(frames)
    return {"seconds": m.seconds, "cpu_seconds": m.cpu_seconds, "peak_rss": m.peak, "groups": {n: f.height for n, f in zip(names, out)}}


# ------------------------------------------------------------------------- steps (child)
#: Label of each pipeline step in the tables (run_detector is labelled per detector).
STEP_LABELS = {
    "load_step": "load", "validate_step": "validate", "restrict_periods": "restrict", "compact_step": "compact",
    "rank_step": "rank", "disposition_step": "dispositions", "evidence_step": "evidence",
    "write_outputs_step": "write outputs", "report_step": "report", "store_step": "store",
}


class Steps:
    """A ``submit`` for :func:`fundwatch.pipeline.run_scan` that measures every step it runs:
    wall and CPU seconds and this process's peak RSS; optionally a pyinstrument profile."""

    def __init__(self, profile_dir: Path | None):
        self.rows: list[dict] = []
        self.profile_dir = profile_dir

    def submit(self, step, *args):
        from fundwatch.pipeline import inline_submit

        label = STEP_LABELS.get(step.__name__, step.__name__)
        if step.__name__ == "run_detector":
            name, (i, n) = args[1], args[3]
            label = f"detect {name}" + (f" {i}/{n}" if n > 1 else "")
        return inline_submit(self.run, label, step, *args)

    def run(self, step: str, fn, *args, **kwargs):
        prof = None
        if self.profile_dir is not None:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.005)
            prof.start()
        with PeakRSS() as m:
            result = fn(*args, **kwargs)
        if prof is not None:
            prof.stop()
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            safe = step.replace(" ", "_").replace("/", "_")
            (self.profile_dir / f"{safe}.txt").write_text(prof.output_text(unicode=False, color=False, show_all=False))
        row = {"step": step, "seconds": round(m.seconds, 3), "cpu_seconds": round(m.cpu_seconds, 3),
               "peak_rss": m.peak, "rss_start": m.start, "load_average": os.getloadavg()[0]}
        if step.startswith("detect "):
            row["findings"] = result.findings.height
        self.rows.append(row)
        print(f"  {step:<32}{m.seconds:8.2f} s  cpu {m.cpu_seconds:8.2f} s   peak {m.peak / GB:6.2f} GB", flush=True)
        return result


def _imports() -> None:
    """Import what the scan imports lazily (GX, scikit-learn, PyOD, networkx, ...) so that its
    cost shows as a step of its own rather than inside the first step that needs it."""
    import importlib

    for mod in ("polars", "fundwatch.detectors", "fundwatch.detectors.subsidy", "fundwatch.detectors.medical", "fundwatch.detectors.peers",
                "fundwatch.detectors.ensemble", "fundwatch.expectations", "fundwatch.reports", "fundwatch.store", "fundwatch.loading",
                "fundwatch.leads", "fundwatch.outputs"):
        importlib.import_module(mod)


def measure_steps(input_dir: Path, out_dir: Path, profile_dir: Path | None) -> dict:
    """One scan through :func:`fundwatch.pipeline.run_scan`, every step measured on its own.

    The order is the pipeline's own (no restatement here); detector runs are summed by family.
    """
    st = Steps(profile_dir)
    st.run("imports", _imports)
    from fundwatch import pipeline

    if out_dir.exists():
        shutil.rmtree(out_dir)
    result = pipeline.run_scan(pipeline.ScanRequest(str(input_dir), str(out_dir)), submit=st.submit)
    detectors_rows: list[dict] = []
    by_detector: dict[str, list[dict]] = {}
    for row in st.rows:
        if row["step"].startswith("detect "):
            by_detector.setdefault(row["step"].split()[1], []).append(row)
    for name, rows in by_detector.items():
        module = type(pipeline.detector_by_name(name)).__module__
        detectors_rows.append({"detector": name, "module": module, "family": family_of(module),
                               "seconds": sum(x["seconds"] for x in rows),
                               "cpu_seconds": sum(x["cpu_seconds"] for x in rows),
                               "peak_rss": max(x["peak_rss"] for x in rows),
                               "findings": sum(x["findings"] for x in rows)})
    families: dict[str, dict] = {}
    for d in detectors_rows:
        f = families.setdefault(d["family"], {"family": d["family"], "detectors": 0, "seconds": 0.0, "cpu_seconds": 0.0, "peak_rss": 0})
        f["detectors"] += 1
        f["seconds"] = round(f["seconds"] + d["seconds"], 3)
        f["cpu_seconds"] = round(f["cpu_seconds"] + d["cpu_seconds"], 3)
        f["peak_rss"] = max(f["peak_rss"], d["peak_rss"])
    return {
        "steps": [r for r in st.rows if not r["step"].startswith("detect ")],
        "detectors": detectors_rows,
        "families": list(families.values()),
        "findings": result.record.findings,
        "leads": result.leads.height,
        "rows": {name: d.rows_accepted for name, d in result.record.datasets.items()},
    }


def summarize_steps(steps: dict) -> list[dict]:
    """Step table: load, validate, detector families, rank ... store, and the sum."""
    by = {r["step"]: r for r in steps["steps"]}
    rows = [by[s] for s in ("imports", "load", "validate", "restrict", "compact") if s in by]
    for f in steps["families"]:
        rows.append({"step": f"detect: {f['family']} ({f['detectors']})", "seconds": f["seconds"],
                     "cpu_seconds": f["cpu_seconds"], "peak_rss": f["peak_rss"]})
    rows += [by[s] for s in ("rank", "dispositions", "evidence", "write outputs", "report", "store")]
    out = [{"step": r["step"], "seconds": round(r["seconds"], 2), "cpu_s": round(r["cpu_seconds"], 2),
            "peak_rss_gb": round(r["peak_rss"] / GB, 2)} for r in rows]
    out.append({"step": "sum of steps", "seconds": round(sum(r["seconds"] for r in rows), 2),
                "cpu_s": round(sum(r["cpu_seconds"] for r in rows), 2),
                "peak_rss_gb": round(max(r["peak_rss"] for r in rows) / GB, 2)})
    return out


# ------------------------------------------------------------------------- driver
def child_json(args: list[str], what: str) -> tuple[dict, object]:
    out = RESULTS / f".{what}-{os.getpid()}.json"
    r = run_child([PYTHON, str(Path(__file__).resolve()), *args, "--json", str(out)],
                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}):\n{r.stderr[-4000:]}")
    data = json.loads(out.read_text())
    out.unlink()
    return data, r


def end_to_end(input_dir: Path, out_dir: Path, *extra: str) -> dict:
    """The real ``fundwatch scan`` in a child process: wall, CPU, peak RSS, and its overhead —
    wall time minus the sum of the step timings it wrote to run.json (start-up, imports,
    orchestration, exit)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    exe = str(Path(PYTHON).with_name("fundwatch"))
    cmd = [exe, "scan", str(input_dir), "--out", str(out_dir), *extra]
    r = run_child(cmd, env=E2E_ENV, cwd=REPO)
    res = {"command": " ".join(["fundwatch", "scan", str(input_dir.relative_to(REPO)), "--out",
                                str(out_dir.relative_to(REPO)), *extra]),
           "returncode": r.returncode, "seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu_seconds, 2),
           "max_rss": r.max_rss, "load_average_after": os.getloadavg()}
    if r.returncode != 0:
        res["stderr"] = r.stderr[-3000:]
        print(f"  end to end FAILED ({r.returncode}): {r.stderr[-1500:]}", flush=True)
        return res
    run = json.loads((out_dir / "run.json").read_text())
    res["timings"] = run.get("timings", {})
    res["steps_sum_seconds"] = round(sum(res["timings"].values()), 2)
    res["overhead_seconds"] = round(r.seconds - res["steps_sum_seconds"], 2)
    res["leads"] = run.get("leads", {}).get("count")
    return res


EMPTY_FLOW = (
    "from prefect import flow, task\n"
    "@task\ndef t():\n    return 1\n"
    "@flow\ndef f():\n    return t()\n"
    "import fundwatch.cli as c\nc._quiet_prefect()\nf()\n"
)


def prefect_fixed_cost() -> dict:
    """Wall time of a child that runs an empty Prefect flow with one task (ephemeral server
    start-up, imports): the fixed part of every ``fundwatch scan``, whatever the data."""
    r = run_child([PYTHON, "-c", EMPTY_FLOW], env=E2E_ENV, cwd=REPO)
    res = {"returncode": r.returncode, "seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu_seconds, 2), "max_rss": r.max_rss}
    print(f"  Prefect fixed cost (empty flow, one task, in a fresh process): {r.seconds:.2f} s "
          f"(cpu {r.cpu_seconds:.2f} s), rc {r.returncode}", flush=True)
    return res


def bench_tier(tier: str, seed: int, profile: bool, skip_steps: bool) -> dict:
    persons = TIERS[tier]
    name = f"{tier}-{seed}"
    print(f"\n=== tier {tier}: {persons:,} persons, seed {seed} (load average {os.getloadavg()[0]:.1f}) ===", flush=True)
    meta = ensure_city(name, persons, seed)
    city = RESULTS / "cities" / name
    input_dir = city / "input"
    rows = meta["rows"]
    print(f"  city: {rows['claims']:,} claims, {rows['claim_items']:,} items, {rows['disbursements']:,} payments; "
          f"generated in {meta.get('process_seconds', float('nan')):.1f} s (generate {meta['generate_seconds']} s + write "
          f"{meta['write_seconds']} s), peak {meta.get('process_max_rss', 0) / GB:.2f} GB", flush=True)

    floor, floor_proc = child_json(["_floor", str(input_dir)], "floor")
    print(f"  floor (one polars pass): {floor['seconds']:.2f} s, peak {floor['peak_rss'] / GB:.2f} GB "
          f"(whole process {floor_proc.seconds:.2f} s)", flush=True)

    steps = None
    if not skip_steps:
        args = ["_steps", str(input_dir), str(RESULTS / "runs" / f"steps-{name}")]
        if profile:
            args += ["--profile-dir", str(RESULTS / "profiles" / name)]
        steps, steps_proc = child_json(args, "steps")
        steps["process_seconds"] = round(steps_proc.seconds, 2)
        steps["process_max_rss"] = steps_proc.max_rss

    prefect_cost = prefect_fixed_cost()
    print("  end to end: fundwatch scan (in-process, no Prefect) ...", flush=True)
    e2e = end_to_end(input_dir, RESULTS / "runs" / f"e2e-{name}")
    if e2e["returncode"] == 0:
        print(f"  end to end: {e2e['seconds']:.2f} s, peak {e2e['max_rss'] / GB:.2f} GB; steps {e2e['steps_sum_seconds']:.2f} s, "
              f"overhead {e2e['overhead_seconds']:.2f} s; timings {e2e['timings']}", flush=True)
    print("  baseline, same run: fundwatch scan --prefect (the Prefect flow, local ephemeral server) ...", flush=True)
    e2e_prefect = end_to_end(input_dir, RESULTS / "runs" / f"e2e-prefect-{name}", "--prefect")
    if e2e_prefect["returncode"] == 0:
        print(f"  --prefect: {e2e_prefect['seconds']:.2f} s; overhead {e2e_prefect['overhead_seconds']:.2f} s; "
              f"in-process / --prefect = {ratio(e2e.get('seconds'), e2e_prefect['seconds']):.2f}", flush=True)

    res = {"tier": tier, "persons": persons, "seed": seed, "city": meta, "floor": floor,
           "floor_process_seconds": round(floor_proc.seconds, 2), "steps": steps, "e2e": e2e,
           "e2e_prefect": e2e_prefect, "prefect_fixed_cost": prefect_cost}
    res["e2e_over_floor"] = ratio(e2e["seconds"], floor["seconds"]) if e2e["returncode"] == 0 else float("nan")
    res["targets"] = targets(tier, res)
    return res


def targets(tier: str, res: dict) -> dict:
    e2e = res["e2e"]
    ok = e2e["returncode"] == 0
    t = {"e2e/floor <= 8": ok and res["e2e_over_floor"] <= TARGET_FLOOR_RATIO,
         f"overhead <= {TARGET_OVERHEAD_SECONDS} s": ok and e2e["overhead_seconds"] <= TARGET_OVERHEAD_SECONDS}
    if tier in TARGET_E2E_SECONDS:
        t[f"e2e <= {TARGET_E2E_SECONDS[tier]:.0f} s"] = ok and e2e["seconds"] <= TARGET_E2E_SECONDS[tier]
    if tier in TARGET_RSS_BYTES:
        t[f"peak RSS <= {TARGET_RSS_BYTES[tier] / GB:.0f} GB"] = ok and e2e["max_rss"] <= TARGET_RSS_BYTES[tier]
    return t


def report(results: list[dict]) -> str:
    parts = []
    for r in results:
        if r["steps"]:
            parts.append(f"\n### Tier {r['tier']}: steps ({r['persons']:,} persons, "
                         f"{r['city']['rows']['claims']:,} claims, {r['city']['rows']['claim_items']:,} items)\n")
            parts.append(table(summarize_steps(r["steps"]), digits=2))
            top = sorted(r["steps"]["detectors"], key=lambda d: -d["seconds"])[:8]
            parts.append(f"\nSlowest detectors (tier {r['tier']}):\n")
            parts.append(table([{"detector": d["detector"], "family": d["family"], "seconds": round(d["seconds"], 2),
                                 "cpu_s": round(d["cpu_seconds"], 2),
                                 "peak_rss_gb": round(d["peak_rss"] / GB, 2), "findings": d["findings"]} for d in top], digits=2))
    summary = []
    for r in results:
        e = r["e2e"]
        summary.append({
            "tier": r["tier"], "persons": r["persons"], "claims": r["city"]["rows"]["claims"],
            "items": r["city"]["rows"]["claim_items"], "payments": r["city"]["rows"]["disbursements"],
            "generate_s": r["city"].get("process_seconds"), "generate_gb": round(r["city"].get("process_max_rss", 0) / GB, 2),
            "floor_s": round(r["floor"]["seconds"], 2), "floor_cpu_s": round(r["floor"]["cpu_seconds"], 2),
            "steps_sum_s": round(sum(x["seconds"] for x in summarize_steps(r["steps"])[:-1]), 2) if r["steps"] else None,
            "e2e_s": e["seconds"] if e["returncode"] == 0 else None,
            "e2e_cpu_s": e.get("cpu_seconds") if e["returncode"] == 0 else None,
            "e2e_peak_gb": round(e["max_rss"] / GB, 2) if e["returncode"] == 0 else None,
            "overhead_s": e.get("overhead_seconds"),
            "e2e_prefect_s": r.get("e2e_prefect", {}).get("seconds"),
            "prefect_empty_flow_s": r.get("prefect_fixed_cost", {}).get("seconds"),
            "e2e/floor": round(r["e2e_over_floor"], 1),
            "e2e/floor_cpu": round(ratio(e.get("cpu_seconds"), r["floor"]["cpu_seconds"]), 1) if e["returncode"] == 0 else None,
            "targets": ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in r["targets"].items()),
        })
    parts.append("\n### Summary: end to end vs the floor\n")
    parts.append(table(summary, digits=2))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_floor":
        ap = argparse.ArgumentParser()
        ap.add_argument("input_dir")
        ap.add_argument("--json", required=True)
        a = ap.parse_args(argv[1:])
        write_json(Path(a.json), floor_pass(Path(a.input_dir)))
        return 0
    if argv and argv[0] == "_steps":
        ap = argparse.ArgumentParser()
        ap.add_argument("input_dir")
        ap.add_argument("out_dir")
        ap.add_argument("--profile-dir")
        ap.add_argument("--json", required=True)
        a = ap.parse_args(argv[1:])
        res = measure_steps(Path(a.input_dir), Path(a.out_dir), Path(a.profile_dir) if a.profile_dir else None)
        write_json(Path(a.json), res)
        return 0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiers", default="S,M", help="comma-separated of S, M, L (default S,M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="profile every step with pyinstrument (pip install pyinstrument)")
    ap.add_argument("--skip-steps", action="store_true", help="only generate, floor and end to end")
    a = ap.parse_args(argv)
    tiers = [t.strip().upper() for t in a.tiers.split(",") if t.strip()]
    bad = [t for t in tiers if t not in TIERS]
    if bad:
        ap.error(f"unknown tier(s) {bad}: use S, M, L")
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results = [bench_tier(t, a.seed, a.profile, a.skip_steps) for t in tiers]
    text = report(results)
    print(text)
    path = write_json(RESULTS / f"speed-{''.join(tiers)}{'-e2e' if a.skip_steps else ''}.json",
                      {"started": started, "machine": machine_info(), "argv": ["bench/speed.py", *argv],
                       "results": results, "table": text})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
