"""CLAIM_AFTER_DEATH: claims after the earliest death date; stays begun before death do not fire."""

from medical_frames import D, by_entity, claim, datasets, person, pid

from fundwatch.detectors.medical import ClaimAfterDeathRule

DEAD = pid("19500101", 11)
SETTLED_LATE = pid("19550101", 13)
ALIVE = pid("19600101", 22)


def _data():
    deaths = [
        {"person_id": DEAD, "death_date": D(2025, 3, 5), "source": "殡葬"},
        {"person_id": DEAD, "death_date": D(2025, 3, 2), "source": "公安"},  # earliest wins
        {"person_id": SETTLED_LATE, "death_date": D(2025, 3, 2), "source": "卫健"},
    ]
    claims = [
        claim("d1", DEAD, "P1", D(2025, 3, 3), visit_type="pharmacy", fund=20.0),  # between the two dates
        claim("d2", DEAD, "C1", D(2025, 5, 20), fund=3400.0),
        claim("d0", DEAD, "C1", D(2025, 3, 2), fund=99.0),  # on the death day: not after
        claim("d_before", DEAD, "C1", D(2025, 1, 2)),
        # look-alike: admitted before death, discharged and settled after
        claim("s1", SETTLED_LATE, "H1", D(2025, 2, 20), visit_type="inpatient",
              discharge=D(2025, 3, 2), settle=D(2025, 3, 20), fund=5000.0),
        claim("a1", ALIVE, "P1", D(2025, 6, 1)),
    ]
    return datasets(persons=[person(DEAD), person(SETTLED_LATE), person(ALIVE)], deaths=deaths, claims=claims)


def test_claims_after_earliest_death_date_are_found_with_fund_amounts():
    found = by_entity(ClaimAfterDeathRule().fit_detect(_data()))
    assert set(found) == {DEAD}
    f = found[DEAD]
    assert f["rule_code"] == "CLAIM_AFTER_DEATH" and f["entity_type"] == "person"
    assert f["record_ids"] == ["d1", "d2"]
    assert f["record_amounts"] == [20.0, 3400.0]
    assert f["amount_at_risk"] == 3420.0
    assert (f["period_start"], f["period_end"]) == ("2025-03", "2025-05")
    assert f["region_code"] in {"510302002000", "510302001000"}
    assert "2025-03-02" in f["evidence_zh"] and "3,420.00" in f["evidence_zh"]
    assert "Died 2025-03-02" in f["evidence_en"]
    assert DEAD not in f["evidence_zh"] + f["evidence_en"]
    assert 0 <= f["score"] <= 1


def test_grace_days_setting_is_respected():
    found = by_entity(ClaimAfterDeathRule(death_grace_days=5).fit_detect(_data()))
    assert found[DEAD]["record_ids"] == ["d2"]
