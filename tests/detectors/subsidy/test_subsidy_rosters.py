"""OFFICIAL_RECIPIENT and ASSET_OWNER_RECIPIENT."""

import datetime as dt

from fundwatch.detectors.subsidy import AssetOwnerRecipientRule, OfficialRecipientRule


def _official(pid, role="village_cadre", start=dt.date(2020, 1, 1), end=None):
    return {"person_id": pid, "role": role, "organization": "某村委会", "region_code": "510302001001",
            "start_date": start, "end_date": end}


def test_official_serving_during_period(kit, ids):
    serving, former, later, elder = ids["mid1"], ids["mid2"], ids["mid3"], ids["old1"]
    ds = kit.frames(
        officials=[
            _official(serving, "civil_servant", end=dt.date(2025, 3, 1)),  # serves 1 day of 2025-03
            _official(serving, "village_cadre", start=dt.date(2024, 1, 1)),  # two roles: one record per payment
            _official(former, end=dt.date(2024, 12, 31)),  # ended before the periods
            _official(later, start=dt.date(2025, 7, 1)),  # starts after
            _official(elder),  # serving, but the type does not exclude officials
        ],
        disbursements=[
            kit.pay("S1", serving, "2025-03", 410.0),
            kit.pay("S2", serving, "2025-04", 410.0, subsidy_type="最低生活保障"),
            kit.pay("F1", former, "2025-01", 410.0),
            kit.pay("L1", later, "2025-06", 410.0),
            kit.pay("E1", elder, "2025-03", 100.0, subsidy_type="elderly_allowance"),
        ],
    )
    f = OfficialRecipientRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {serving}
    assert found[serving]["record_ids"] == ["S1", "S2"]
    assert found[serving]["amount_at_risk"] == 820.0
    assert "公务员" in found[serving]["evidence_zh"] and "村(社区)干部" in found[serving]["evidence_zh"]


def test_asset_owner_registered_before_period(kit, ids):
    car, shop, late, house = ids["mid1"], ids["mid2"], ids["mid3"], ids["old1"]
    ds = kit.frames(
        assets=[
            {"person_id": car, "asset_type": "vehicle", "registered_date": dt.date(2024, 5, 1), "value": 80000.0},
            {"person_id": shop, "asset_type": "business", "registered_date": dt.date(2025, 2, 28), "value": None},
            {"person_id": late, "asset_type": "vehicle", "registered_date": dt.date(2025, 3, 1), "value": 1.0},
            {"person_id": house, "asset_type": "property", "registered_date": dt.date(2010, 1, 1), "value": 1.0},
        ],
        disbursements=[
            kit.pay("C1", car, "2025-01", 410.0),
            kit.pay("C2", car, "2025-02", 100.0, subsidy_type="elderly_allowance"),  # not excluded type
            kit.pay("P1", shop, "2025-02", 410.0),  # registered during the period: not before it
            kit.pay("P2", shop, "2025-03", 410.0),
            kit.pay("L1", late, "2025-03", 410.0),  # registered on the first day: not before
            kit.pay("H1", house, "2025-03", 410.0),
        ],
    )
    f = AssetOwnerRecipientRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {car, shop}
    assert found[car]["record_ids"] == ["C1"]
    assert found[shop]["record_ids"] == ["P2"]
    assert "工商" in found[shop]["evidence_zh"]
    # property counts when the setting says so
    f2 = AssetOwnerRecipientRule(excluding_asset_types=("vehicle", "business", "property")).fit_detect(ds)
    assert house in set(f2["entity_id"])


def test_empty(kit):
    assert OfficialRecipientRule().fit_detect(kit.frames()).height == 0
    assert AssetOwnerRecipientRule().fit_detect(kit.frames()).height == 0


def test_asset_subtype_deregistration_and_value(kit, ids):
    """The issue's case: asset rules ignored value, subtype and deregistration."""
    tractor, sold, cheap, car, dereg_in = ids["mid1"], ids["mid2"], ids["mid3"], ids["old1"], ids["old2"]

    def asset(pid, **kw):
        return {"person_id": pid, "asset_type": "vehicle", "registered_date": dt.date(2020, 1, 1),
                "value": 80000.0, "subtype": "car", "deregistered_date": None, **kw}

    ds = kit.frames(
        assets=[
            asset(tractor, subtype="farm_vehicle"),
            asset(sold, deregistered_date=dt.date(2025, 2, 28)),  # gone before March
            asset(dereg_in, deregistered_date=dt.date(2025, 3, 1)),  # still held on 1 March
            asset(cheap, value=30000.0),
            asset(car),
        ],
        disbursements=[kit.pay(f"P{i}", p, "2025-03", 410.0) for i, p in enumerate([tractor, sold, cheap, car, dereg_in])],
    )
    assert set(AssetOwnerRecipientRule().fit_detect(ds)["entity_id"]) == {car, dereg_in, cheap}
    # a local line of 30,000: a car worth exactly that does not count, one fen more does
    assert set(AssetOwnerRecipientRule(asset_min_value=30000.0).fit_detect(ds)["entity_id"]) == {car, dereg_in}
    assert cheap in set(AssetOwnerRecipientRule(asset_min_value=29999.99).fit_detect(ds)["entity_id"])
