"""Dataset access helpers of ``detectors.base``: detectors see the contract's types."""

from __future__ import annotations

import polars as pl

from fundwatch.detectors.base import lazy, lazy_held, lazy_rows
from fundwatch.memory import compact


def _items() -> dict[str, pl.DataFrame]:
    return {"claim_items": pl.DataFrame({
        "claim_id": ["C1", "C1", "C2"], "item_code": ["D1", "D2", "D1"], "item_name": ["a", "b", "a"],
        "category": ["drug", "drug", "drug"], "quantity": [1.0, 9.0, 3.0],
    })}


def test_lazy_gives_text_for_compacted_columns_and_lazy_held_does_not():
    packed = compact(_items())
    assert lazy(packed, "claim_items").collect_schema()["item_code"] == pl.String
    assert lazy_held(packed, "claim_items").collect_schema()["item_code"] == pl.Categorical


def test_lazy_rows_filters_before_restoring_text_and_agrees_with_plain_frames():
    pred = (pl.col("item_code").cast(pl.String) == "D1") & (pl.col("quantity") > 2)
    plain = lazy_rows(_items(), "claim_items", pred).collect()
    packed = lazy_rows(compact(_items()), "claim_items", pred).collect()
    assert plain.rows() == packed.rows() == [("C2", "D1", "a", "drug", 3.0)]
    assert packed.schema == plain.schema


# -- required (v2) columns -------------------------------------------------------------------
import pytest  # noqa: E402

from fundwatch.detectors.base import (  # noqa: E402
    Detector,
    MissingColumnError,
    MissingDatasetError,
    empty_findings,
    missing_inputs,
    optional_column,
    skip_reason,
)


class _NeedsIndication(Detector):
    """A toy rule that cannot run without item_catalog.indication and claims.secondary_diagnoses."""

    domain = "medical"
    codes = ("TOY_INDICATION",)
    requires = ("claims", "claim_items")
    requires_columns = {"item_catalog": ("indication",), "claims": ("secondary_diagnoses",)}

    def _detect(self, datasets):
        return empty_findings()


def _medical(with_v2: bool) -> dict[str, pl.DataFrame]:
    claims = pl.DataFrame({"claim_id": ["C1"], "diagnosis_code": ["E11.9"]})
    catalog = pl.DataFrame({"item_code": ["D015"]})
    if with_v2:
        claims = claims.with_columns(secondary_diagnoses=pl.lit("I10"))
        catalog = catalog.with_columns(indication=pl.lit("E11"))
    return {"claims": claims, "claim_items": _items()["claim_items"], "item_catalog": catalog}


def test_absent_required_column_raises_naming_dataset_and_column():
    det = _NeedsIndication()
    with pytest.raises(MissingColumnError) as err:
        det.fit(_medical(with_v2=False))
    assert err.value.missing_columns == [("item_catalog", "indication"), ("claims", "secondary_diagnoses")]
    assert "item_catalog.indication" in str(err.value) and "claims.secondary_diagnoses" in str(err.value)
    assert isinstance(err.value, MissingDatasetError)  # skipped wherever absent datasets are
    assert det.fit_detect(_medical(with_v2=True)).height == 0


def test_absent_dataset_named_in_requires_columns_is_a_missing_dataset():
    data = _medical(with_v2=True)
    del data["item_catalog"]
    with pytest.raises(MissingDatasetError) as err:
        _NeedsIndication().fit(data)
    assert not isinstance(err.value, MissingColumnError) and err.value.missing == ["item_catalog"]


def test_skip_reason_names_what_is_absent_in_both_languages():
    data = _medical(with_v2=False)
    assert skip_reason(_NeedsIndication, data) == (
        "column item_catalog.indication absent; column claims.secondary_diagnoses absent"
    )
    assert skip_reason(_NeedsIndication(), data, lang="zh") == (
        "「医保目录及限定」缺少「限定诊断」列；「医保结算」缺少「其他诊断」列"
    )
    assert skip_reason(_NeedsIndication, _medical(with_v2=True)) is None
    # lazy and compacted frames are read by schema only
    lazy_data = {k: compact({k: v})[k].lazy() for k, v in _medical(with_v2=True).items()}
    assert not missing_inputs(_NeedsIndication, lazy_data)
    no_items = {k: v for k, v in data.items() if k != "claim_items"}
    assert skip_reason(_NeedsIndication, no_items) == (
        "dataset(s) claim_items absent; column item_catalog.indication absent; column claims.secondary_diagnoses absent"
    )


def test_optional_column_is_a_typed_null_when_absent():
    plain = {"disbursements": pl.DataFrame({"disbursement_id": ["F1", "F2"]})}
    got = lazy(plain, "disbursements").select(optional_column(plain, "disbursements", "proxy_id")).collect()
    assert got.schema == pl.Schema({"proxy_id": pl.String}) and got.get_column("proxy_id").null_count() == 2
    days = lazy(plain, "disbursements").select(optional_column(plain, "disbursements", "payment_type")).collect()
    assert days.columns == ["payment_type"]
    given = {"disbursements": plain["disbursements"].with_columns(proxy_id=pl.lit("X"))}
    got = lazy(given, "disbursements").select(optional_column(given, "disbursements", "proxy_id")).collect()
    assert got.get_column("proxy_id").to_list() == ["X", "X"]
