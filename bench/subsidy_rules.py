"""Benchmark: every one-card subsidy rule on a synthetic city, against a floor measured in the same run.

Usage::

    POLARS_MAX_THREADS=2 .venv/bin/python bench/subsidy_rules.py --tiers S     # 10k persons
    .venv/bin/python bench/subsidy_rules.py --tiers L                           # 1M persons, ~4.2M payments

The city is the cached one of ``bench/speed.py`` (``bench/results/cities/<tier>-<seed>/``,
made once in a child process, v2 columns and datasets included). In this process the
subsidy datasets are read from its parquet files, then:

1. the **floor**: one lazy pass over the disbursements that any rule needs at least — a
   group-by on ``person_id`` summing ``amount`` and a join of the result back (the shape of
   the cheapest rule) — best of three;
2. every subsidy rule (``fundwatch.detectors.subsidy.build_detectors``), ``fit_detect``
   once, wall and CPU seconds and the process's peak RSS while it runs.

Prints per rule the seconds, the ratio to the floor and the findings; the sum over all rules
and its ratio; writes ``bench/results/subsidy-rules-<tiers>.json``. Target (issue 17): all
subsidy rules on the L city with the v2 columns ≤ 30 s within 12 GB. Ratios, not seconds,
compare runs on different machines.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import GB, RESULTS, PeakRSS, city_dir, ensure_city, machine_info, ratio, table, write_json

TIERS = {"S": 10_000, "M": 100_000, "L": 1_000_000}
TARGET_SECONDS = {"L": 30.0}
TARGET_RSS = {"L": 12 * GB}


def load_subsidy(directory: Path) -> dict:
    import polars as pl

    from fundwatch.contract import SUBSIDY_DATASETS

    inp = directory / "input"
    return {n: pl.read_parquet(inp / f"{n}.parquet") for n in SUBSIDY_DATASETS if (inp / f"{n}.parquet").exists()}


def floor(datasets: dict) -> dict:
    """Best of three of the cheapest pass a rule makes over the payments."""
    import polars as pl

    best = None
    for _ in range(3):
        with PeakRSS() as m:
            d = datasets["disbursements"].lazy()
            per = d.group_by("person_id").agg(pl.col("amount").sum().alias("_t"))
            d.join(per, on="person_id", how="left").select(pl.col("_t").sum()).collect()
        if best is None or m.seconds < best["seconds"]:
            best = {"seconds": m.seconds, "cpu_seconds": m.cpu_seconds, "peak_rss": m.peak}
    return best


def bench_tier(tier: str, seed: int) -> dict:
    from fundwatch.detectors.subsidy import build_detectors

    name = f"{tier}-{seed}"
    meta = ensure_city(name, TIERS[tier], seed)
    print(f"\n=== tier {tier}: {TIERS[tier]:,} persons, {meta['rows']['disbursements']:,} payments "
          f"(load average {os.getloadavg()[0]:.1f}) ===", flush=True)
    datasets = load_subsidy(city_dir(name))
    base = floor(datasets)
    print(f"  floor (group-by + join over the payments): {base['seconds']:.3f} s", flush=True)
    rows = []
    for det in build_detectors():
        with PeakRSS() as m:
            found = det.fit_detect(datasets)
        rows.append({"rule": det.name(), "codes": ", ".join(det.codes), "seconds": round(m.seconds, 3),
                     "cpu_seconds": round(m.cpu_seconds, 3), "x_floor": round(ratio(m.seconds, base["seconds"]), 1),
                     "peak_gb": round(m.peak / GB, 2), "findings": found.height})
        print(f"  {det.name():<28}{m.seconds:8.2f} s  x{rows[-1]['x_floor']:>7}  peak {m.peak / GB:6.2f} GB"
              f"  findings {found.height}", flush=True)
    total = sum(r["seconds"] for r in rows)
    peak = max(r["peak_gb"] for r in rows)
    res = {"tier": tier, "persons": TIERS[tier], "seed": seed, "payments": meta["rows"]["disbursements"],
           "floor": base, "rules": rows, "total_seconds": round(total, 2),
           "total_x_floor": round(ratio(total, base["seconds"]), 1), "peak_gb": peak}
    if tier in TARGET_SECONDS:
        res["target_met"] = total <= TARGET_SECONDS[tier] and peak * GB <= TARGET_RSS[tier]
    print(table(rows, ["rule", "codes", "seconds", "x_floor", "peak_gb", "findings"]))
    print(f"all {len(rows)} rules: {total:.2f} s = {res['total_x_floor']} x floor, peak {peak:.2f} GB"
          + (f"; target <= {TARGET_SECONDS[tier]:.0f} s within 12 GB: {'met' if res['target_met'] else 'MISSED'}"
             if "target_met" in res else ""))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiers", default="S", help="comma-separated tiers: S, M, L")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    tiers = [t.strip().upper() for t in a.tiers.split(",") if t.strip()]
    results = {"machine": machine_info(), "tiers": [bench_tier(t, a.seed) for t in tiers]}
    path = write_json(RESULTS / f"subsidy-rules-{'-'.join(tiers)}.json", results)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
