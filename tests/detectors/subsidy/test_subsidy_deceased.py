"""DECEASED_PAYEE: payments for periods after the month of death."""

import datetime as dt

from fundwatch.detectors.subsidy import DeceasedPayeeRule


def test_flags_periods_after_death_month_only(kit, ids):
    a, b = ids["old1"], ids["old2"]
    ds = kit.frames(
        deaths=[{"person_id": a, "death_date": dt.date(2025, 2, 11), "source": "殡葬"}],
        disbursements=[kit.pay(f"A{m}", a, f"2025-0{m}", 410.0) for m in range(1, 7)]
        + [kit.pay("B1", b, "2025-03", 410.0)],
    )
    f = DeceasedPayeeRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {a}
    r = found[a]
    # the death month (2025-02) and before are due; 03..06 are not
    assert r["record_ids"] == ["A3", "A4", "A5", "A6"]
    assert r["record_amounts"] == [410.0] * 4
    assert r["amount_at_risk"] == 1640.0
    assert (r["period_start"], r["period_end"]) == ("2025-03", "2025-06")
    assert r["rule_code"] == "DECEASED_PAYEE" and r["entity_type"] == "person"
    assert r["score"] == 1.0
    assert "2025-02-11" in r["evidence_zh"] and "1,640.00" in r["evidence_zh"]
    assert "1,640.00 CNY" in r["evidence_en"]


def test_payment_for_month_of_death_is_lookalike(kit, ids):
    a = ids["old1"]
    ds = kit.frames(
        deaths=[{"person_id": a, "death_date": dt.date(2025, 2, 28), "source": "公安"}],
        disbursements=[kit.pay("A1", a, "2025-01", 410.0), kit.pay("A2", a, "2025-02", 410.0,
                                                                   pay_date=dt.date(2025, 3, 5))],
    )
    assert DeceasedPayeeRule().fit_detect(ds).height == 0


def test_person_in_several_sources_uses_earliest_date(kit, ids):
    a = ids["old1"]
    ds = kit.frames(
        deaths=[
            {"person_id": a, "death_date": dt.date(2025, 4, 2), "source": "公安"},
            {"person_id": a, "death_date": dt.date(2025, 1, 20), "source": "殡葬"},
            {"person_id": a, "death_date": dt.date(2025, 1, 20), "source": "卫健"},
        ],
        disbursements=[kit.pay(f"A{m}", a, f"2025-0{m}", 100.0) for m in range(1, 5)],
    )
    f = DeceasedPayeeRule().fit_detect(ds)
    kit.check(f)
    assert f.height == 1
    assert f["record_ids"][0].to_list() == ["A2", "A3", "A4"]
    assert "2025-01-20" in f["evidence_zh"][0]


def test_empty_datasets_give_no_findings(kit):
    f = DeceasedPayeeRule().fit_detect(kit.frames())
    kit.check(f)
    assert f.height == 0


def test_result_independent_of_row_order(kit, ids):
    a = ids["old1"]
    rows = [kit.pay(f"A{m}", a, f"2025-0{m}", 100.0 + m) for m in range(1, 7)]
    deaths = [{"person_id": a, "death_date": dt.date(2025, 1, 5), "source": "殡葬"}]
    f1 = DeceasedPayeeRule().fit_detect(kit.frames(deaths=deaths, disbursements=rows))
    f2 = DeceasedPayeeRule().fit_detect(kit.frames(deaths=deaths, disbursements=rows[::-1]))
    assert f1.equals(f2)
    assert f1["record_amounts"][0].to_list() == [102.0, 103.0, 104.0, 105.0, 106.0]
