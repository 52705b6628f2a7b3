"""Validation speed on synthetic claims: ``python bench/validation_speed.py [rows] [chunk_rows]``.

Builds ``rows`` synthetic claim rows (with ~0.1 % planted bad rows) plus persons, institutions
and items, runs :func:`expectations.validate` without Data Docs and prints rows/second per
dataset and the process's peak resident memory.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

import numpy as np
import polars as pl

from fundwatch.expectations import validate
from fundwatch.settings import DEFAULT_SETTINGS


def claims_frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    fund = np.round(rng.gamma(2.0, 100.0, n), 2)
    self_ = np.round(rng.gamma(2.0, 30.0, n), 2)
    visit = pl.Series(rng.integers(0, 700, n)).cast(pl.Int32)
    df = pl.DataFrame({
        "claim_id": pl.int_range(0, n, eager=True).cast(pl.String).str.zfill(10),
        "person_id": np.where(rng.random(n) < 0.999, "11010519491231002X", "110105194912310021"),
        "institution_id": pl.Series(rng.integers(0, 500, n)).cast(pl.String),
        "doctor_id": pl.Series(rng.integers(0, 5000, n)).cast(pl.String),
        "visit_type": rng.choice(["outpatient", "inpatient", "pharmacy"], n),
        "diagnosis_code": ["J01"] * n,
        "total_amount": fund + self_,
        "fund_amount": np.where(rng.random(n) < 0.999, fund, -fund),
        "self_amount": self_,
    })
    base = pl.date(2024, 1, 1)
    df = df.with_columns(
        visit_date=(base + pl.duration(days=pl.lit(visit))).cast(pl.Date),
        discharge_date=pl.when(pl.col("visit_type") == "inpatient").then(
            (base + pl.duration(days=pl.lit(visit) + 3)).cast(pl.Date)
        ),
        settle_date=(base + pl.duration(days=pl.lit(visit) + 1)).cast(pl.Date),
    )
    cols = ["claim_id", "person_id", "institution_id", "doctor_id", "visit_type", "visit_date", "discharge_date",
            "settle_date", "diagnosis_code", "total_amount", "fund_amount", "self_amount"]
    return df.select(cols)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_SETTINGS.validation.chunk_rows
    settings = DEFAULT_SETTINGS.model_copy(
        update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"chunk_rows": chunk})}
    )
    claims = claims_frame(n)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        res = validate({"claims": claims}, out, settings, build_docs=False)
    secs = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows={n} chunk_rows={chunk} seconds={secs:.1f} rows/s={n / secs:,.0f}")
    print(f"rows_per_second={ {k: round(v) for k, v in res.rows_per_second.items()} }")
    print(f"accepted={res.datasets['claims'].height} quarantined_rows={res.quarantine['row_number'].n_unique()}")
    print(f"peak RSS MB: before validate {rss0:.0f}, after {rss1:.0f} (increase {rss1 - rss0:.0f})")


if __name__ == "__main__":
    main()
