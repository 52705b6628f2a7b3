"""OVER_STANDARD and INELIGIBLE_AGE, and the applicable-standard lookup they share."""

import datetime as dt

import polars as pl
import pytest

from fundwatch.detectors.subsidy import IneligibleAgeRule, OverStandardRule
from fundwatch.detectors.subsidy._common import attach_standard, resolve_type, standards_frame


@pytest.fixture
def county_standards(kit):
    return [
        kit.standard("min_living", "最低生活保障", 410.0),
        # county 510302 raises the standard from 2025-01; 510303 from 2024 to 2024-12 only
        kit.standard("min_living", "最低生活保障", 500.0, prefix="510302", valid_from="2025-01"),
        kit.standard("min_living", "最低生活保障", 460.0, prefix="510303", valid_from="2024-01", valid_to="2024-12"),
        kit.standard("farmland", "耕地地力保护补贴", 120.0, unit="mu_year"),
        kit.standard("elderly_allowance", "高龄津贴", 100.0, min_age=80),
        kit.standard("child", "儿童补贴", 200.0, max_age=17),
    ]


def test_standard_lookup_longest_prefix_and_validity(kit, county_standards):
    ds = kit.frames(subsidy_standards=county_standards)
    disb = pl.DataFrame(
        {
            "subsidy_type": ["min_living", "min_living", "min_living", "最低生活保障", "min_living", "unknown"],
            "region_code": ["510302001001", "510302001001", "510303001001", "510303001001", "510399001001", "510302001001"],
            "period": ["2025-03", "2024-12", "2024-06", "2025-01", "2025-03", "2025-03"],
        }
    )
    std = standards_frame(ds)
    disb = disb.with_row_index("i")
    out = attach_standard(resolve_type(disb.lazy(), std), std).collect().sort("i")  # joins may reorder
    assert out["type_code"].to_list()[3] == "min_living"
    assert out["std_amount"].to_list() == [500.0, 410.0, 460.0, 410.0, 410.0, None]
    assert out["std_region_prefix"].to_list() == ["510302", "*", "510303", "*", "*", None]
    assert out.height == disb.height


def test_over_standard_excess_and_county_override(kit, ids, county_standards):
    a, b, c = ids["mid1"], ids["mid2"], ids["mid3"]
    ds = kit.frames(
        subsidy_standards=county_standards,
        disbursements=[
            # county override: 500 is the standard in 510302 in 2025 -> not over
            kit.pay("B1", b, "2025-03", 500.0, region_code="510302001001"),
            # the same 500 in a county at the default 410 -> 90 over
            kit.pay("A1", a, "2025-03", 500.0, region_code="510399001001"),
            # within tolerance
            kit.pay("C1", c, "2025-03", 410.01, region_code="510399001001"),
            # quantity 3 months: 1230 expected, 1300 paid -> 70 over
            kit.pay("A2", a, "2025-04", 1300.0, region_code="510399001001", quantity=3.0),
            # name instead of code, 600 in the overridden county -> 100 over
            kit.pay("A3", a, "2025-05", 600.0, subsidy_type="最低生活保障", region_code="510302001001"),
        ],
    )
    f = OverStandardRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    r = found[a]
    assert r["record_ids"] == ["A1", "A2", "A3"]
    assert r["record_amounts"] == pytest.approx([90.0, 70.0, 100.0])
    assert r["amount_at_risk"] == pytest.approx(260.0)
    assert 0.5 <= r["score"] < 1.0


def test_over_standard_score_grows_with_excess(kit, ids):
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(disbursements=[kit.pay("A1", a, "2025-03", 411.0), kit.pay("B1", b, "2025-03", 820.0)])
    found = kit.by_entity(OverStandardRule().fit_detect(ds))
    assert found[a]["score"] < found[b]["score"] == 1.0


def test_over_standard_tolerance_setting(kit, ids):
    a = ids["mid1"]
    ds = kit.frames(disbursements=[kit.pay("A1", a, "2025-03", 415.0)])
    assert OverStandardRule().fit_detect(ds).height == 1
    assert OverStandardRule(amount_tolerance=10.0).fit_detect(ds).height == 0


def test_ineligible_age_limits_and_exact_limit(kit, county_standards):
    young = kit.make_id(birth="19500301", seq=31)   # 75 in 2025-03
    exact = kit.make_id(birth="19450301", seq=33)   # turns 80 on 2025-03-01: eligible for 2025-03
    almost = kit.make_id(birth="19450302", seq=35)  # still 79 on 2025-03-01
    child_ok = kit.make_id(birth="20080301", seq=37)  # exactly 17 on 2025-03-01
    child_old = kit.make_id(birth="20070301", seq=39)  # 18
    ds = kit.frames(
        subsidy_standards=county_standards,
        persons=[kit.person(p, f"H{i}") for i, p in enumerate([young, exact, almost, child_ok, child_old])],
        disbursements=[
            kit.pay("Y1", young, "2025-03", 100.0, subsidy_type="elderly_allowance"),
            kit.pay("Y2", young, "2025-04", 100.0, subsidy_type="高龄津贴"),
            kit.pay("Y3", young, "2025-04", 410.0, subsidy_type="min_living"),  # no age limit
            kit.pay("E1", exact, "2025-03", 100.0, subsidy_type="elderly_allowance"),
            kit.pay("M1", almost, "2025-03", 100.0, subsidy_type="elderly_allowance"),
            kit.pay("M2", almost, "2025-04", 100.0, subsidy_type="elderly_allowance"),
            kit.pay("K1", child_ok, "2025-03", 200.0, subsidy_type="child"),
            kit.pay("K2", child_old, "2025-03", 200.0, subsidy_type="child"),
        ],
    )
    f = IneligibleAgeRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {young, almost, child_old}
    assert found[young]["record_ids"] == ["Y1", "Y2"]
    assert found[young]["amount_at_risk"] == 200.0
    assert found[almost]["record_ids"] == ["M1"]  # 80 by 2025-04-01
    assert found[child_old]["record_ids"] == ["K2"]
    assert found[young]["score"] > found[almost]["score"]  # 5 years short vs 1
    assert "75" in found[young]["evidence_zh"]


def test_age_prefers_register_birth_date_else_id_digits(kit):
    # register says 1940 (eligible) although the number encodes 1960
    pid = kit.make_id(birth="19600101", seq=41)
    unregistered = kit.make_id(birth="19600101", seq=43)
    ds = kit.frames(
        persons=[kit.person(pid, "H1", birth=dt.date(1940, 1, 1))],
        disbursements=[
            kit.pay("P1", pid, "2025-03", 100.0, subsidy_type="elderly_allowance"),
            kit.pay("U1", unregistered, "2025-03", 100.0, subsidy_type="elderly_allowance"),
        ],
    )
    f = IneligibleAgeRule().fit_detect(ds)
    assert f["entity_id"].to_list() == [unregistered]
    del ds["persons"]
    assert sorted(IneligibleAgeRule().fit_detect(ds)["entity_id"].to_list()) == sorted([pid, unregistered])


def test_empty(kit):
    assert OverStandardRule().fit_detect(kit.frames()).height == 0
    assert IneligibleAgeRule().fit_detect(kit.frames()).height == 0
    assert OverStandardRule().fit_detect(kit.frames(subsidy_standards=[])).height == 0
