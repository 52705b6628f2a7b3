"""Benchmark: every medical detector on a large synthetic city made here with numpy.

Usage::

    POLARS_MAX_THREADS=2 .venv/bin/python bench/medical_detectors.py --persons 1000000 \
        --claims 10000000 --items 30000000

Prints seconds per detector, findings per detector and the process's peak RSS. The frames
are random (no planted cases): the point is time and memory, not quality.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.idnumber import check_char


def make_city(n_persons: int, n_claims: int, n_items: int, seed: int = 0) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    birth = (np.datetime64("1935-01-01") + rng.integers(0, 365 * 85, n_persons)).astype("datetime64[D]")
    seq = rng.integers(0, 1000, n_persons)
    body = pl.DataFrame({"b": birth.astype(str), "s": seq}).select(
        (pl.lit("510302") + pl.col("b").str.replace_all("-", "") + pl.col("s").cast(pl.String).str.zfill(3))
        .alias("body")
    )["body"]
    pids = pl.DataFrame({"body": body}).select(
        (pl.col("body") + check_char(pl.col("body"))).alias("person_id"))["person_id"]
    persons = pl.DataFrame({
        "person_id": pids,
        "name": "某某",
        "gender": np.where(seq % 2 == 1, "M", "F"),
        "birth_date": pl.Series(birth).cast(pl.Date),
        "region_code": "510302001001",
        "household_id": (np.arange(n_persons) // 3).astype(str),
    }).unique("person_id")
    pids = persons["person_id"]
    n_p = persons.height

    n_inst = max(50, n_persons // 500)
    kinds = rng.choice(["pharmacy", "clinic", "hospital"], n_inst, p=[0.6, 0.3, 0.1])
    institutions = pl.DataFrame({
        "institution_id": [f"I{i:06d}" for i in range(n_inst)],
        "name": [f"机构{i}" for i in range(n_inst)],
        "kind": kinds,
        "level": np.where(kinds == "hospital", 2, 0),
        "region_code": "510302000000",
        "beds": np.where(kinds == "hospital", 300, 0),
    })
    n_cat = 5000
    cats = rng.choice(["drug", "exam", "treatment", "material", "bed", "service"], n_cat)
    catalog = pl.DataFrame({
        "item_code": [f"X{i:05d}" for i in range(n_cat)],
        "item_name": [f"项目{i}" for i in range(n_cat)],
        "category": cats,
        "gender_limit": rng.choice(["M", "F"], n_cat),
        "min_age": np.full(n_cat, 60),
        "max_age": np.full(n_cat, 14),
        "max_qty_per_day": np.full(n_cat, 5.0),
        "price_cap": np.full(n_cat, 100.0),
    })
    masks = {c: rng.random(n_cat) < p for c, p in
             [("gender_limit", 0.02), ("min_age", 0.02), ("max_age", 0.02), ("max_qty_per_day", 0.3), ("price_cap", 0.3)]}
    catalog = catalog.with_columns(
        [pl.when(pl.Series(m)).then(pl.col(c)).otherwise(None).alias(c) for c, m in masks.items()])

    # person activity is skewed: a few people visit a lot
    weights = rng.pareto(2.0, n_p) + 0.2
    weights /= weights.sum()
    person_idx = rng.choice(n_p, n_claims, p=weights)
    # each person mostly uses a few institutions near home
    home = rng.integers(0, n_inst, n_p)
    inst_idx = np.where(rng.random(n_claims) < 0.7, home[person_idx], rng.integers(0, n_inst, n_claims))
    ikind = kinds[inst_idx]
    inpatient = (ikind == "hospital") & (rng.random(n_claims) < 0.3)
    visit_type = np.where(ikind == "pharmacy", "pharmacy", np.where(inpatient, "inpatient", "outpatient"))
    day0 = np.datetime64("2025-01-01")
    visit = day0 + rng.integers(0, 365, n_claims)
    los = np.where(inpatient, rng.integers(1, 20, n_claims), 0)
    total = np.round(rng.gamma(2.0, 100.0, n_claims) * np.where(inpatient, 20, 1), 2)
    fund = np.round(total * 0.7, 2)
    claims = pl.DataFrame({
        "claim_id": pl.int_range(0, n_claims, eager=True).cast(pl.String).str.zfill(10),
        "person_id": pids.gather(person_idx),
        "institution_id": institutions["institution_id"].gather(inst_idx),
        "doctor_id": "D1",
        "visit_type": visit_type,
        "visit_date": pl.Series(visit).cast(pl.Date),
        "discharge_date": pl.Series(visit + los).cast(pl.Date),
        "settle_date": pl.Series(visit + los).cast(pl.Date),
        "diagnosis_code": rng.choice(["J18.9", "I10", "E11.9", "K29.7", "M54.5"], n_claims),
        "total_amount": total,
        "fund_amount": fund,
        "self_amount": np.round(total - fund, 2),
    }).with_columns(
        pl.when(pl.col("visit_type") == "inpatient").then(pl.col("discharge_date")).alias("discharge_date")
    )
    claim_of_item = np.sort(rng.integers(0, n_claims, n_items))
    code_idx = rng.integers(0, n_cat, n_items)
    qty = rng.integers(1, 6, n_items).astype(float)
    price = np.round(rng.gamma(2.0, 30.0, n_items), 2)
    items = pl.DataFrame({
        "claim_id": claims["claim_id"].gather(claim_of_item),
        "line_no": np.arange(n_items) % 7 + 1,
        "item_code": catalog["item_code"].gather(code_idx),
        "item_name": catalog["item_name"].gather(code_idx),
        "category": catalog["category"].gather(code_idx),
        "quantity": qty,
        "unit_price": price,
        "amount": np.round(qty * price, 2),
        "service_date": claims["visit_date"].gather(claim_of_item),
    })
    dead = rng.choice(n_p, max(1, n_p // 100), replace=False)
    deaths = pl.DataFrame({
        "person_id": pids.gather(dead),
        "death_date": pl.Series(day0 + rng.integers(0, 365, dead.size)).cast(pl.Date),
        "source": "公安",
    })
    out = {"persons": persons, "deaths": deaths, "institutions": institutions,
           "item_catalog": catalog, "claims": claims, "claim_items": items}
    # version-1 columns only (contract v2 columns are optional; bench/medical_rules.py adds them)
    return {k: v.select([pl.col(c).cast(t) for c, t in DATASETS[k].schema.items() if c in v.columns])
            for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--claims", type=int, default=10_000_000)
    ap.add_argument("--items", type=int, default=30_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", help="write the generated city as <dataset>.parquet files here")
    ap.add_argument("--input", help="read <dataset>.parquet files from here instead of generating")
    args = ap.parse_args()
    from fundwatch.detectors.medical import build_detectors
    from fundwatch.settings import DEFAULT_SETTINGS

    t0 = time.perf_counter()
    if args.input:
        from pathlib import Path

        ds = {k: pl.read_parquet(Path(args.input) / f"{k}.parquet") for k in DATASETS
              if (Path(args.input) / f"{k}.parquet").exists()}
    else:
        ds = make_city(args.persons, args.claims, args.items, args.seed)
    if args.save:
        from pathlib import Path

        Path(args.save).mkdir(parents=True, exist_ok=True)
        for k, v in ds.items():
            v.write_parquet(Path(args.save) / f"{k}.parquet")
    print(f"city: {ds['persons'].height:,} persons, {ds['claims'].height:,} claims, "
          f"{ds['claim_items'].height:,} items in {time.perf_counter() - t0:.1f}s", flush=True)
    total = 0.0
    for det in build_detectors(DEFAULT_SETTINGS):
        t = time.perf_counter()
        f = det.fit_detect(ds)
        sec = time.perf_counter() - t
        total += sec
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"{det.name():28s} {sec:7.1f}s  findings {f.height:8,d}  peak RSS {rss:5.1f} GB", flush=True)
    print(f"all medical detectors: {total:.1f}s", flush=True)


if __name__ == "__main__":
    main()
