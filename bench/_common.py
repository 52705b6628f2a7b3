"""Shared helpers of the benchmarks: peak-RSS sampler, city cache, subprocess timing, tables.

Benchmarks only (never imported by fundwatch or the tests). Generating a city is done in a
child process (``python bench/_common.py gen ...``) so that its wall time and peak RSS are
measured on their own and its memory is returned before the scan is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CITIES = RESULTS / "cities"
PYTHON = sys.executable
GB = 1024**3

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# ------------------------------------------------------------------------- peak RSS
class PeakRSS:
    """Context manager: wall time and peak RSS of this process while the block runs.

    A background thread samples ``psutil.Process().memory_info().rss`` every ``interval``
    seconds (polars and numpy release the GIL, so the thread keeps sampling during their
    work). ``peak`` is the highest RSS seen, ``start`` the RSS on entry, ``delta`` the
    difference (memory the step added on top of what was already resident).
    """

    def __init__(self, interval: float = 0.02):
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.start = self.peak = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = self._proc.memory_info().rss
            if rss > self.peak:
                self.peak = rss
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._t0 = time.perf_counter()
        self._c0 = self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.cpu_seconds = self._cpu() - self._c0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    def _cpu(self) -> float:
        t = self._proc.cpu_times()
        return t.user + t.system

    @property
    def delta(self) -> int:
        return self.peak - self.start


@dataclass
class ChildRun:
    """A finished child process: exit code, wall and CPU (user+sys) seconds, its own peak RSS (bytes), output."""

    returncode: int
    seconds: float
    max_rss: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0


def run_child(cmd: list[str], env: dict | None = None, cwd: str | Path | None = None) -> ChildRun:
    """Run ``cmd`` and measure it: wall time and peak RSS via ``os.wait4`` (this child and
    its waited-for descendants; the same number ``/usr/bin/time -v`` prints)."""
    out_f = open(_tmp("stdout"), "w+b")
    err_f = open(_tmp("stderr"), "w+b")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0), err_f.seek(0)
    out, err = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
    out_f.close(), err_f.close()
    return ChildRun(p.returncode, seconds, ru.ru_maxrss * 1024, out, err, ru.ru_utime + ru.ru_stime)


def _tmp(kind: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / f".child-{os.getpid()}.{kind}"


# ------------------------------------------------------------------------- cities
def synth_variants() -> dict:
    """Named synthetic-city configurations. ``default`` is ``SynthConfig()``; ``shifted``
    changes rates and magnitudes so that no detector can lean on the defaults: rarer and
    more frequent anomalies, subtler magnitudes, smaller groups, more look-alikes."""
    from fundwatch.synth import SynthConfig

    base = SynthConfig()
    rates = dict(base.case_rates)
    for k in rates:  # alternate: half of the types rarer, half more frequent
        rates[k] = rates[k] * (0.5 if sorted(rates).index(k) % 2 else 2.0)
    shifted = replace(
        base,
        case_rates=rates,
        lookalike_rate=3.0,
        over_standard_factor=(1.05, 1.4),
        area_inflation_factor=(1.10, 1.6),
        delay_days_bad=(70, 160),
        excess_qty_factor=(2, 3),
        over_price_factor=(1.06, 1.5),
        after_death_days=(1, 60),
        frequent_visit_days=(90, 180),
        group_size=(4, 7),
        group_days=(6, 12),
        village_outlier_extra_share=(0.08, 0.15),
        cards_per_holder=(2, 4),
        split_chain=(2, 3),
        phantom_days=(4, 10),
        outlier_inflated_share=0.5,
        normal_delay_days=(2, 40),
    )
    return {"default": base, "shifted": shifted}


def city_dir(name: str) -> Path:
    return CITIES / name


def ensure_city(name: str, persons: int, seed: int, variant: str = "default", log=print) -> dict:
    """The cached city ``bench/results/cities/<name>/`` (made once, in a child process).

    Returns its ``meta.json``: persons, seed, variant, rows per dataset, generation and
    writing seconds, the generating process's wall time and peak RSS. A city is reused only
    when ``meta.json`` exists (written last) and matches ``persons, seed, variant``.
    """
    d = city_dir(name)
    meta_path = d / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (meta.get("persons"), meta.get("seed"), meta.get("variant")) == (persons, seed, variant):
            meta["cached"] = True
            return meta
    log(f"generating city {name}: {persons:,} persons, seed {seed}, variant {variant} ...")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    r = run_child([PYTHON, str(Path(__file__).resolve()), "gen", str(d), "--persons", str(persons),
                   "--seed", str(seed), "--variant", variant], env=env)
    if r.returncode != 0:
        raise RuntimeError(f"generating {name} failed ({r.returncode}):\n{r.stderr[-4000:]}")
    meta = json.loads(meta_path.read_text())
    meta.update(process_seconds=round(r.seconds, 2), process_max_rss=r.max_rss, cached=False)
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"  {name}: generated in {r.seconds:.1f} s, peak RSS {r.max_rss / GB:.2f} GB")
    return meta


def _gen_main(argv: list[str]) -> int:
    """Child: generate and write one city, then its meta.json (last, as the completion mark)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--persons", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--variant", default="default")
    a = ap.parse_args(argv)
    from fundwatch.synth import generate_city, write_city

    out = Path(a.out)
    if (out / "meta.json").exists():
        (out / "meta.json").unlink()
    cfg = synth_variants()[a.variant]
    t0 = time.perf_counter()
    city = generate_city(a.persons, a.seed, cfg)
    t1 = time.perf_counter()
    write_city(city, out, dirty=False, seed=a.seed)
    t2 = time.perf_counter()
    meta = {
        "persons": a.persons, "seed": a.seed, "variant": a.variant,
        "rows": {k: v.height for k, v in city.datasets.items()},
        "labels": city.labels.height,
        "generate_seconds": round(t1 - t0, 2), "write_seconds": round(t2 - t1, 2),
        "input_bytes": sum(p.stat().st_size for p in (out / "input").rglob("*") if p.is_file()),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return 0


# ------------------------------------------------------------------------- machine
def machine_info() -> dict:
    """Where the numbers came from: cores, memory, CPU model, Python and library versions."""
    import importlib.metadata as md

    import psutil

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = {}
    for pkg in ("fundwatch", "polars", "numpy", "scikit-learn", "pyod", "great-expectations", "prefect",
                "sqlalchemy", "pandas", "pyarrow", "openpyxl", "xlsxwriter", "psutil"):
        try:
            libs[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / GB, 1),
        "memory_available_gb": round(psutil.virtual_memory().available / GB, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": libs,
        "polars_threads": _polars_threads(),
        "load_average": os.getloadavg(),
    }


def _polars_threads() -> int | None:
    try:
        import polars as pl

        return pl.thread_pool_size()
    except Exception:  # informational only
        return None


# ------------------------------------------------------------------------- tables
def fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        if v == float("inf"):
            return "inf"
        return f"{v:.{digits}f}"
    return str(v)


def table(rows: list[dict], columns: list[str] | None = None, digits: int = 3) -> str:
    """A markdown table (pasteable into docs/benchmarks.md); numbers right-aligned."""
    if not rows:
        return "(no rows)"
    columns = columns or list(rows[0])
    cells = [[fmt(r.get(c), digits) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in columns]
    head = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |"
    sep = "|" + "|".join(("-" * (w + 1) + ":") if n else ("-" * (w + 2)) for w, n in zip(widths, numeric)) + "|"
    body = [
        "| " + " | ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(row, widths, numeric)) + " |"
        for row in cells
    ]
    return "\n".join([head, sep, *body])


def ratio(a, b) -> float:
    """``a / b`` with ``inf`` for a positive ``a`` over zero and ``nan`` for 0/0 or missing."""
    if a is None or b is None or a != a or b != b:
        return float("nan")
    if b == 0:
        return float("inf") if a > 0 else float("nan")
    return a / b


def write_json(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
    return path


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "gen":
        sys.exit(_gen_main(sys.argv[2:]))
    print(json.dumps(machine_info(), indent=2))
