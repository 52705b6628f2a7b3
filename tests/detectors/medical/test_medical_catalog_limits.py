"""GENDER_LIMIT and AGE_LIMIT against the catalogue; the right sex and exactly-at-limit ages do not fire."""

from medical_frames import D, by_entity, catalog_row, claim, datasets, item, person, pid

from fundwatch.detectors.medical import AgeLimitRule, GenderLimitRule

MAN = pid("19700101", 11)
WOMAN = pid("19720101", 22)
UNLISTED_MAN = pid("19800101", 33)  # not in persons: sex from the 17th digit
CHILD = pid("20150601", 44)  # turns 12 on 2027-06-01
ELDER = pid("19600601", 55)  # turns 65 on 2025-06-01

CATALOG = [
    catalog_row("F1", "exam", gender_limit="F", name="妇科检查"),
    catalog_row("M1", "drug", gender_limit="M", name="前列腺药"),
    catalog_row("K1", "drug", max_age=12, name="小儿退热"),
    catalog_row("O1", "drug", min_age=65, name="老年用药"),
    catalog_row("N1", "drug"),
]


def _data():
    claims = [
        claim("g1", MAN, "C1", D(2025, 1, 3), total=200.0, fund=100.0),
        claim("g2", UNLISTED_MAN, "P1", D(2025, 2, 3), total=100.0, fund=100.0),
        claim("g_ok1", WOMAN, "C1", D(2025, 1, 3)),
        claim("g_ok2", MAN, "C1", D(2025, 1, 4)),
        claim("a1", CHILD, "H1", D(2027, 6, 1)),  # exactly 12: fine
        claim("a2", CHILD, "H1", D(2028, 6, 1), total=100.0, fund=50.0),  # 13: too old
        claim("a3", ELDER, "C1", D(2025, 5, 31), total=100.0, fund=80.0),  # 64: too young
        claim("a4", ELDER, "C1", D(2025, 6, 1)),  # exactly 65: fine
    ]
    items = [
        item("g1", 1, "F1", 2, 50.0, D(2025, 1, 3), "exam"),
        item("g1", 2, "F1", 1, 100.0, D(2025, 1, 3), "exam"),  # two lines on one claim: one record
        item("g1", 3, "N1", 1, 10.0, D(2025, 1, 3)),
        item("g2", 1, "F1", 1, 40.0, D(2025, 2, 3), "exam"),
        item("g_ok1", 1, "F1", 1, 40.0, D(2025, 1, 3), "exam"),
        item("g_ok2", 1, "M1", 1, 40.0, D(2025, 1, 4)),
        item("a1", 1, "K1", 1, 10.0, D(2027, 6, 1)),
        item("a2", 1, "K1", 2, 10.0, D(2028, 6, 1)),
        item("a3", 1, "O1", 1, 30.0, D(2025, 5, 31)),
        item("a4", 1, "O1", 1, 30.0, D(2025, 6, 1)),
    ]
    persons = [person(MAN), person(WOMAN), person(CHILD), person(ELDER)]
    return datasets(persons=persons, catalog=CATALOG, claims=claims, items=items)


def test_gender_limit_finds_the_wrong_sex_only():
    found = by_entity(GenderLimitRule().fit_detect(_data()))
    assert set(found) == {MAN, UNLISTED_MAN}
    f = found[MAN]
    assert f["record_ids"] == ["g1"]
    # 200 CNY of limited items, fund pays half of the claim
    assert f["record_amounts"] == [100.0]
    assert f["region_code"] == "510302001000"
    assert "妇科检查" in f["evidence_zh"] and "male" in f["evidence_en"]
    assert found[UNLISTED_MAN]["record_amounts"] == [40.0]


def test_age_limit_fires_outside_but_not_at_the_limit():
    found = by_entity(AgeLimitRule().fit_detect(_data()))
    assert set(found) == {CHILD, ELDER}
    assert found[CHILD]["record_ids"] == ["a2"]
    assert found[CHILD]["record_amounts"] == [10.0]
    assert "13" in found[CHILD]["evidence_zh"]
    assert found[ELDER]["record_ids"] == ["a3"]
    assert found[ELDER]["record_amounts"] == [24.0]
    for f in found.values():
        assert f["entity_id"] not in f["evidence_zh"] + f["evidence_en"]
