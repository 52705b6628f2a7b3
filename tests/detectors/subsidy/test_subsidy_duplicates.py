"""DUPLICATE_PAYMENT: same person, subsidy type and period paid more than once."""

import datetime as dt

from fundwatch.detectors.subsidy import DuplicatePaymentRule


def test_extra_payments_flagged_first_kept(kit, ids):
    a, b = ids["old1"], ids["old2"]
    ds = kit.frames(
        disbursements=[
            kit.pay("A1", a, "2025-03", 410.0, batch_id="B1", pay_date=dt.date(2025, 3, 10)),
            kit.pay("A2", a, "2025-03", 410.0, batch_id="B2", pay_date=dt.date(2025, 3, 25)),
            kit.pay("A0", a, "2025-03", 410.0, batch_id="B3", pay_date=dt.date(2025, 4, 2)),
            kit.pay("A4", a, "2025-04", 410.0),
            # look-alike: two different types in one month
            kit.pay("B1", b, "2025-03", 410.0, subsidy_type="min_living"),
            kit.pay("B2", b, "2025-03", 100.0, subsidy_type="elderly_allowance"),
        ]
    )
    f = DuplicatePaymentRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    r = found[a]
    # the earliest paid (A1) is the due one (evidence, 0 at risk); the two extras are at risk
    assert r["record_ids"] == ["A0", "A1", "A2"]
    assert r["record_amounts"] == [410.0, 0.0, 410.0]
    assert r["amount_at_risk"] == 820.0
    assert r["score"] == 1.0
    assert "A1" in r["details"]


def test_subsidy_name_and_code_for_same_month_are_duplicates(kit, ids):
    a = ids["old1"]
    ds = kit.frames(
        disbursements=[
            kit.pay("A1", a, "2025-03", 410.0, subsidy_type="min_living", pay_date=dt.date(2025, 3, 1)),
            kit.pay("A2", a, "2025-03", 410.0, subsidy_type="最低生活保障", pay_date=dt.date(2025, 3, 2)),
        ]
    )
    f = DuplicatePaymentRule().fit_detect(ds)
    kit.check(f)
    assert f["record_ids"].to_list() == [["A1", "A2"]]
    assert f["record_amounts"].to_list() == [[0.0, 410.0]]
    assert "最低生活保障" in f["evidence_zh"][0]


def test_same_pay_date_tie_broken_by_id(kit, ids):
    a = ids["old1"]
    rows = [kit.pay(i, a, "2025-03", 50.0 + k, pay_date=dt.date(2025, 3, 9)) for k, i in enumerate(["Z9", "Z1", "Z5"])]
    f = DuplicatePaymentRule().fit_detect(kit.frames(disbursements=rows))
    assert f["record_ids"][0].to_list() == ["Z1", "Z5", "Z9"]
    assert f["record_amounts"][0].to_list() == [0.0, 52.0, 50.0]


def test_works_without_standards(kit, ids):
    a = ids["old1"]
    ds = kit.frames(disbursements=[kit.pay("A1", a, "2025-03", 1.0), kit.pay("A2", a, "2025-03", 1.0)])
    del ds["subsidy_standards"]
    assert DuplicatePaymentRule().fit_detect(ds).height == 1


def test_empty(kit):
    assert DuplicatePaymentRule().fit_detect(kit.frames()).height == 0
