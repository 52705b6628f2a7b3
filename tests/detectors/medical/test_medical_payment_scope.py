"""RESTRICTED_INDICATION and VISIT_TYPE_LIMIT, with their look-alikes."""

from medical_frames import D, by_entity, catalog_row, claim, datasets, item, person, pid

from fundwatch.detectors.base import MissingColumnError, skip_reason
from fundwatch.detectors.medical import RestrictedIndicationRule, VisitTypeLimitRule

A = pid("19500101", 11)
B = pid("19600101", 22)
IP = {"visit_type": "inpatient"}


def _cat():
    alb = catalog_row("D014", name="人血白蛋白")
    alb.update(indication="K70;K74;R18", visit_type_limit="inpatient")
    ins = catalog_row("D015", name="甘精胰岛素注射液")
    ins.update(indication="E10;E11")
    fee = catalog_row("S001", "service", name="普通门诊诊查费")
    fee.update(visit_type_limit="outpatient")
    return [alb, ins, fee, catalog_row("D001")]


def _data():
    cl = [
        # albumin for pneumonia at H1: no qualifying diagnosis
        claim("x1", A, "H1", D(2025, 3, 1), discharge=D(2025, 3, 8), diagnosis="J18.9", fund=700.0, total=1000.0, **IP),
        # albumin at H2 where the secondary diagnosis (cirrhosis) meets it: look-alike
        {**claim("x2", B, "H2", D(2025, 3, 1), discharge=D(2025, 3, 8), diagnosis="J18.9", **IP),
         "secondary_diagnoses": "I10;K74.6"},
        # insulin for E11.9 (meets the prefix) at C1
        claim("x3", A, "C1", D(2025, 4, 1), diagnosis="E11.9"),
        # albumin on an out-patient claim at C1 (diagnosis met, but in-patient only)
        claim("x4", B, "C1", D(2025, 4, 2), diagnosis="K74.6", fund=350.0, total=500.0),
        # the out-patient consultation fee on an in-patient claim at H2
        claim("x5", A, "H2", D(2025, 5, 1), discharge=D(2025, 5, 3), diagnosis="K35.8", **IP),
        # the out-patient fee at a pharmacy claim: allowed (out-patient care)
        claim("x6", B, "P1", D(2025, 5, 2), visit_type="pharmacy", diagnosis=None),
    ]
    it = [item("x1", 1, "D014", 2, 380.0, D(2025, 3, 2)), item("x1", 2, "D001", 1, 10.0, D(2025, 3, 2)),
          item("x2", 1, "D014", 1, 380.0, D(2025, 3, 2)), item("x3", 1, "D015", 1, 180.0, D(2025, 4, 1)),
          item("x4", 1, "D014", 1, 380.0, D(2025, 4, 2)),
          item("x5", 1, "S001", 1, 10.0, D(2025, 5, 1), "service"),
          item("x6", 1, "S001", 1, 10.0, D(2025, 5, 2), "service")]
    return datasets(persons=[person(A), person(B)], catalog=_cat(), claims=cl, items=it)


def test_restricted_indication_fires_when_every_diagnosis_misses_it():
    found = by_entity(RestrictedIndicationRule().fit_detect(_data()))
    assert set(found) == {"H1"}  # x2 met by a secondary diagnosis, x3 by a prefix, x4 by its principal
    f = found["H1"]
    assert f["record_ids"] == ["x1"]
    assert f["amount_at_risk"] == 532.0  # 760 x 0.7
    assert "人血白蛋白" in f["evidence_zh"] and "J18.9" in f["evidence_zh"]


def test_visit_type_limit_fires_on_the_wrong_kind_of_visit_only():
    found = by_entity(VisitTypeLimitRule().fit_detect(_data()))
    assert set(found) == {"C1", "H2"}
    assert found["C1"]["record_ids"] == ["x4"] and found["C1"]["amount_at_risk"] == 266.0
    assert "限住院" in found["C1"]["evidence_zh"]
    assert found["H2"]["record_ids"] == ["x5"] and "限门诊" in found["H2"]["evidence_zh"]


def test_absent_v2_columns_skip_exactly_these_rules():
    ds = _data()
    ds["item_catalog"] = ds["item_catalog"].drop("indication")
    assert "indication" in skip_reason(RestrictedIndicationRule, ds)
    assert skip_reason(VisitTypeLimitRule, ds) is None
    try:
        RestrictedIndicationRule().fit(ds)
    except MissingColumnError as e:
        assert ("item_catalog", "indication") in e.missing_columns
    else:  # pragma: no cover
        raise AssertionError("expected MissingColumnError")
