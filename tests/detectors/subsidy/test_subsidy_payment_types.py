"""Payment types (v2): back-pay per month covered, top-ups against the rise, returns netted."""

import datetime as dt

from fundwatch.detectors.subsidy import DelayedPaymentRule, DuplicatePaymentRule, OverStandardRule

RISE = [
    # 低保 600 to June, 630 from July (a rise)
    {"subsidy_type": "min_living", "name": "最低生活保障", "amount": 600.0, "valid_from": "2025-01",
     "valid_to": "2025-06"},
    {"subsidy_type": "min_living", "name": "最低生活保障", "amount": 630.0, "valid_from": "2025-07"},
]


def _standards(kit):
    return [kit.standard(r["subsidy_type"], r["name"], r["amount"], valid_from=r["valid_from"],
                         valid_to=r.get("valid_to")) for r in RISE] + [
        kit.standard("farmland", "耕地地力保护补贴", 120.0, unit="mu_year")]


def test_three_month_back_pay_is_not_over_standard(kit, ids):
    a = ids["mid1"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-02", 1800.0, quantity=3.0, payment_type="back_pay"),
    ])
    assert OverStandardRule().fit_detect(ds).height == 0


def test_back_pay_over_a_rise_judged_month_by_month(kit, ids):
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        # May, June at 600 and July at 630 = 1830: exactly due
        kit.pay("A1", a, "2025-05", 1830.0, quantity=3.0, payment_type="back_pay"),
        # the same three months paid as 3 × 700: 270 too much
        kit.pay("B1", b, "2025-05", 2100.0, quantity=3.0, payment_type="back_pay"),
    ])
    f = OverStandardRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {b}
    assert found[b]["amount_at_risk"] == 270.0


def test_back_pay_boundary_one_fen_over(kit, ids):
    a = ids["mid1"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-02", 1800.02, quantity=3.0, payment_type="back_pay"),
    ])
    assert OverStandardRule().fit_detect(ds)["amount_at_risk"].to_list() == [0.02]
    ds["disbursements"] = kit.table("disbursements", [
        kit.pay("A1", a, "2025-02", 1800.01, quantity=3.0, payment_type="back_pay")])
    assert OverStandardRule().fit_detect(ds).height == 0


def test_top_up_after_a_rise_is_legitimate_without_one_it_is_not(kit, ids):
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        # July paid at the old 600, then the 30 of the rise
        kit.pay("A1", a, "2025-07", 600.0),
        kit.pay("A2", a, "2025-07", 30.0, payment_type="top_up", pay_date=dt.date(2025, 8, 20)),
        # March: no rise, a 30 "top-up" is money paid beyond the standard
        kit.pay("B1", b, "2025-03", 600.0),
        kit.pay("B2", b, "2025-03", 30.0, payment_type="top_up", pay_date=dt.date(2025, 4, 20)),
    ])
    f = OverStandardRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {b}
    assert found[b]["record_ids"] == ["B2"] and found[b]["amount_at_risk"] == 30.0
    # and a top-up never makes a duplicate
    assert DuplicatePaymentRule().fit_detect(ds).height == 0


def test_retroactive_top_up_is_not_a_duplicate(kit, ids):
    """The issue's case: a ¥30 top-up for a month already paid scored 1.0 as a duplicate."""
    a = ids["mid1"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-07", 600.0),
        kit.pay("A2", a, "2025-07", 30.0, payment_type="top_up"),
    ])
    assert DuplicatePaymentRule().fit_detect(ds).height == 0
    assert OverStandardRule().fit_detect(ds).height == 0


def test_bounced_then_repaid_is_one_payment(kit, ids):
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-03", 600.0, pay_date=dt.date(2025, 3, 10)),
        kit.pay("A2", a, "2025-03", 600.0, payment_type="returned", pay_date=dt.date(2025, 3, 20)),
        kit.pay("A3", a, "2025-03", 600.0, pay_date=dt.date(2025, 3, 28)),
        # paid twice, nothing returned: a duplicate
        kit.pay("B1", b, "2025-03", 600.0, pay_date=dt.date(2025, 3, 10)),
        kit.pay("B2", b, "2025-03", 600.0, pay_date=dt.date(2025, 3, 28)),
    ])
    f = DuplicatePaymentRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {b}
    assert found[b]["amount_at_risk"] == 600.0


def test_back_pay_for_a_month_already_paid_is_a_duplicate(kit, ids):
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        # back-pay for Feb-Apr while March was paid: March twice
        kit.pay("A1", a, "2025-03", 600.0),
        kit.pay("A2", a, "2025-02", 1800.0, quantity=3.0, payment_type="back_pay"),
        # back-pay for Jan-Feb, then regular from March: nothing twice
        kit.pay("B1", b, "2025-01", 1200.0, quantity=2.0, payment_type="back_pay"),
        kit.pay("B2", b, "2025-03", 600.0),
    ])
    f = DuplicatePaymentRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    # one month of the back-pay (600) is the money paid twice
    assert found[a]["amount_at_risk"] == 600.0


def test_farmland_twice_in_one_year_under_two_periods(kit, ids):
    from fundwatch.detectors.subsidy import AnnualDuplicateRule

    a, b, c = ids["mid1"], ids["mid2"], ids["mid3"]
    ds = kit.frames(subsidy_standards=_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-03", 600.0, subsidy_type="farmland", quantity=5.0),
        kit.pay("A2", a, "2025-06", 600.0, subsidy_type="farmland", quantity=5.0),
        # look-alike: one year each
        kit.pay("B1", b, "2024-06", 600.0, subsidy_type="farmland", quantity=5.0),
        kit.pay("B2", b, "2025-06", 600.0, subsidy_type="farmland", quantity=5.0),
        # look-alike: bounced and paid again
        kit.pay("C1", c, "2025-03", 600.0, subsidy_type="farmland", quantity=5.0, pay_date=dt.date(2025, 3, 1)),
        kit.pay("C2", c, "2025-03", 600.0, subsidy_type="farmland", quantity=5.0, payment_type="returned",
                pay_date=dt.date(2025, 3, 9)),
        kit.pay("C3", c, "2025-04", 600.0, subsidy_type="farmland", quantity=5.0, pay_date=dt.date(2025, 4, 2)),
    ])
    f = AnnualDuplicateRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    assert found[a]["record_amounts"] == [0.0, 600.0]
    # the monthly rule leaves annual types to the annual one (one lead, not two)
    assert DuplicatePaymentRule().fit_detect(ds).height == 0


def _delay_standards(kit, **pay_within):
    rows = _standards(kit)
    out = []
    for r in rows:
        r = dict(r)
        r["pay_within_days"] = pay_within.get(r["subsidy_type"])
        out.append(r)
    return out


def test_delay_limit_from_the_standard_boundary(kit, ids):
    a = ids["mid1"]
    # disability-like: 低保 here must be paid within 30 days; 30 is on time, 31 late
    ds = kit.frames(subsidy_standards=_delay_standards(kit, min_living=30), disbursements=[
        kit.pay("A1", a, "2025-03", 600.0, pay_date=dt.date(2025, 3, 31), operator_id="OPA"),
        kit.pay("A2", a, "2025-04", 600.0, pay_date=dt.date(2025, 5, 2), operator_id="OPB"),
    ])
    f = DelayedPaymentRule().fit_detect(ds)
    kit.check(f)
    assert f["entity_id"].to_list() == ["OPB"]
    assert "30" in f["evidence_zh"][0]


def test_default_limit_90_vs_91_days(kit, ids):
    a = ids["mid1"]
    ds = kit.frames(subsidy_standards=_delay_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-01", 600.0, pay_date=dt.date(2025, 4, 1), operator_id="OPA"),  # 90 days
        kit.pay("A2", a, "2025-02", 600.0, pay_date=dt.date(2025, 5, 3), operator_id="OPB"),  # 91 days
    ])
    assert DelayedPaymentRule().fit_detect(ds)["entity_id"].to_list() == ["OPB"]


def test_annual_farmland_in_june_and_back_pay_are_not_late(kit, ids):
    """The issue's cases: annual farmland paid in June and back-pay were flagged."""
    a, b = ids["mid1"], ids["mid2"]
    ds = kit.frames(subsidy_standards=_delay_standards(kit), disbursements=[
        kit.pay("A1", a, "2025-01", 600.0, subsidy_type="farmland", quantity=5.0, pay_date=dt.date(2025, 6, 20)),
        kit.pay("B1", b, "2025-01", 1800.0, quantity=3.0, payment_type="back_pay", pay_date=dt.date(2025, 7, 1)),
        kit.pay("B2", b, "2025-02", 30.0, payment_type="top_up", pay_date=dt.date(2025, 9, 1)),
    ])
    assert DelayedPaymentRule().fit_detect(ds).height == 0
    # an annual subsidy still has a deadline: more than a year
    ds["disbursements"] = kit.table("disbursements", [
        kit.pay("A1", a, "2025-01", 600.0, subsidy_type="farmland", quantity=5.0, pay_date=dt.date(2026, 1, 2))])
    assert DelayedPaymentRule().fit_detect(ds).height == 1


def test_back_pay_reaching_a_month_without_standard_is_not_judged(kit, ids):
    a = ids["mid1"]
    std = [kit.standard("min_living", "最低生活保障", 600.0, valid_from="2025-02")]
    ds = kit.frames(subsidy_standards=std, disbursements=[
        # January has no standard: 1800 for Jan-Mar cannot be compared with 2 × 600
        kit.pay("A1", a, "2025-01", 1800.0, quantity=3.0, payment_type="back_pay"),
    ])
    assert OverStandardRule().fit_detect(ds).height == 0


def test_delays_without_standards_use_the_default(kit, ids):
    a = ids["mid1"]
    ds = kit.frames(disbursements=[
        kit.pay("A1", a, "2025-01", 600.0, pay_date=dt.date(2025, 4, 1), operator_id="OPA"),  # 90 days
        kit.pay("A2", a, "2025-02", 600.0, pay_date=dt.date(2025, 5, 3), operator_id="OPB"),  # 91 days
    ])
    del ds["subsidy_standards"]
    ds["disbursements"] = ds["disbursements"].drop("payment_type", "quantity")
    assert DelayedPaymentRule().fit_detect(ds)["entity_id"].to_list() == ["OPB"]
    assert DuplicatePaymentRule().fit_detect(ds).height == 0


def test_back_pay_with_quantity_left_empty_read_as_whole_months(kit, ids):
    """The issue's case: a 3-month back-pay in one row, quantity empty (loads as 1), was OVER_STANDARD."""
    a, b, c = ids["mid1"], ids["mid2"], ids["mid3"]
    std = [kit.standard("min_living", "最低生活保障", 430.0)]
    ds = kit.frames(subsidy_standards=std, disbursements=[
        kit.pay("A1", a, "2025-02", 1290.0, quantity=1.0, payment_type="back_pay"),  # 3 × 430
        kit.pay("B1", b, "2025-02", 1300.0, quantity=1.0, payment_type="back_pay"),  # not whole months
        kit.pay("C1", c, "2025-02", 430.0 * 25, quantity=1.0, payment_type="back_pay"),  # beyond 24 months
    ])
    f = OverStandardRule().fit_detect(ds)
    assert set(f["entity_id"]) == {b, c}
    assert set(OverStandardRule(back_pay_max_months=25).fit_detect(ds)["entity_id"]) == {b}
