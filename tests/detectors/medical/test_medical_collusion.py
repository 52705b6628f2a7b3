"""COLLUSIVE_GROUP: a planted group among random visitors, a busy pharmacy and a household."""

import datetime as dt
import json
import random

from medical_frames import D, claim, datasets, person, pid

from fundwatch.detectors.medical import CollusiveGroupModel
from fundwatch.detectors.medical.collusion import group_id

START = D(2025, 1, 1)


def _city(seed: int = 3):
    rng = random.Random(seed)
    persons, claims = [], []

    def visit(p, inst, day):
        claims.append(claim(f"c{len(claims):06d}", p, inst, START + dt.timedelta(days=day),
                            visit_type="pharmacy", fund=10.0))

    # 400 random visitors, many of them regulars of the busy pharmacy P1
    for i in range(400):
        p = pid(f"1960{1 + i % 12:02d}{1 + i % 28:02d}", 100 + i)
        persons.append(person(p))
        for _ in range(rng.randint(2, 40)):
            visit(p, rng.choice(["P1", "P1", "P2", "C1"]), rng.randrange(365))
    # two near-daily regulars of P1: they meet there often, as their rates predict
    for i in range(2):
        p = pid("19450101", 900 + 2 * i)
        persons.append(person(p))
        for d in range(365):
            if rng.random() < 0.8:
                visit(p, "P1", d)
    # the group: 6 unrelated people at P2 on 10 days (each comes ~85% of the time)
    group = [pid(f"1950{i + 1:02d}01", 501 + 2 * i) for i in range(6)]
    days = rng.sample(range(365), 10)
    for p in group:
        persons.append(person(p))
        for d in days:
            if rng.random() < 0.85:
                visit(p, "P2", d)
        for _ in range(5):
            visit(p, "P1", rng.randrange(365))
    # a household of 4 shopping together at P1 on 12 days
    family = [pid(f"1970{i + 1:02d}01", 701 + 2 * i) for i in range(4)]
    for p in family:
        persons.append(person(p, household="HH-FAMILY"))
    for d in rng.sample(range(365), 12):
        for p in family:
            visit(p, "P1", d)
    return datasets(persons=persons, claims=claims), group, family


def test_planted_group_found_and_nothing_else():
    ds, group, family = _city()
    findings = CollusiveGroupModel().fit_detect(ds)
    assert findings.height == 1
    f = findings.row(0, named=True)
    details = json.loads(f["details"])
    members = set(details["members"])
    assert len(members & set(group)) >= 0.8 * len(group)
    assert members <= set(group)
    assert not members & set(family)
    assert f["entity_type"] == "group" and f["entity_id"] == group_id(details["members"])
    assert details["institutions"] == ["P2"]
    # every record is a member's claim at P2 on a day at least two members came
    claims = ds["claims"].filter(ds["claims"]["claim_id"].is_in(f["record_ids"]))
    assert set(claims["person_id"]) <= members and set(claims["institution_id"]) == {"P2"}
    assert f["amount_at_risk"] == 10.0 * len(f["record_ids"])
    assert len(f["record_ids"]) == len(set(f["record_ids"]))
    for m in members:
        assert m not in f["evidence_zh"] + f["evidence_en"]


def test_same_household_is_never_linked_but_would_be_without_households():
    ds, group, family = _city()
    unrelated = ds["persons"].with_columns(household_id=ds["persons"]["person_id"])
    findings = CollusiveGroupModel().fit_detect({**ds, "persons": unrelated})
    found = [set(json.loads(d)["members"]) for d in findings["details"]]
    assert any(set(family) <= g for g in found)  # the family is a group when not known as one


def test_group_id_is_stable_and_order_free():
    assert group_id(["b", "a"]) == group_id(["a", "b"])
    assert group_id(["a", "b"]).startswith("G-")


def test_findings_do_not_depend_on_row_order():
    ds, _, _ = _city()
    shuffled = {**ds, "claims": ds["claims"].sample(fraction=1.0, shuffle=True, seed=11),
                "persons": ds["persons"].sample(fraction=1.0, shuffle=True, seed=12)}
    a = CollusiveGroupModel().fit_detect(ds)
    b = CollusiveGroupModel().fit_detect(shuffled)
    assert a.equals(b)
