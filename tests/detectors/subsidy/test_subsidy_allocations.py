"""UNPAID_ALLOCATION: allocated money the batch's payments in its region do not account for."""

import datetime as dt

from fundwatch.detectors.subsidy import UnpaidAllocationRule

TOWN = "510302001"


def _alloc(batch, amount, day, region=TOWN, subsidy_type="min_living"):
    return {"batch_id": batch, "subsidy_type": subsidy_type, "region_code": region, "allocated_amount": amount,
            "allocated_date": day}


def _frames(kit, ids, allocations, extra=()):
    a, b = ids["old1"], ids["old2"]
    rows = [
        kit.pay("P1", a, "2025-03", 600.0, batch_id="B3", pay_date=dt.date(2025, 3, 10)),
        kit.pay("P2", b, "2025-03", 600.0, batch_id="B3", pay_date=dt.date(2025, 3, 10)),
        # a batch paid in two instalments three weeks apart
        kit.pay("Q1", a, "2025-04", 600.0, batch_id="B4", pay_date=dt.date(2025, 4, 10)),
        kit.pay("Q2", b, "2025-04", 600.0, batch_id="B4", pay_date=dt.date(2025, 5, 1)),
        # the data run to the end of June
        kit.pay("Z1", a, "2025-06", 600.0, batch_id="B6", pay_date=dt.date(2025, 6, 30)),
        *extra,
    ]
    ds = kit.frames(disbursements=rows)
    ds["allocations"] = kit.table("allocations", allocations)
    return ds


def test_unpaid_remainder_flagged_two_instalments_not(kit, ids):
    ds = _frames(kit, ids, [
        _alloc("B3", 1500.0, dt.date(2025, 3, 5)),  # 300 never paid out
        _alloc("B4", 1200.0, dt.date(2025, 4, 5)),  # paid in two instalments: accounted for
        _alloc("B6", 600.0, dt.date(2025, 6, 25)),
        _alloc("B9", 800.0, dt.date(2025, 3, 1), region="510302"),  # a county allocation with no payment
    ])
    f = UnpaidAllocationRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {f"B3@{TOWN}", "B9@510302"}
    r = found[f"B3@{TOWN}"]
    assert r["entity_type"] == "batch"
    assert r["amount_at_risk"] == 300.0
    assert r["record_ids"] == ["P1", "P2", f"B3@{TOWN}"] and r["record_amounts"] == [0.0, 0.0, 300.0]
    assert found["B9@510302"]["amount_at_risk"] == 800.0


def test_settle_window_boundary(kit, ids):
    # the data end on 30 June; an allocation of 1 May is 60 days old then, of 2 May 59
    for day, flagged in ((dt.date(2025, 5, 1), True), (dt.date(2025, 5, 2), False)):
        ds = _frames(kit, ids, [_alloc("B7", 500.0, day)])
        assert (UnpaidAllocationRule().fit_detect(ds).height == 1) is flagged


def test_returned_payment_is_not_paid_out(kit, ids):
    a = ids["old1"]
    ds = _frames(kit, ids, [_alloc("B3", 1200.0, dt.date(2025, 3, 5))], extra=[
        kit.pay("R1", a, "2025-03", 600.0, batch_id="B3", payment_type="returned", pay_date=dt.date(2025, 3, 20)),
    ])
    f = UnpaidAllocationRule().fit_detect(ds)
    assert f["amount_at_risk"].to_list() == [600.0]
