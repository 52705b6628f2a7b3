"""HOUSEHOLD_MEANS_TEST: a member's job or assets disqualify a means-tested household."""

import datetime as dt

from fundwatch.detectors.subsidy import HouseholdMeansTestRule


def _std(kit):
    rows = [
        {**kit.standard("min_living", "最低生活保障", 600.0, excludes_officials=True, excludes_asset_owners=True),
         "means_test": True},
        # an elderly allowance: not means-tested, the son's job does not matter
        {**kit.standard("elderly_allowance", "高龄津贴", 100.0, min_age=80), "means_test": False},
    ]
    return rows


def _official(pid, start, end=None):
    return {"person_id": pid, "role": "village_cadre", "organization": "某村委会", "region_code": "510302001001",
            "start_date": start, "end_date": end}


def _asset(pid, **kw):
    return {"person_id": pid, "asset_type": "vehicle", "registered_date": dt.date(2020, 1, 1), "value": 90000.0,
            "subtype": "car", "deregistered_date": None, **kw}


def test_member_official_or_asset_disqualifies_the_household(kit, ids):
    ben1, cadre, ben2, son, ben3, other, ben4, tractor = (
        ids["old1"], ids["mid1"], ids["old2"], ids["mid2"], ids["old3"], ids["mid3"],
        kit.make_id(birth="19300101", seq=41), kit.make_id(birth="19600101", seq=43))
    persons = [{**kit.person(ben1, "H1"), "relation": "parent"}, {**kit.person(cadre, "H1"), "relation": "head"},
               {**kit.person(ben2, "H2"), "relation": "head"}, {**kit.person(son, "H2"), "relation": "child"},
               {**kit.person(ben3, "H3"), "relation": "head"}, {**kit.person(other, "H9"), "relation": "head"},
               {**kit.person(ben4, "H4"), "relation": "head"}, {**kit.person(tractor, "H4"), "relation": "child"}]
    ds = kit.frames(
        subsidy_standards=_std(kit),
        persons=persons,
        officials=[_official(cadre, dt.date(2024, 1, 1)), _official(other, dt.date(2024, 1, 1))],
        assets=[_asset(son, deregistered_date=dt.date(2025, 4, 1)), _asset(tractor, subtype="farm_vehicle")],
        disbursements=[
            kit.pay("A1", ben1, "2025-03", 600.0),
            kit.pay("A2", ben1, "2025-03", 100.0, subsidy_type="elderly_allowance"),  # not means-tested
            kit.pay("B1", ben2, "2025-03", 600.0),  # the son's car still registered on 1 March
            kit.pay("B2", ben2, "2025-05", 600.0),  # deregistered in April: May is fine
            kit.pay("C1", ben3, "2025-03", 600.0),  # the official is of another household
            kit.pay("D1", ben4, "2025-03", 600.0),  # a farm vehicle is exempt
            kit.pay("E1", cadre, "2025-03", 600.0),  # the official himself: OFFICIAL_RECIPIENT's case
        ],
    )
    f = HouseholdMeansTestRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {ben1, ben2}
    assert found[ben1]["record_ids"] == ["A1"] and found[ben1]["amount_at_risk"] == 600.0
    assert found[ben2]["record_ids"] == ["B1"]
    assert "户主" in found[ben1]["evidence_zh"] and "村(社区)干部" in found[ben1]["evidence_zh"]
    assert "车辆" in found[ben2]["evidence_zh"]


def test_official_boundary_service_ending_before_the_period(kit, ids):
    ben, cadre = ids["old1"], ids["mid1"]
    ds = kit.frames(
        subsidy_standards=_std(kit),
        persons=[kit.person(ben, "H1"), kit.person(cadre, "H1")],
        officials=[_official(cadre, dt.date(2020, 1, 1), dt.date(2025, 2, 28))],
        disbursements=[kit.pay("M", ben, "2025-03", 600.0), kit.pay("F", ben, "2025-02", 600.0)],
    )
    f = HouseholdMeansTestRule().fit_detect(ds)
    assert f["record_ids"].to_list() == [["F"]]


def test_without_means_test_column_it_is_skipped(kit):
    from fundwatch.detectors.base import skip_reason

    ds = kit.frames()
    ds["subsidy_standards"] = ds["subsidy_standards"].drop("means_test")
    assert skip_reason(HouseholdMeansTestRule, ds) == "column subsidy_standards.means_test absent"
