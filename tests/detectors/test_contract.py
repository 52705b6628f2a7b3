"""One parametrised contract test over every detector (rules and models alike).

The interface promises (detectors/base.py): constructors only store settings; ``fit``
learns attributes ending in ``_``; ``detect`` never mutates; findings in one shape with
scores in [0, 1]; deterministic; a rule that declares ``partition_by`` finds the same things
part by part as on the whole data.
"""

from __future__ import annotations

import pickle

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fundwatch import detectors
from fundwatch.detectors.base import FINDINGS_KEY, FINDINGS_SCHEMA, MissingDatasetError
from fundwatch.contract import DOMAINS, ENTITY_TYPES
from fundwatch.pipeline import partition
from fundwatch.rules_catalog import RULES

ALL = detectors.all_detectors()
IDS = [d.name() for d in ALL]


def _state(obj):
    """What ``detect`` must leave unchanged: our own objects attribute by attribute; a
    third-party estimator (PyOD, scikit-learn) by type and parameters, since its scoring may
    bump internal counters (KD-tree query statistics) that are not learned state."""
    from sklearn.base import BaseEstimator

    if isinstance(obj, (list, tuple)):
        return [_state(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _state(v) for k, v in obj.items()}
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("fundwatch.detectors."):
        return {k: _state(v) for k, v in vars(obj).items()}
    if isinstance(obj, BaseEstimator):
        return (type(obj).__name__, pickle.dumps(obj.get_params(deep=False)))
    return pickle.dumps(obj)


def _inputs(det, city, rule_findings):
    data = dict(city.datasets)
    if det.kind == "model":
        data[FINDINGS_KEY] = rule_findings.filter(pl.col("domain") == det.domain)
    return data


@pytest.fixture(scope="module")
def rule_findings(small_city):
    frames = [d.fit_detect(small_city.datasets) for d in ALL if d.kind == "rule"]
    return pl.concat(frames) if frames else pl.DataFrame(schema=FINDINGS_SCHEMA)


def test_there_are_detectors_for_both_domains():
    assert {d.domain for d in ALL} == set(DOMAINS)
    assert any(d.kind == "model" for d in ALL) and any(d.kind == "rule" for d in ALL)


def test_every_code_is_catalogued_and_emitted_by_one_detector():
    codes = [c for d in ALL for c in d.codes]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(RULES)


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_constructor_only_stores_settings(det):
    params = det.get_params(deep=False)
    assert sorted(params) == type(det).parameter_names()
    assert not [k for k in vars(det) if k.endswith("_") and not k.startswith("_")]
    twin = clone(det)
    assert twin.get_params(deep=False) == params


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_detect_before_fit_raises(det, small_city):
    with pytest.raises(NotFittedError):
        clone(det).detect(small_city.datasets)


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_missing_dataset_is_a_clear_error(det, small_city):
    needed = det.requires[0]
    data = {k: v for k, v in small_city.datasets.items() if k != needed}
    with pytest.raises(MissingDatasetError, match=needed):
        clone(det).fit(data)


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_required_columns_are_contract_columns_and_their_absence_is_a_clear_error(det, small_city):
    from fundwatch.contract import DATASETS
    from fundwatch.detectors.base import MissingColumnError, skip_reason

    for dataset, columns in det.requires_columns.items():
        assert dataset in DATASETS and set(columns) <= set(DATASETS[dataset].column_names), (dataset, columns)
        data = dict(small_city.datasets)
        data[dataset] = data[dataset].drop(columns[0])
        with pytest.raises(MissingColumnError, match=f"{dataset}.{columns[0]}"):
            clone(det).fit(data)
        assert f"column {dataset}.{columns[0]} absent" in skip_reason(det, data)


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_fit_learns_detect_does_not_mutate_and_findings_have_the_shape(det, small_city, rule_findings):
    data = _inputs(det, small_city, rule_findings)
    fitted = clone(det)
    assert fitted.fit(data) is fitted
    learned = [k for k in vars(fitted) if k.endswith("_") and not k.startswith("_")]
    assert "n_records_seen_" in learned
    before = _state(fitted)
    findings = fitted.detect(data)
    assert _state(fitted) == before, "detect() changed the detector"
    assert_frame_equal(findings, fitted.detect(data))

    assert findings.schema == FINDINGS_SCHEMA
    assert findings.height > 0, f"{det.name()} found nothing on a city with planted cases"
    assert set(findings["rule_code"].unique()) <= set(det.codes)
    assert set(findings["domain"].unique()) == {det.domain}
    assert set(findings["entity_type"].unique()) <= set(ENTITY_TYPES)
    declared = {spec.code: spec.entity_type for spec in det.rules}
    emitted = findings.select("rule_code", "entity_type").unique().iter_rows()
    assert all(declared[code] == etype for code, etype in emitted), "entity type differs from its RuleSpec"
    assert findings["score"].is_between(0.0, 1.0).all()
    assert findings["entity_id"].null_count() == 0
    lens = findings.select(
        pl.col("record_ids").list.len().alias("n_ids"),
        pl.col("record_amounts").list.len().alias("n_amounts"),
        (pl.col("amount_at_risk") - pl.col("record_amounts").list.sum()).alias("gap"),
        pl.col("record_amounts").list.min().alias("min_amount"),
    )
    assert (lens["n_ids"] == lens["n_amounts"]).all()
    assert (lens["n_ids"] > 0).all(), "every finding carries its evidence records"
    if det.kind == "rule":  # a rule's money is exactly that of its records
        assert (lens["gap"].abs() < 0.01).all()
    else:  # a model lists at most max_record_ids records, each with its share: the rest is unlisted
        assert (lens["gap"] > -0.01).all(), "listed records carry more money than the finding"
    assert (lens["min_amount"] >= 0).all()
    assert (findings["evidence_zh"].str.len_chars() > 0).all()
    assert (findings["evidence_en"].str.len_chars() > 0).all()


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_deterministic(det, small_city, rule_findings):
    data = _inputs(det, small_city, rule_findings)
    assert_frame_equal(clone(det).fit_detect(data), clone(det).fit_detect(data))


PARTITIONED = [d for d in ALL if d.partition_by]


@pytest.mark.parametrize("det", PARTITIONED, ids=[d.name() for d in PARTITIONED])
def test_partitioned_run_finds_the_same(det, small_city):
    whole = clone(det).fit_detect(small_city.datasets)
    parts = [clone(det).fit_detect(partition(small_city.datasets, det.partition_by, 3, i)) for i in range(3)]
    merged = detectors.conform_findings(pl.concat(parts))
    assert_frame_equal(whole, merged)
