"""DELAYED_PAYMENT: paid more than 90 days after the period began; entity = operator."""

import datetime as dt

from fundwatch.detectors.subsidy import DelayedPaymentRule


def test_delays_grouped_by_operator(kit, ids):
    a, b = ids["old1"], ids["old2"]
    ds = kit.frames(
        disbursements=[
            kit.pay("A1", a, "2025-01", 410.0, operator_id="OP1", batch_id="B1", pay_date=dt.date(2025, 4, 1)),  # 90 days
            kit.pay("A2", a, "2025-01", 100.0, subsidy_type="elderly_allowance", operator_id="OP1",
                    batch_id="B1", pay_date=dt.date(2025, 4, 2)),  # 91 days
            kit.pay("A3", b, "2025-02", 410.0, operator_id="OP1", batch_id="B2", pay_date=dt.date(2026, 2, 1)),  # a year
            kit.pay("B1", b, "2025-03", 410.0, operator_id="OP2", pay_date=dt.date(2025, 4, 20)),  # weeks late
        ]
    )
    f = DelayedPaymentRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {"OP1"}
    r = found["OP1"]
    assert r["entity_type"] == "operator"
    assert r["record_ids"] == ["A2", "A3"]
    assert r["amount_at_risk"] == 510.0
    assert r["score"] == 1.0  # 365 days
    assert "365" in r["evidence_zh"]


def test_score_is_lower_just_past_threshold(kit, ids):
    a = ids["old1"]
    ds = kit.frames(disbursements=[kit.pay("A1", a, "2025-01", 410.0, pay_date=dt.date(2025, 4, 5))])
    f = DelayedPaymentRule().fit_detect(ds)
    assert 0.5 <= f["score"][0] < 0.6
    assert DelayedPaymentRule(max_delay_days=120).fit_detect(ds).height == 0


def test_empty(kit):
    assert DelayedPaymentRule().fit_detect(kit.frames()).height == 0
