"""Write a city: ``OUT/input/<dataset>.parquet``, ``OUT/labels.parquet`` (and dirty variants)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

DIRTY_ROWS_SCHEMA = pl.Schema({"dataset": pl.String(), "source_file": pl.String(), "row_number": pl.Int64(),
                               "column": pl.String(), "reason": pl.String()})


def write_city(city, out_dir, dirty: bool = False, seed: int | None = None) -> Path:
    """Write ``city`` under ``out_dir``; returns the input directory.

    Clean: one Parquet file per dataset. ``dirty=True``: mixed formats, encodings and planted
    bad rows (see :mod:`fundwatch.synth.dirty`), listed in ``OUT/dirty_rows.parquet``.
    """
    out = Path(out_dir)
    inp = out / "input"
    inp.mkdir(parents=True, exist_ok=True)
    if dirty:
        from fundwatch.synth.dirty import write_dirty

        bad = write_dirty(city, inp, seed=city.seed if seed is None else seed)
        bad.write_parquet(out / "dirty_rows.parquet")
    else:
        for name, df in city.datasets.items():
            df.write_parquet(inp / f"{name}.parquet")
    city.labels.write_parquet(out / "labels.parquet")
    return inp
