"""Every expectation fails on a crafted bad row and passes on good data; quarantine reconciles."""

from __future__ import annotations

import re

import polars as pl
import pytest

from fundwatch.expectations import SUITES, dataset_checks, validate
from fundwatch.contract import DATASETS, QUARANTINE_SCHEMA
from fundwatch.settings import DEFAULT_SETTINGS

from validation_frames import MUTATIONS, N_GOOD, good_frames, mutated_frames, not_null_mutations

ALL_MUTATIONS = MUTATIONS + not_null_mutations()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return validate(good_frames(), tmp_path_factory.mktemp("good"), build_docs=False)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    frames, where = mutated_frames(ALL_MUTATIONS)
    result = validate(frames, tmp_path_factory.mktemp("bad"), build_docs=False)
    return frames, where, result


def _row(summary: pl.DataFrame, dataset: str, check: str) -> dict:
    rows = summary.filter((pl.col("dataset") == dataset) & (pl.col("expectation") == check)).to_dicts()
    assert len(rows) == 1, f"{dataset}.{check} not in the summary"
    return rows[0]


def test_good_data_passes_every_expectation(good):
    s = good.summary
    assert s.height > 0 and s.get_column("skipped").is_null().all()
    failed = s.filter(~pl.col("success"))
    assert failed.height == 0, failed.select("dataset", "expectation", "examples").to_dicts()
    assert good.quarantine.height == 0 and good.unusable == {}
    for name, f in good_frames().items():
        assert good.datasets[name].equals(f)


@pytest.mark.parametrize(("dataset", "check", "overrides"), ALL_MUTATIONS, ids=[f"{d}.{c}" for d, c, _ in ALL_MUTATIONS])
def test_expectation_fails_on_its_bad_row(bad, dataset, check, overrides):
    frames, where, result = bad
    r = _row(result.summary, dataset, check)
    row_number = where[(dataset, check)]
    assert r["success"] is False
    assert r["unexpected_count"] >= 1
    assert any(e.startswith(f"row {row_number}:") for e in r["examples"]), r["examples"]
    # the good rows never fail
    assert not any(int(re.match(r"row (\d+):", e).group(1)) <= N_GOOD for e in r["examples"])
    q = result.quarantine.filter(
        (pl.col("dataset") == dataset) & pl.col("reason").str.starts_with(f"{check}:")
    )
    if r["severity"] == "critical":
        assert row_number in q.get_column("row_number").to_list()
        # the bad row's content occurs fewer times among the accepted rows than in the input
        h_in = frames[dataset].hash_rows(seed=1).to_list()
        h_acc = result.datasets[dataset].hash_rows(seed=1).to_list()
        target = h_in[row_number - 1]
        assert h_acc.count(target) < h_in.count(target)
    else:
        assert q.height == 0  # warnings never quarantine


def test_every_row_level_expectation_has_a_failing_case():
    covered = {(d, c) for d, c, _ in ALL_MUTATIONS}
    for name in SUITES:
        active, _ = dataset_checks(name, DEFAULT_SETTINGS, set(DATASETS))
        for check in active:
            if check.level == "row":
                assert (name, check.name) in covered, f"no failing case for {name}.{check.name}"


def test_quarantine_reconciles(bad):
    frames, _, result = bad
    q = result.quarantine
    assert q.schema == QUARANTINE_SCHEMA
    for name, f in frames.items():
        distinct = q.filter(pl.col("dataset") == name).get_column("row_number").n_unique()
        assert f.height == result.datasets[name].height + distinct, name
        assert distinct > 0


def test_invalid_ids_kept_outside_persons(bad):
    frames, where, result = bad
    n = where[("disbursements", "person_id_valid_gb11643")]
    bad_id = frames["disbursements"].row(n - 1, named=True)["person_id"]
    assert bad_id in result.datasets["disbursements"].get_column("person_id").to_list()
    n = where[("persons", "person_id_valid_gb11643")]
    bad_id = frames["persons"].row(n - 1, named=True)["person_id"]
    assert bad_id not in result.datasets["persons"].get_column("person_id").to_list()


def test_money_tolerance_is_inclusive(tmp_path):
    f = good_frames()
    claims = f["claims"].with_columns(
        pl.when(pl.col("claim_id") == "C0").then(10.01).otherwise(pl.col("total_amount")).alias("total_amount")
    )
    items = f["claim_items"].with_columns(pl.lit(10.01).alias("amount"), pl.lit(2.0).alias("quantity"))
    res = validate({"claims": claims, "claim_items": items.head(1)}, tmp_path, build_docs=False)
    assert _row(res.summary, "claims", "total_amount_eq_fund_amount_plus_self_amount")["success"]
    assert _row(res.summary, "claim_items", "amount_eq_quantity_times_unit_price")["success"]
    strict = DEFAULT_SETTINGS.model_copy(update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"money_tolerance": 0.0})})
    res = validate({"claims": claims}, tmp_path, strict, build_docs=False)
    assert not _row(res.summary, "claims", "total_amount_eq_fund_amount_plus_self_amount")["success"]


@pytest.mark.parametrize(("policy", "kept"), [("keep_first", ["x"]), ("keep_none", [])])
def test_duplicate_keys_policy(tmp_path, policy, kept):
    f = good_frames()["institutions"]
    dup = pl.concat([f.head(1).with_columns(pl.lit("x").alias("name")), f.head(1).with_columns(pl.lit("y").alias("name"))])
    settings = DEFAULT_SETTINGS.model_copy(
        update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"quarantine_duplicates": policy})}
    )
    res = validate({"institutions": dup}, tmp_path, settings, build_docs=False)
    assert res.datasets["institutions"].get_column("name").to_list() == kept
    assert res.quarantine.get_column("row_number").to_list() == ([2] if kept else [1, 2])


def test_missing_column_makes_dataset_unusable_and_run_continues(tmp_path):
    f = good_frames()
    res = validate(
        {"claims": f["claims"].drop("fund_amount"), "claim_items": f["claim_items"], "persons": f["persons"]},
        tmp_path,
        build_docs=False,
    )
    assert "claims" in res.unusable and "fund_amount_exists" in res.unusable["claims"]
    assert "claims" not in res.datasets
    assert res.datasets["persons"].height == f["persons"].height
    # the items' check against claims is skipped, not run against an unusable table
    assert _row(res.summary, "claim_items", "claim_exists")["skipped"]
    assert not _row(res.summary, "claims", "fund_amount_exists")["success"]


def test_wrong_type_makes_dataset_unusable(tmp_path):
    f = good_frames()["claims"].with_columns(pl.col("fund_amount").cast(pl.String))
    res = validate({"claims": f}, tmp_path, build_docs=False)
    assert "fund_amount_type" in res.unusable["claims"]
    assert not _row(res.summary, "claims", "fund_amount_type")["success"]


def test_chunks_give_the_same_counts(tmp_path):
    frames, _ = mutated_frames(ALL_MUTATIONS)
    big = pl.concat([frames["claims"]] * 400)  # > one chunk of the minimum size
    small = DEFAULT_SETTINGS.model_copy(
        update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"chunk_rows": 1000})}
    )
    a = validate({"claims": big}, tmp_path / "a", small, build_docs=False)
    b = validate({"claims": big}, tmp_path / "b", build_docs=False)
    cols = ["expectation", "success", "unexpected_count", "element_count"]
    assert a.summary.select(cols).equals(b.summary.select(cols))
    assert a.quarantine.equals(b.quarantine)
