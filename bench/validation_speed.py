"""Validation speed on a synthetic city: ``python bench/validation_speed.py [--tier M] [--seed 1]``.

Loads the cached city of the tier once (``bench/_common.ensure_city``), then times, in this
process, one after another:

1. **floor**: every row-level check's polars function over the loaded frames, once, with no
   Great Expectations at all — the least any validation of these rules must cost (the old
   runner paid this, then again in GE on pandas chunks);
2. **validate**: :func:`fundwatch.expectations.validate` as the scan calls it (with the
   loader's result, Data Docs off);
3. **validate + docs**: the same with the Data Docs site and the auditors' pages.

Prints seconds, validate / floor, rows per second per dataset and peak RSS, and checks that
the two validations agree (same summary, same quarantine). Tiers above M need the whole
machine (docs/CONTRIBUTING.md): the lead runs L.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import city_dir, ensure_city, ratio

TIERS = {"S": 10_000, "M": 100_000, "L": 1_000_000}


def floor(datasets: dict[str, pl.DataFrame]) -> float:
    """Every row check's polars function once over every frame; seconds."""
    from fundwatch.contract import DATASETS
    from fundwatch.expectations import dataset_checks
    from fundwatch.expectations.cross import ORDER
    from fundwatch.expectations.spec import Ctx
    from fundwatch.settings import DEFAULT_SETTINGS

    t = time.perf_counter()
    for name in [n for n in ORDER if n in datasets]:
        frame = datasets[name]
        active, _ = dataset_checks(name, DEFAULT_SETTINGS, set(datasets) & set(DATASETS))
        ctx = Ctx(name, DEFAULT_SETTINGS.validation, datasets)
        for c in active:
            if c.level != "row" or not all(col in frame.columns for col in c.columns):
                continue
            r = c.ok(frame, ctx)
            if not isinstance(r, pl.Series):
                frame.select(r).to_series().sum()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tier", default="M", choices=sorted(TIERS))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from fundwatch import expectations, pipeline

    name = f"{a.tier}-{a.seed}"
    ensure_city(name, TIERS[a.tier], a.seed)
    t = time.perf_counter()
    loaded = pipeline.load_step(city_dir(name) / "input", ("subsidy", "medical"))
    load_s = time.perf_counter() - t
    rows = sum(f.height for f in loaded.datasets.values())
    print(f"tier {a.tier}: {rows:,} rows in {len(loaded.datasets)} datasets, loaded in {load_s:.1f} s")

    floor_s = floor(loaded.datasets)
    results = {}
    for docs in (False, True):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            res = expectations.validate(dict(loaded.datasets), out, build_docs=docs, load=loaded)
            results[docs] = (time.perf_counter() - t, res)
    (v_s, v), (d_s, d) = results[False], results[True]
    cols = ["dataset", "expectation", "success", "unexpected_count"]
    same = v.summary.select(cols).equals(d.summary.select(cols)) and v.quarantine.equals(d.quarantine)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"floor (polars functions only)   {floor_s:7.1f} s")
    print(f"validate                        {v_s:7.1f} s   validate / floor = {ratio(v_s, floor_s):.2f}")
    print(f"validate + Data Docs + audit    {d_s:7.1f} s")
    print(f"rows/s per dataset: { {k: round(x) for k, x in v.rows_per_second.items()} }")
    failed = v.summary.filter(pl.col("success").not_().fill_null(False)).height
    print(f"failed checks {failed}, quarantined by validation {v.quarantine.height}, same results with docs: {same}")
    print(f"peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()
