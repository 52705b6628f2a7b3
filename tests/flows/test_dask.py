"""The same scan on a 2-worker local Dask cluster gives exactly the single-process leads."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytestmark = pytest.mark.slow


def test_dask_run_matches_single_process(tiny_city_dir, tmp_path):
    pytest.importorskip("prefect_dask")
    from fundwatch.flows.dask import dask_task_runner
    from fundwatch.flows.scan import scan

    single = tmp_path / "single"
    scan(input_dir=str(tiny_city_dir / "input"), out_dir=str(single))
    on_dask = tmp_path / "dask"
    scan.with_options(task_runner=dask_task_runner("local"))(
        input_dir=str(tiny_city_dir / "input"), out_dir=str(on_dask), partitions=4
    )
    a = pl.read_parquet(single / "leads.parquet")
    b = pl.read_parquet(on_dask / "leads.parquet")
    assert a.height > 0
    assert_frame_equal(a, b)
