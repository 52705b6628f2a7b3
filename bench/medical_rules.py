"""Benchmark: every medical rule and model on a large random city with the contract v2 columns.

Usage::

    # the synthetic city of a tier (S 10k, M 100k, L 1M persons), cached as bench/speed.py's
    # in bench/results/cities/<tier>-<seed>/ (made once, in a child process):
    POLARS_MAX_THREADS=2 .venv/bin/python bench/medical_rules.py --tier L
    # any input folder of <dataset>.parquet files (e.g. `fundwatch synth city` output):
    .venv/bin/python bench/medical_rules.py --input city/input
    # a random city (no synthetic generator; every v2 column added here), quick:
    .venv/bin/python bench/medical_rules.py --persons 20000 --claims 200000 --items 700000

The tiers are the project's synthetic cities (every v2 column and the planted cases). The
random city is :func:`medical_detectors.make_city` (skewed activity, far more catalogue-limit
hits than a real city, no planted cases: a stress test) with the v2 columns added: ``admission_id`` (a share of stays
settled in two parts), ``secondary_diagnoses``, ``readmission_planned``; the catalogue's
``indication``, ``visit_type_limit`` and window limits; ``trace_code`` (a few codes sold
twice) and ``days_supply`` on drug lines; ``item_prices`` per level with a mid-year rise.

Prints, per detector, seconds, the ratio to a **baseline measured in the same run** (one
pass grouping the item lines' amount by claim: what any rule touching every line costs at
least), findings and peak RSS; then the total against the 60 s budget of the issue. Times are
for reading, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PeakRSS
from medical_detectors import make_city

from fundwatch.contract import DATASETS


def add_v2(ds: dict[str, pl.DataFrame], seed: int = 0) -> dict[str, pl.DataFrame]:
    """The contract v2 columns and ``item_prices`` on a :func:`make_city` city (vectorised)."""
    rng = np.random.default_rng(seed + 1)
    cat, claims, items, inst = ds["item_catalog"], ds["claims"], ds["claim_items"], ds["institutions"]
    n_cat, n_c, n_i = cat.height, claims.height, items.height
    u = rng.random(n_cat)
    treatment = (cat["category"] == "treatment").to_numpy()
    cat = cat.with_columns(
        indication=pl.when(pl.Series(u < 0.02)).then(pl.lit("E10;E11;E13")),
        visit_type_limit=pl.when(pl.Series(u > 0.97)).then(pl.lit("inpatient"))
        .when(pl.Series((u > 0.95) & (u <= 0.97))).then(pl.lit("outpatient")),
        window_days=pl.when(pl.Series(treatment & (rng.random(n_cat) < 0.05))).then(pl.lit(7, pl.Int64)),
    ).with_columns(max_qty_per_window=pl.when(pl.col("window_days").is_not_null()).then(pl.lit(3.0)))
    inpatient = (claims["visit_type"] == "inpatient").to_numpy()
    # a share of stays is settled in two parts: the second part shares the first's admission id
    interim = inpatient & (rng.random(n_c) < 0.05)
    claims = claims.with_columns(
        admission_id=pl.when(pl.Series(inpatient)).then(pl.lit("ZY") + pl.col("claim_id")),
        secondary_diagnoses=pl.when(pl.Series(rng.random(n_c) < 0.3)).then(pl.lit("I10;E11.9")),
        readmission_planned=pl.when(pl.Series(inpatient)).then(pl.Series(rng.random(n_c) < 0.02)),
        department=pl.lit(None, pl.String),
    ).with_columns(
        admission_id=pl.when(pl.Series(interim) & (pl.col("person_id") == pl.col("person_id").shift(1)))
        .then(pl.col("admission_id").shift(1)).otherwise(pl.col("admission_id")),
    )
    drug = (items["category"] == "drug").to_numpy()
    coded = drug & (rng.random(n_i) < 0.3)
    serial = np.arange(n_i, dtype=np.int64)
    # one coded line in a thousand repeats an earlier code (a package sold twice)
    again = coded & (rng.random(n_i) < 0.001)
    serial[again] = np.maximum(serial[again] - rng.integers(1, 1000, again.sum()), 0)
    items = items.with_columns(
        trace_code=pl.when(pl.Series(coded)).then(pl.lit("8") + pl.Series(serial).cast(pl.String).str.zfill(19)),
        days_supply=pl.when(pl.Series(drug)).then((pl.col("quantity") * 7).cast(pl.Int64)),
    )
    priced = cat.filter(pl.col("price_cap").is_not_null()).head(300)
    rows = []
    for level, share in ((0, 0.85), (1, 0.85), (2, 0.92), (3, 1.0)):
        for vf, vt, k in (("2024-01-01", "2025-06-30", 0.95), ("2025-07-01", None, 1.0)):
            rows.append(priced.select("item_code", level=pl.lit(level, pl.Int64),
                                      valid_from=pl.lit(vf).str.to_date(),
                                      valid_to=pl.lit(vt, pl.String).str.to_date(),
                                      price_cap=pl.col("price_cap") * share * k))
    out = dict(ds, item_catalog=cat, claims=claims, claim_items=items, institutions=inst.with_columns(
        ownership=pl.lit("public")), item_prices=pl.concat(rows))
    return {k: v.select([pl.col(c).cast(t) if c in v.columns else pl.lit(None, t).alias(c)
                         for c, t in DATASETS[k].schema.items()]) for k, v in out.items()}


def baseline(ds: dict[str, pl.DataFrame]) -> float:
    """Seconds of one pass over every item line (amount summed by claim)."""
    t = time.perf_counter()
    ds["claim_items"].lazy().group_by("claim_id").agg(pl.col("amount").sum()).collect()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--claims", type=int, default=10_000_000)
    ap.add_argument("--items", type=int, default=35_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", help="detector class names to run (default: all medical)")
    ap.add_argument("--tier", choices=["S", "M", "L"], help="the cached synthetic city of a tier (seed --seed, default 1)")
    ap.add_argument("--input", help="read <dataset>.parquet files from this folder")
    args = ap.parse_args()
    from fundwatch.detectors.medical import build_detectors
    from fundwatch.settings import DEFAULT_SETTINGS

    t0 = time.perf_counter()
    if args.tier:
        from _common import city_dir, ensure_city

        seed = args.seed or 1
        ensure_city(f"{args.tier}-{seed}", {"S": 10_000, "M": 100_000, "L": 1_000_000}[args.tier], seed)
        args.input = str(city_dir(f"{args.tier}-{seed}") / "input")
    if args.input:
        ds = {k: pl.read_parquet(Path(args.input) / f"{k}.parquet") for k in DATASETS
              if (Path(args.input) / f"{k}.parquet").exists()}
    else:
        ds = add_v2(make_city(args.persons, args.claims, args.items, args.seed), args.seed)
    print(f"city: {ds['persons'].height:,} persons, {ds['claims'].height:,} claims, "
          f"{ds['claim_items'].height:,} item lines, v2 columns, in {time.perf_counter() - t0:.1f}s", flush=True)
    base = min(baseline(ds) for _ in range(3))
    print(f"baseline (items grouped by claim, best of 3): {base:.2f}s", flush=True)
    total = 0.0
    print(f"{'detector':28s} {'seconds':>8s} {'x base':>7s} {'findings':>9s} {'peak GB':>8s}")
    for det in build_detectors(DEFAULT_SETTINGS):
        if args.only and det.name() not in args.only:
            continue
        with PeakRSS() as m:
            f = det.fit_detect(ds)
        total += m.seconds
        print(f"{det.name():28s} {m.seconds:8.2f} {m.seconds / base:7.1f} {f.height:9,d} {m.peak / 1024**3:8.2f}",
              flush=True)
    print(f"all medical detectors: {total:.1f}s = {total / base:.1f} x baseline (budget 60 s on the L city)")


if __name__ == "__main__":
    main()
