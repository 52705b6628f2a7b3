"""The scan flow on a 2-worker local Dask cluster gives exactly the in-process leads."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytestmark = pytest.mark.slow


def test_dask_run_matches_the_in_process_scan(tiny_city_dir, tiny_scan, tmp_path):
    pytest.importorskip("prefect_dask")
    from fundwatch.flows.dask import dask_task_runner
    from fundwatch.flows.scan import scan

    inline_out, _ = tiny_scan
    on_dask = tmp_path / "dask"
    run = scan.with_options(task_runner=dask_task_runner("local"))(
        input_dir=str(tiny_city_dir / "input"), out_dir=str(on_dask), partitions=2
    )
    assert run["orchestrator"] == "dask"
    a = pl.read_parquet(inline_out / "leads.parquet")
    b = pl.read_parquet(on_dask / "leads.parquet")
    assert a.height > 0
    assert_frame_equal(a, b)
