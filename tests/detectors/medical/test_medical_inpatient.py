"""OVERLAPPING_STAYS, SPLIT_ADMISSION, PHANTOM_INPATIENT and their look-alikes."""

from medical_frames import D, by_entity, claim, datasets, item, person, pid

from fundwatch.detectors.medical import OverlappingStaysRule, PhantomInpatientRule, SplitAdmissionRule

IP = {"visit_type": "inpatient"}
OVERLAP = pid("19500101", 11)
TRANSFER = pid("19510101", 13)
SPLIT = pid("19520101", 15)
LATE_READMIT = pid("19530101", 17)
OTHER_DIAG = pid("19540101", 19)
ONCE = pid("19550101", 21)
PHANTOM = pid("19560101", 23)
OBSERVED = pid("19570101", 25)
TREATED = pid("19580101", 27)


def _stays():
    return [
        claim("o1", OVERLAP, "H1", D(2025, 1, 1), discharge=D(2025, 1, 10), fund=1000.0, **IP),
        claim("o2", OVERLAP, "H2", D(2025, 1, 5), discharge=D(2025, 1, 12), fund=800.0, **IP),
        claim("t1", TRANSFER, "H1", D(2025, 1, 1), discharge=D(2025, 1, 10), **IP),
        claim("t2", TRANSFER, "H2", D(2025, 1, 10), discharge=D(2025, 1, 20), **IP),
        # three stays for pneumonia at H1, readmitted 7 and 12 days after discharge
        claim("s1", SPLIT, "H1", D(2025, 3, 1), discharge=D(2025, 3, 8), diagnosis="J18.9", fund=500.0, **IP),
        claim("s2", SPLIT, "H1", D(2025, 3, 15), discharge=D(2025, 3, 20), diagnosis="J18.0", fund=600.0, **IP),
        claim("s3", SPLIT, "H1", D(2025, 4, 1), discharge=D(2025, 4, 9), diagnosis="J18.9", fund=700.0, **IP),
        # readmissions after 30 days
        claim("l1", LATE_READMIT, "H1", D(2025, 1, 1), discharge=D(2025, 1, 5), diagnosis="J18.9", **IP),
        claim("l2", LATE_READMIT, "H1", D(2025, 2, 4), discharge=D(2025, 2, 8), diagnosis="J18.9", **IP),
        claim("l3", LATE_READMIT, "H1", D(2025, 3, 10), discharge=D(2025, 3, 12), diagnosis="J18.9", **IP),
        # quick readmissions, but each for a different illness
        claim("x1", OTHER_DIAG, "H1", D(2025, 1, 1), discharge=D(2025, 1, 5), diagnosis="J18.9", **IP),
        claim("x2", OTHER_DIAG, "H1", D(2025, 1, 10), discharge=D(2025, 1, 12), diagnosis="I21.0", **IP),
        claim("x3", OTHER_DIAG, "H1", D(2025, 1, 20), discharge=D(2025, 1, 22), diagnosis="K35.8", **IP),
        # a single quick readmission
        claim("y1", ONCE, "H2", D(2025, 1, 1), discharge=D(2025, 1, 5), diagnosis="J18.9", **IP),
        claim("y2", ONCE, "H2", D(2025, 1, 10), discharge=D(2025, 1, 12), diagnosis="J18.9", **IP),
        # long stays
        claim("p1", PHANTOM, "H2", D(2025, 5, 1), discharge=D(2025, 5, 15), fund=3000.0, **IP),
        claim("b1", OBSERVED, "H2", D(2025, 5, 1), discharge=D(2025, 5, 3), fund=300.0, **IP),
        claim("r1", TREATED, "H2", D(2025, 5, 1), discharge=D(2025, 5, 15), fund=3000.0, **IP),
    ]


def _items():
    rows = []
    for cid, day in (("p1", D(2025, 5, 1)), ("b1", D(2025, 5, 1)), ("r1", D(2025, 5, 1))):
        rows += [item(cid, 1, "B1", 14, 50.0, day, "bed"), item(cid, 2, "N1", 14, 20.0, day, "service"),
                 item(cid, 3, "D1", 1, 10.0, day, "drug")]
    rows.append(item("r1", 4, "D2", 10, 100.0, D(2025, 5, 2), "drug"))
    return rows


def _data():
    ids = [OVERLAP, TRANSFER, SPLIT, LATE_READMIT, OTHER_DIAG, ONCE, PHANTOM, OBSERVED, TREATED]
    return datasets(persons=[person(p) for p in ids], claims=_stays(), items=_items())


def test_overlapping_stays_flags_shared_nights_not_transfers():
    found = by_entity(OverlappingStaysRule().fit_detect(_data()))
    assert set(found) == {OVERLAP}
    f = found[OVERLAP]
    assert f["record_ids"] == ["o1", "o2"]
    assert f["record_amounts"] == [0.0, 800.0]  # the later admission is the doubtful one
    assert "5" in f["evidence_zh"] and "第二人民医院" in f["evidence_zh"]


def test_split_admission_needs_repeated_quick_same_diagnosis_readmissions():
    found = by_entity(SplitAdmissionRule().fit_detect(_data()))
    assert set(found) == {SPLIT}
    f = found[SPLIT]
    assert f["record_ids"] == ["s1", "s2", "s3"]
    assert f["record_amounts"] == [0.0, 600.0, 700.0]
    assert "J18" in f["evidence_zh"]


def test_split_admission_min_readmissions_setting():
    found = by_entity(SplitAdmissionRule(split_min_readmissions=1).fit_detect(_data()))
    assert set(found) == {SPLIT, ONCE}


def test_phantom_inpatient_long_bed_only_stays():
    found = by_entity(PhantomInpatientRule().fit_detect(_data()))
    assert set(found) == {PHANTOM}
    assert found[PHANTOM]["record_ids"] == ["p1"]
    assert found[PHANTOM]["record_amounts"] == [3000.0]
