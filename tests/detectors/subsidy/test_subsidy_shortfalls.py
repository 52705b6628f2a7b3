"""UNDER_PAYMENT (short of the standard) and EXCLUSIVE_BENEFITS (two of one exclusive group)."""

import datetime as dt

from fundwatch.detectors.subsidy import ExclusiveBenefitsRule, UnderPaymentRule


def _std(kit):
    return [
        {**kit.standard("min_living", "最低生活保障", 600.0), "exclusive_group": "基本生活救助"},
        {**kit.standard("extreme_poverty", "特困人员供养", 900.0), "exclusive_group": "基本生活救助"},
        kit.standard("elderly_allowance", "高龄津贴", 100.0),
    ]


def test_under_payment_boundary_and_look_alikes(kit, ids):
    a, b, c, d, e = ids["old1"], ids["old2"], ids["old3"], ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_std(kit), disbursements=[
        kit.pay("A1", a, "2025-03", 580.0, operator_id="OPA", batch_id="B3"),  # 20 short
        kit.pay("A2", a, "2025-04", 599.0, operator_id="OPA", batch_id="B4"),  # 1.00 short: rounding
        kit.pay("B1", b, "2025-03", 598.99, operator_id="OPB"),  # 1.01 short: just past the tolerance
        kit.pay("C1", c, "2025-03", 300.0, quantity=0.5, operator_id="OPC"),  # pro-rata half month
        kit.pay("D1", d, "2025-07", 570.0, operator_id="OPD"),  # old rate, made up by a top-up
        kit.pay("D2", d, "2025-07", 30.0, payment_type="top_up", operator_id="OPD"),
        kit.pay("E1", e, "2025-03", 600.0, operator_id="OPE", pay_date=dt.date(2025, 3, 1)),  # bounced
        kit.pay("E2", e, "2025-03", 600.0, payment_type="returned", operator_id="OPE", pay_date=dt.date(2025, 3, 5)),
        kit.pay("E3", e, "2025-03", 600.0, operator_id="OPE", pay_date=dt.date(2025, 3, 9)),  # repaid
    ])
    f = UnderPaymentRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {"OPA", "OPB"}
    assert found["OPA"]["record_ids"] == ["A1"] and found["OPA"]["amount_at_risk"] == 20.0
    assert found["OPB"]["amount_at_risk"] == 1.01
    assert found["OPA"]["entity_type"] == "operator"


def test_exclusive_benefits_same_month_not_a_transfer(kit, ids):
    a, b, c, d = ids["old1"], ids["old2"], ids["old3"], ids["mid1"]
    ds = kit.frames(subsidy_standards=_std(kit), disbursements=[
        kit.pay("A1", a, "2025-03", 600.0),
        kit.pay("A2", a, "2025-03", 900.0, subsidy_type="extreme_poverty"),
        # transfer: 低保 to June, 特困 from July
        kit.pay("B1", b, "2025-06", 600.0),
        kit.pay("B2", b, "2025-07", 900.0, subsidy_type="extreme_poverty"),
        # 低保 paid and returned in the month 特困 began
        kit.pay("C1", c, "2025-07", 600.0),
        kit.pay("C2", c, "2025-07", 600.0, payment_type="returned"),
        kit.pay("C3", c, "2025-07", 900.0, subsidy_type="extreme_poverty"),
        # another group: an elderly allowance beside 低保
        kit.pay("D1", d, "2025-03", 600.0),
        kit.pay("D2", d, "2025-03", 100.0, subsidy_type="elderly_allowance"),
    ])
    f = ExclusiveBenefitsRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    # 特困 (the larger) is kept; 低保 is the money paid twice
    assert dict(zip(found[a]["record_ids"], found[a]["record_amounts"])) == {"A1": 600.0, "A2": 0.0}


def test_exclusive_benefit_by_back_pay_month(kit, ids):
    a = ids["old1"]
    ds = kit.frames(subsidy_standards=_std(kit), disbursements=[
        kit.pay("A1", a, "2025-05", 900.0, subsidy_type="extreme_poverty"),
        # 低保 back-paid for March to May: May doubles
        kit.pay("A2", a, "2025-03", 1800.0, quantity=3.0, payment_type="back_pay"),
    ])
    f = ExclusiveBenefitsRule().fit_detect(ds)
    kit.check(f)
    assert f["amount_at_risk"].to_list() == [600.0]
