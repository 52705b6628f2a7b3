"""CADRE_HELD_CARDS and SHARED_ACCOUNT."""

import datetime as dt

from fundwatch.detectors.subsidy import CadreHeldCardsRule, SharedAccountRule


def _cadre(pid):
    return {"person_id": pid, "role": "village_cadre", "organization": "某村委会",
            "region_code": "510302001001", "start_date": dt.date(2018, 1, 1), "end_date": None}


def test_cadre_holding_other_households_cards(kit, ids):
    cadre, relative, v1, v2, plain = ids["mid1"], ids["old1"], ids["old2"], ids["old3"], ids["mid2"]
    ds = kit.frames(
        persons=[kit.person(cadre, "H1"), kit.person(relative, "H1"), kit.person(v1, "H2"),
                 kit.person(v2, "H3"), kit.person(plain, "H4")],
        officials=[_cadre(cadre)],
        disbursements=[
            kit.pay("C0", cadre, "2025-01", 410.0),  # the cadre's own payment
            kit.pay("R1", relative, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),  # same household
            kit.pay("V1", v1, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),
            kit.pay("V2", v1, "2025-02", 100.0, account_no="ACC-C", account_holder_id=cadre),
            kit.pay("W1", v2, "2025-01", 410.0, account_no="ACC-C2", account_holder_id=cadre),
            kit.pay("P1", v2, "2025-02", 410.0, account_no="ACC-P", account_holder_id=plain),  # holder not an official
        ],
    )
    f = CadreHeldCardsRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {cadre}
    r = found[cadre]
    assert r["record_ids"] == ["V1", "W1", "V2"]  # sorted by period, then id
    assert r["amount_at_risk"] == 610.0
    assert abs(r["score"] - 0.9) < 1e-9  # two beneficiaries
    assert "2 名" in r["evidence_zh"]


def test_shared_account_across_households(kit, ids):
    a1, a2, b1, c1, c2 = ids["old1"], ids["old2"], ids["old3"], ids["mid1"], ids["mid2"]
    ds = kit.frames(
        persons=[kit.person(a1, "H1"), kit.person(a2, "H1"), kit.person(b1, "H2"),
                 kit.person(c1, "H3"), kit.person(c2, "H3")],
        disbursements=[
            kit.pay("A1", a1, "2025-01", 100.0, account_no="SHARED"),
            kit.pay("A2", a2, "2025-01", 100.0, account_no="SHARED"),
            kit.pay("B1", b1, "2025-01", 410.0, account_no="SHARED"),
            # look-alike: one household sharing one account
            kit.pay("C1", c1, "2025-01", 100.0, account_no="FAMILY"),
            kit.pay("C2", c2, "2025-01", 100.0, account_no="FAMILY"),
        ],
    )
    f = SharedAccountRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {"SHARED"}
    assert found["SHARED"]["entity_type"] == "account"
    assert found["SHARED"]["record_ids"] == ["A1", "A2", "B1"]
    assert found["SHARED"]["amount_at_risk"] == 610.0
    assert SharedAccountRule(shared_account_min_households=3).fit_detect(ds).height == 0


def test_empty(kit):
    assert CadreHeldCardsRule().fit_detect(kit.frames()).height == 0
    assert SharedAccountRule().fit_detect(kit.frames()).height == 0
