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
    # the holder (a1, named as often as the others, smallest id) lives in H1: H1's payments
    # are evidence, only the other household's payment is at risk
    assert found["SHARED"]["record_amounts"] == [0.0, 0.0, 410.0]
    assert SharedAccountRule(shared_account_min_households=3).fit_detect(ds).height == 0


def test_empty(kit):
    assert CadreHeldCardsRule().fit_detect(kit.frames()).height == 0
    assert SharedAccountRule().fit_detect(kit.frames()).height == 0


def test_cadre_with_unknown_household_is_not_flagged(kit, ids):
    """The issue's case: fill_null(True) flagged whenever a household was unknown."""
    cadre, stranger, unregistered = ids["mid1"], ids["old2"], ids["old3"]
    ds = kit.frames(
        persons=[kit.person(cadre, "H1"), kit.person(stranger, "H2")],
        officials=[_cadre(cadre)],
        disbursements=[
            kit.pay("U1", unregistered, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),
            kit.pay("S1", stranger, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),
        ],
    )
    f = CadreHeldCardsRule().fit_detect(ds)
    assert f["record_ids"].to_list() == [["S1"]]


def test_registered_proxy_is_legitimate(kit, ids):
    cadre, v1, v2 = ids["mid1"], ids["old2"], ids["old3"]
    ds = kit.frames(
        persons=[kit.person(cadre, "H1"), kit.person(v1, "H2"), kit.person(v2, "H3")],
        officials=[_cadre(cadre)],
        disbursements=[
            kit.pay("R1", v1, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre, proxy_id=cadre),
            kit.pay("R2", v2, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre, proxy_id=cadre),
            kit.pay("C1", cadre, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),
        ],
    )
    assert CadreHeldCardsRule().fit_detect(ds).height == 0
    assert SharedAccountRule().fit_detect(ds).height == 0
    # the same without the registration: both rules fire
    ds["disbursements"] = ds["disbursements"].with_columns(proxy_id=None)
    assert CadreHeldCardsRule().fit_detect(ds).height == 1
    assert SharedAccountRule().fit_detect(ds).height == 1


def _rel(kit, pid, household, relation):
    return {**kit.person(pid, household), "relation": relation}


def test_child_collecting_for_parents_apart_within_the_limit(kit, ids):
    """The issue's case: a child collecting for parents at two households was a shared account."""
    child = kit.make_id(birth="19750505", seq=31)
    father, mother = kit.make_id(birth="19450101", seq=33), kit.make_id(birth="19470202", seq=34)
    kid = kit.make_id(birth="20050101", seq=35)
    stranger = kit.make_id(birth="19760101", seq=37)  # same generation: no kin
    persons = [_rel(kit, child, "H1", "head"), _rel(kit, kid, "H1", "child"), _rel(kit, father, "H2", "head"),
               _rel(kit, mother, "H3", "head"), _rel(kit, stranger, "H4", "head")]
    rows = [
        kit.pay("K1", kid, "2025-01", 90.0, account_no="ACC", account_holder_id=child),
        kit.pay("F1", father, "2025-01", 100.0, account_no="ACC", account_holder_id=child),
        kit.pay("O1", child, "2025-01", 50.0, account_no="ACC", account_holder_id=child),
    ]
    ds = kit.frames(persons=persons, disbursements=rows)
    # own household and one parents' household: within the default limit of 1
    assert SharedAccountRule().fit_detect(ds).height == 0
    # both parents, each heading a household: beyond the limit of one
    ds["disbursements"] = kit.table("disbursements", rows + [
        kit.pay("M1", mother, "2025-01", 100.0, account_no="ACC", account_holder_id=child)])
    f = SharedAccountRule().fit_detect(ds)
    assert f.height == 1
    # ... but within a limit of two
    assert SharedAccountRule(shared_account_family_households=2).fit_detect(ds).height == 0
    # a stranger of the same generation is no parent
    ds["disbursements"] = kit.table("disbursements", rows + [
        kit.pay("S1", stranger, "2025-01", 100.0, account_no="ACC", account_holder_id=child)])
    f = SharedAccountRule().fit_detect(ds)
    kit.check(f)
    assert dict(zip(f["record_ids"][0], f["record_amounts"][0]))["S1"] == 100.0
    assert f["amount_at_risk"][0] == 100.0


def test_v1_input_without_proxy_or_relation_columns(kit, ids):
    """Absent v2 columns: no registration to honour, no relation to accept; the rules still run."""
    cadre, v1, parent = ids["mid1"], ids["old2"], ids["old3"]
    ds = kit.frames(
        persons=[kit.person(cadre, "H1"), kit.person(v1, "H2"), kit.person(parent, "H3")],
        officials=[_cadre(cadre)],
        disbursements=[
            kit.pay("V1", v1, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre, proxy_id=cadre),
            kit.pay("C1", cadre, "2025-01", 100.0, account_no="ACC-C", account_holder_id=cadre),
        ],
    )
    ds["disbursements"] = ds["disbursements"].drop("proxy_id", "payment_type")
    ds["persons"] = ds["persons"].drop("relation")
    assert CadreHeldCardsRule().fit_detect(ds)["record_ids"].to_list() == [["V1"]]
    f = SharedAccountRule().fit_detect(ds)
    kit.check(f)
    assert f["record_amounts"].to_list() == [[0.0, 100.0]]  # the holder's own payment is evidence
