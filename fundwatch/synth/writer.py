"""Write a city: ``OUT/input/<dataset>.parquet``, ``OUT/labels.parquet`` (and dirty variants)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from fundwatch.contract import DATASETS

DIRTY_ROWS_SCHEMA = pl.Schema({"dataset": pl.String(), "source_file": pl.String(), "row_number": pl.Int64(),
                               "column": pl.String(), "reason": pl.String()})


def write_city(city, out_dir, dirty: bool = False, seed: int | None = None, contract_version: int = 2) -> Path:
    """Write ``city`` under ``out_dir``; returns the input directory.

    Clean: one Parquet file per dataset. ``dirty=True``: mixed formats, encodings and planted
    bad rows (see :mod:`fundwatch.synth.dirty`), listed in ``OUT/dirty_rows.parquet``.
    ``contract_version=1`` writes the city as a version-1 export: without the v2 columns and
    datasets (to show that such input still loads, and what is skipped without them).
    """
    if contract_version not in (1, 2):
        raise ValueError(f"contract_version must be 1 or 2, not {contract_version!r}")
    if contract_version == 1:
        city = as_version_1(city)
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


def as_version_1(city):
    """A copy of ``city`` whose datasets are the version-1 contract: no v2 columns or datasets."""
    datasets = {
        name: df.drop(DATASETS[name].v2_columns, strict=False)
        for name, df in city.datasets.items()
        if DATASETS[name].since == 1
    }
    return replace(city, datasets=datasets)
