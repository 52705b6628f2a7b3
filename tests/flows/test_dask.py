"""The scan flow on a 2-worker local Dask cluster gives exactly the in-process leads.

One domain (the subsidy rules, partitioned by person, and their peer models) keeps the test to
the fixed cost of starting worker processes; the partitioning and the reduce step are the same
for both domains.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytestmark = pytest.mark.slow


def test_dask_run_matches_the_in_process_scan(tiny_city_dir, tmp_path):
    pytest.importorskip("prefect_dask")
    from fundwatch import pipeline
    from fundwatch.flows.dask import dask_task_runner
    from fundwatch.flows.scan import scan

    inline_out, on_dask = tmp_path / "inline", tmp_path / "dask"
    pipeline.run_scan(pipeline.ScanRequest(str(tiny_city_dir / "input"), str(inline_out), domains=("subsidy",)))
    run = scan.with_options(task_runner=dask_task_runner("local"))(
        input_dir=str(tiny_city_dir / "input"), out_dir=str(on_dask), partitions=2, domain="subsidy"
    )
    assert run["orchestrator"] == "dask"
    a = pl.read_parquet(inline_out / "leads.parquet")
    b = pl.read_parquet(on_dask / "leads.parquet")
    assert a.height > 0 and set(a["domain"]) == {"subsidy"}
    assert_frame_equal(a, b)
