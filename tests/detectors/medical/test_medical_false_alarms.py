"""Issue 16, item 9: legitimate care that tripped the in-patient, frequency and age rules.

Each case below fired before the fix (interim settlements, same-day gaps, planned
readmissions, treatment courses, settlement lag, a newborn on the mother's card).
"""

import datetime as dt

from medical_frames import D, by_entity, catalog_row, claim, datasets, item, person, pid

from fundwatch.detectors.medical import (
    AgeLimitRule, FrequentVisitsRule, OverlappingStaysRule, SplitAdmissionRule,
)

IP = {"visit_type": "inpatient"}
PSYCH = pid("19600101", 11)  # one long psychiatric stay settled monthly
CHEMO = pid("19610101", 13)  # chemotherapy cycles, planned readmissions
DIALYSIS = pid("19620101", 15)  # in-patient dialysis sessions (a course item)
SAMEDAY = pid("19630101", 17)  # stays settled in parts without an admission id
LAG = pid("19640101", 19)  # no discharge date, settled late
MOTHER = pid("19950101", 22)
ADULT = pid("19700101", 24)  # a woman without a birth claim: still AGE_LIMIT
SPLIT = pid("19520101", 31)  # the real thing, still found


def _v2(row: dict, **kw) -> dict:
    return {**row, **kw}


def _split_claims():
    cl = []
    # 4 monthly interim settlements of one stay: one admission id
    for k, (a, b) in enumerate([(D(2025, 1, 1), D(2025, 1, 31)), (D(2025, 2, 1), D(2025, 2, 28)),
                                (D(2025, 3, 1), D(2025, 3, 31)), (D(2025, 4, 1), D(2025, 4, 20))]):
        cl.append(_v2(claim(f"psy{k}", PSYCH, "H1", a, discharge=b, diagnosis="F20.0", fund=3500.0, **IP),
                      admission_id="ZY001"))
    # chemotherapy every 14 days, each stay marked as a planned readmission
    for k in range(4):
        a = D(2025, 1, 5) + dt.timedelta(days=14 * k)
        cl.append(_v2(claim(f"chemo{k}", CHEMO, "H1", a, discharge=a + dt.timedelta(days=3), diagnosis="C18.7",
                            fund=6750.0, **IP), readmission_planned=True))
    # dialysis stays billing a course item, readmitted every 7 days
    for k in range(4):
        a = D(2025, 5, 1) + dt.timedelta(days=7 * k)
        cl.append(claim(f"dia{k}", DIALYSIS, "H2", a, discharge=a + dt.timedelta(days=2), diagnosis="N18.5",
                        fund=900.0, **IP))
    # parts settled back to back without admission ids: gaps of 0 (discharge = next admission)
    for k, (a, b) in enumerate([(D(2025, 6, 1), D(2025, 6, 10)), (D(2025, 6, 10), D(2025, 6, 20)),
                                (D(2025, 6, 20), D(2025, 6, 30))]):
        cl.append(claim(f"same{k}", SAMEDAY, "H1", a, discharge=b, diagnosis="I63.9", **IP))
    # a true split: three stays for pneumonia, readmitted after 5 and 6 days
    cl += [claim("s1", SPLIT, "H1", D(2025, 3, 1), discharge=D(2025, 3, 8), diagnosis="J18.9", fund=500.0, **IP),
           claim("s2", SPLIT, "H1", D(2025, 3, 13), discharge=D(2025, 3, 20), diagnosis="J18.0", fund=600.0, **IP),
           claim("s3", SPLIT, "H1", D(2025, 3, 26), discharge=D(2025, 4, 2), diagnosis="J18.9", fund=700.0, **IP)]
    return cl


def _split_items():
    return [item(f"dia{k}", 1, "T900", 1, 400.0, D(2025, 5, 1) + dt.timedelta(days=7 * k), "treatment")
            for k in range(4)]


def _split_data(**kw):
    cat = [catalog_row("T900", "treatment", name="血液透析")]
    cat[0].update(window_days=7, max_qty_per_window=3.0)
    ds = datasets(persons=[person(p) for p in (PSYCH, CHEMO, DIALYSIS, SAMEDAY, SPLIT)],
                  claims=_split_claims(), items=_split_items(), catalog=cat)
    return ds


def test_interim_settlements_planned_cycles_courses_and_zero_gaps_are_not_split_admissions():
    found = by_entity(SplitAdmissionRule().fit_detect(_split_data()))
    assert set(found) == {SPLIT}
    assert found[SPLIT]["amount_at_risk"] == 1300.0


def test_each_excuse_alone_is_what_clears_its_case():
    # without the excuses the chemotherapy and dialysis readmissions are counted again
    found = by_entity(SplitAdmissionRule(planned_readmission_excuses=False).fit_detect(_split_data()))
    assert set(found) == {SPLIT, CHEMO}
    found = by_entity(SplitAdmissionRule(course_items_excuse=False).fit_detect(_split_data()))
    assert set(found) == {SPLIT, DIALYSIS}


def test_readmission_gap_of_one_day_counts_and_zero_does_not():
    cl = [claim("g1", SAMEDAY, "H1", D(2025, 6, 1), discharge=D(2025, 6, 10), diagnosis="I63.9", **IP),
          claim("g2", SAMEDAY, "H1", D(2025, 6, 11), discharge=D(2025, 6, 20), diagnosis="I63.9", **IP),
          claim("g3", SAMEDAY, "H1", D(2025, 6, 21), discharge=D(2025, 6, 30), diagnosis="I63.9", **IP)]
    ds = datasets(persons=[person(SAMEDAY)], claims=cl)
    assert set(by_entity(SplitAdmissionRule().fit_detect(ds))) == {SAMEDAY}


def test_missing_discharge_date_is_not_replaced_by_the_settle_date_for_overlaps():
    cl = [claim("a", LAG, "H1", D(2025, 1, 1), discharge=None, settle=D(2025, 1, 25), **IP),
          claim("b", LAG, "H2", D(2025, 1, 10), discharge=D(2025, 1, 15), **IP)]
    ds = datasets(persons=[person(LAG)], claims=cl)
    assert OverlappingStaysRule().fit_detect(ds).height == 0
    # with the discharge date recorded the same stays do overlap
    cl[0]["discharge_date"] = D(2025, 1, 12)
    assert OverlappingStaysRule().fit_detect(datasets(persons=[person(LAG)], claims=cl)).height == 1


def test_course_visits_are_not_frequent_visits():
    # rehabilitation sessions on 20 days of one month: a course item on every claim
    cl = [claim(f"r{i}", DIALYSIS, "C1", D(2025, 3, 1) + dt.timedelta(days=i)) for i in range(20)]
    it = [item(f"r{i}", 1, "T901", 1, 30.0, D(2025, 3, 1) + dt.timedelta(days=i), "treatment") for i in range(20)]
    cat = [catalog_row("T901", "treatment", name="康复理疗")]
    cat[0].update(window_days=30, max_qty_per_window=20.0)
    ds = datasets(persons=[person(DIALYSIS)], claims=cl, items=it, catalog=cat)
    assert FrequentVisitsRule().fit_detect(ds).height == 0
    assert FrequentVisitsRule(course_items_excuse=False).fit_detect(ds).height == 1


def _newborn_data(birth_day: dt.date, screen_day: dt.date, who: str = MOTHER, dx: str = "O80.0"):
    cat = [catalog_row("E010", "exam", max_age=1, name="新生儿听力筛查")]
    cl = [claim("birth", MOTHER, "H1", birth_day, discharge=birth_day + dt.timedelta(days=3), diagnosis=dx,
                fund=2000.0, **IP),
          claim("scr", who, "H1", screen_day, fund=42.0, total=60.0)]
    it = [item("scr", 1, "E010", 1, 60.0, screen_day, "exam", name="新生儿听力筛查")]
    return datasets(persons=[person(MOTHER), person(ADULT)], claims=cl, items=it, catalog=cat)


def test_newborn_items_on_the_mothers_card_within_28_days_of_the_birth_are_not_age_limit():
    b = D(2025, 5, 1)  # admitted 1 May, discharged 4 May
    assert AgeLimitRule().fit_detect(_newborn_data(b, b + dt.timedelta(days=3 + 28))).height == 0
    assert AgeLimitRule().fit_detect(_newborn_data(b, b + dt.timedelta(days=3 + 29))).height == 1


def test_age_limit_still_fires_without_a_birth_claim():
    b = D(2025, 5, 1)
    assert AgeLimitRule().fit_detect(_newborn_data(b, b + dt.timedelta(days=5), dx="J18.9")).height == 1
    assert AgeLimitRule().fit_detect(_newborn_data(b, b + dt.timedelta(days=5), who=ADULT)).height == 1
