"""GROUP_ADMISSION and CLAIM_DURING_STAY, with their look-alikes."""

import datetime as dt

import pytest

from medical_frames import D, by_entity, claim, datasets, person, pid

from fundwatch.detectors.medical import ClaimDuringStayRule, GroupAdmissionRule

IP = {"visit_type": "inpatient"}


def _villager(k: int, village: str, household: str | None = None) -> dict:
    p = person(pid("19450101", 100 + k))
    p.update(region_code=village, household_id=household or f"HH{k}")
    return p


TWO_BATCHES = ((D(2025, 3, 3), 6), (D(2025, 6, 9), 6))


def _group_data(batches=TWO_BATCHES, family=False, hospital="H2"):
    persons, claims = [], []
    k = 0
    # the organised village: batches of villagers of different households, two days apart at most
    for day, n in batches:
        for j in range(n):
            p = _villager(k, "510302001001", "FAM" if family else None)
            persons.append(p)
            a = day + dt.timedelta(days=j % 3)
            claims.append(claim(f"g{k}", p["person_id"], hospital, a, discharge=a + dt.timedelta(days=8),
                                diagnosis="I63.9", fund=3000.0, **IP))
            k += 1
    # a big village sending someone to H1 about every other day all year: ordinary intake
    for j in range(180):
        p = _villager(1000 + j, "510302001002")
        persons.append(p)
        a = D(2025, 1, 1) + dt.timedelta(days=2 * j)
        claims.append(claim(f"u{j}", p["person_id"], "H1", a, discharge=a + dt.timedelta(days=5), **IP))
    return datasets(persons=persons, claims=claims)


def test_group_admission_fires_for_repeated_batches_of_households():
    found = GroupAdmissionRule().fit_detect(_group_data())
    assert found["entity_id"].to_list() == ["H2"]
    f = found.row(0, named=True)
    assert len(f["record_ids"]) == 12 and f["amount_at_risk"] == 36000.0
    assert "2 批" in f["evidence_zh"] and "2025-03-03" in f["evidence_zh"]


def test_group_admission_names_the_village_when_regions_are_known():
    import polars as pl

    data = _group_data()
    assert "区划 510302001001" in GroupAdmissionRule().fit_detect(data)["evidence_zh"][0]  # no regions (v1)
    data["regions"] = pl.DataFrame({"region_code": ["510302001001"], "name": ["石桥村"], "parent_code": ["510302001"]})
    f = GroupAdmissionRule().fit_detect(data).row(0, named=True)
    assert f["evidence_zh"].startswith("石桥村(510302001001)的") and "石桥村 (510302001001)" in f["evidence_en"]


def test_one_batch_a_family_or_the_ordinary_intake_of_a_big_hospital_do_not():
    assert GroupAdmissionRule().fit_detect(_group_data(batches=((D(2025, 3, 3), 6),))).height == 0
    assert GroupAdmissionRule().fit_detect(_group_data(family=True)).height == 0
    # the ordinary intake alone (no batches at all) never fires, at any gap setting
    assert GroupAdmissionRule(group_gap_days=5).fit_detect(_group_data(batches=())).height == 0


def test_group_min_episodes_setting():
    assert GroupAdmissionRule(group_min_episodes=3).fit_detect(_group_data()).height == 0


A = pid("19500101", 11)
B = pid("19600101", 22)
C = pid("19700101", 33)


def _stay_data():
    cl = [claim("s1", A, "H1", D(2025, 3, 1), discharge=D(2025, 3, 10), fund=3000.0, **IP),
          claim("o_in", A, "C1", D(2025, 3, 5), fund=80.0),  # a doctor's visit elsewhere inside the stay
          claim("o_first", A, "C1", D(2025, 3, 1), fund=50.0),  # the admission day: look-alike
          claim("o_last", A, "P2", D(2025, 3, 10), visit_type="pharmacy"),  # the discharge day
          claim("o_same", A, "H1", D(2025, 3, 6), fund=40.0),  # at the hospital itself
          # interim settlements of one long stay at H2: a pharmacy claim in the second part
          {**claim("t1", B, "H2", D(2025, 1, 1), discharge=D(2025, 1, 31), **IP), "admission_id": "ZY9"},
          {**claim("t2", B, "H2", D(2025, 2, 1), discharge=D(2025, 2, 20), **IP), "admission_id": "ZY9"},
          claim("o_b", B, "P1", D(2025, 2, 10), visit_type="pharmacy", fund=70.0),
          claim("o_b2", B, "P2", D(2025, 2, 12), visit_type="pharmacy", fund=30.0),  # a second day
          # no discharge date: nothing to compare with
          claim("n1", B, "H1", D(2025, 5, 1), discharge=None, settle=D(2025, 5, 30), **IP),
          claim("o_n", B, "P2", D(2025, 5, 10), visit_type="pharmacy"),
          # one day of pharmacy purchases (two receipts) mid-stay: a relative fetching drugs
          claim("s3", C, "H1", D(2025, 6, 1), discharge=D(2025, 6, 12), fund=2000.0, **IP),
          claim("o_c1", C, "P1", D(2025, 6, 5), visit_type="pharmacy", fund=60.0),
          claim("o_c2", C, "P2", D(2025, 6, 5), visit_type="pharmacy", fund=20.0)]
    return datasets(persons=[person(A), person(B), person(C)], claims=cl)


def test_claim_during_stay_strictly_inside_and_elsewhere_only():
    found = by_entity(ClaimDuringStayRule().fit_detect(_stay_data()))
    assert set(found) == {A, B}
    a = dict(zip(found[A]["record_ids"], found[A]["record_amounts"]))
    assert a == {"o_in": 80.0, "s1": 0.0}
    b = dict(zip(found[B]["record_ids"], found[B]["record_amounts"]))
    assert b == {"o_b": 70.0, "o_b2": 30.0, "t1": 0.0, "t2": 0.0}
    assert "城东诊所" in found[A]["evidence_zh"] and "第一人民医院" in found[A]["evidence_zh"]


@pytest.mark.parametrize(("min_days", "fires"), [(1, True), (2, False)])
def test_one_day_of_pharmacy_purchases_is_a_relative_unless_the_setting_says_otherwise(min_days, fires):
    """Boundary of ``during_stay_min_pharmacy_days``: the look-alike person C bought on one day."""
    found = by_entity(ClaimDuringStayRule(during_stay_min_pharmacy_days=min_days).fit_detect(_stay_data()))
    assert (C in found) is fires
