"""Contract v2 in validation: the v2 checks run only where their columns are given, and the
failures name the row (an item's malformed indication names the item)."""

from __future__ import annotations

import polars as pl

from fundwatch.contract import DATASETS, V2_COLUMNS, V2_DATASETS
from fundwatch.expectations import validate

from validation_frames import good_frames


def test_without_v2_columns_the_v2_checks_are_not_run_and_nothing_fails(tmp_path):
    frames = {n: f.drop(DATASETS[n].v2_columns) for n, f in good_frames().items() if n not in V2_DATASETS}
    res = validate(frames, tmp_path, build_docs=False)
    s = res.summary
    assert s.filter(pl.col("success") == False).height == 0  # noqa: E712
    assert not set(s["dataset"]) & set(V2_DATASETS)
    skipped = s.filter(pl.col("skipped").is_not_null())
    assert set(skipped["skipped"]) == {"not run: optional column absent"}
    # every check skipped reads a v2 column, and every dataset with v2 columns had one skipped
    v2 = {c for cols in V2_COLUMNS.values() for c in cols}
    assert skipped.height > 0 and set(skipped["dataset"]) == set(V2_COLUMNS)
    for name in skipped["expectation"]:
        assert any(c in name for c in v2), name
    for name, f in frames.items():
        assert res.datasets[name].equals(f)


def test_malformed_indication_quarantines_the_item_and_names_it(tmp_path):
    cat = good_frames()["item_catalog"].with_columns(
        indication=pl.when(pl.col("item_code") == "IT1").then(pl.lit("E11-E14")).otherwise(pl.col("indication"))
    )
    res = validate({"item_catalog": cat}, tmp_path, build_docs=False)
    q = res.quarantine.to_dicts()
    assert len(q) == 1 and q[0]["raw_value"] == "IT1 | E11-E14" and q[0]["reason"].startswith("indication_icd10_prefixes")
    assert "IT1" not in res.datasets["item_catalog"]["item_code"].to_list()
