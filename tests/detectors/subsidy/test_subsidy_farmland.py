"""AREA_INFLATION: farmland quantity above the contracted area."""

import pytest

from fundwatch.detectors.subsidy import AreaInflationRule


def test_area_inflation_and_equal_area_lookalike(kit, ids):
    head, exact, member, nolanded = ids["mid1"], ids["mid2"], ids["mid3"], ids["old1"]
    ds = kit.frames(
        persons=[kit.person(head, "H1"), kit.person(exact, "H2"), kit.person(member, "H3"),
                 kit.person(nolanded, "H4")],
        land=[
            {"household_id": "H1", "person_id": head, "contracted_area_mu": 5.0},
            {"household_id": "H2", "person_id": exact, "contracted_area_mu": 6.5},
            # H3's head in land is someone else: the member's household area is used
            {"household_id": "H3", "person_id": ids["old2"], "contracted_area_mu": 3.0},
        ],
        disbursements=[
            kit.pay("A1", head, "2025-01", 960.0, subsidy_type="farmland", quantity=8.0),
            kit.pay("A2", head, "2025-01", 10.0, subsidy_type="min_living", quantity=8.0),  # not per mu
            kit.pay("E1", exact, "2025-01", 780.0, subsidy_type="耕地地力保护补贴", quantity=6.5),
            kit.pay("M1", member, "2025-01", 480.0, subsidy_type="farmland", quantity=4.0),
            kit.pay("N1", nolanded, "2025-01", 480.0, subsidy_type="farmland", quantity=4.0),
        ],
    )
    f = AreaInflationRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {head, member}
    assert found[head]["record_ids"] == ["A1"]
    assert found[head]["record_amounts"] == [pytest.approx(360.0)]  # (8 - 5) x 120
    assert found[member]["record_amounts"] == [pytest.approx(120.0)]
    assert "确权面积 5 亩" in found[head]["evidence_zh"]


def test_proportional_excess_without_standard(kit, ids):
    head = ids["mid1"]
    ds = kit.frames(
        subsidy_standards=[],
        land=[{"household_id": "H1", "person_id": head, "contracted_area_mu": 4.0}],
        disbursements=[kit.pay("A1", head, "2025-01", 500.0, subsidy_type="farmland", quantity=5.0)],
    )
    f = AreaInflationRule().fit_detect(ds)
    assert f["record_amounts"].to_list() == [[pytest.approx(100.0)]]


def test_tolerance(kit, ids):
    head = ids["mid1"]
    ds = kit.frames(
        land=[{"household_id": "H1", "person_id": head, "contracted_area_mu": 4.0}],
        disbursements=[kit.pay("A1", head, "2025-01", 481.2, subsidy_type="farmland", quantity=4.01)],
    )
    assert AreaInflationRule().fit_detect(ds).height == 0
    assert AreaInflationRule(area_tolerance_mu=0.0).fit_detect(ds).height == 1


def test_empty(kit):
    assert AreaInflationRule().fit_detect(kit.frames()).height == 0
