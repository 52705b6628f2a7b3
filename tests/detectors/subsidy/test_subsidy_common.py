"""The subsidy rules as a family: construction from settings, interface, shared helpers."""

import polars as pl
import pytest
from sklearn.base import clone

from fundwatch.detectors.base import FINDINGS_SCHEMA, MissingDatasetError
from fundwatch.detectors.registry import detector_classes
from fundwatch.detectors.subsidy import build_detectors
from fundwatch.detectors.subsidy._common import age_on, money
from fundwatch.rules_catalog import RULES
from fundwatch.settings import DEFAULT_SETTINGS, Settings

RULE_CLASSES = detector_classes("subsidy")


def test_every_subsidy_rule_code_has_a_detector():
    codes = {c for cls in RULE_CLASSES for c in cls.codes}
    expected = {c for c, r in RULES.items() if r.domain == "subsidy" and r.kind == "rule"}
    assert codes == expected


def test_build_detectors_uses_settings():
    s = Settings(subsidy=DEFAULT_SETTINGS.subsidy.model_copy(update={"max_delay_days": 30}))
    dets = {d.name(): d for d in build_detectors(s)}
    assert len(dets) == len(RULE_CLASSES)
    assert dets["DelayedPaymentRule"].max_delay_days == 30
    assert all(d.domain == "subsidy" and d.kind == "rule" for d in dets.values())


@pytest.mark.parametrize("cls", RULE_CLASSES, ids=lambda c: c.__name__)
def test_interface(cls, kit):
    det = cls()
    assert clone(det).get_params() == det.get_params()
    assert cls.requires[-1] == "disbursements"
    with pytest.raises(MissingDatasetError):
        det.fit({"disbursements": kit.table("disbursements", [])} if len(cls.requires) > 1 else {})
    ds = kit.frames(disbursements=[kit.pay("D1", kit.make_id(), "2025-01", 10.0)])
    out = det.fit(ds).detect(ds)
    assert out.schema == FINDINGS_SCHEMA
    assert det.n_records_seen_ == 1
    # LazyFrames are accepted as well
    lazy_out = cls().fit_detect({k: v.lazy() for k, v in ds.items()})
    assert lazy_out.equals(out)


def test_money_text():
    df = pl.DataFrame({"x": [0.0, 5.5, 1640.0, 1234567.891, 999.999, -12.5]})
    assert df.select(money(pl.col("x"))).to_series().to_list() == [
        "0.00", "5.50", "1,640.00", "1,234,567.89", "1,000.00", "-12.50"
    ]


def test_age_on_birthday_boundaries():
    import datetime as dt

    df = pl.DataFrame({"b": [dt.date(1945, 3, 1), dt.date(1945, 3, 2), dt.date(2000, 2, 29)],
                       "d": [dt.date(2025, 3, 1)] * 3})
    assert df.select(age_on(pl.col("b"), pl.col("d"))).to_series().to_list() == [80, 79, 25]

