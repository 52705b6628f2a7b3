"""FREQUENT_VISITS: near-daily swiping fires, a monthly chronic refill does not."""

import datetime as dt

from medical_frames import D, by_entity, claim, datasets, person, pid

from fundwatch.detectors.medical import FrequentVisitsRule

SWIPER = pid("19500101", 11)
CHRONIC = pid("19600101", 22)
WEEKLY = pid("19650101", 24)


def _data():
    cl = [claim(f"s{i:02d}", SWIPER, "P1" if i % 2 else "P2", D(2025, 3, 1) + dt.timedelta(days=i),
                visit_type="pharmacy", fund=10.0) for i in range(20)]
    cl.append(claim("s_same_day", SWIPER, "P1", D(2025, 3, 1), visit_type="pharmacy", fund=5.0))
    cl.append(claim("s_far", SWIPER, "P1", D(2025, 1, 1), visit_type="pharmacy"))  # outside any dense window
    cl.append(claim("s_inpatient", SWIPER, "H1", D(2025, 3, 5), visit_type="inpatient", discharge=D(2025, 3, 6)))
    cl += [claim(f"c{i:02d}", CHRONIC, "P1", D(2025, 1, 5) + dt.timedelta(days=30 * i), visit_type="pharmacy")
           for i in range(12)]
    cl += [claim(f"w{i:02d}", WEEKLY, "C1", D(2025, 1, 6) + dt.timedelta(days=7 * i)) for i in range(52)]
    return datasets(persons=[person(SWIPER), person(CHRONIC), person(WEEKLY)], claims=cl)


def test_near_daily_visits_fire_with_the_claims_of_the_dense_window():
    found = by_entity(FrequentVisitsRule().fit_detect(_data()))
    assert set(found) == {SWIPER}
    f = found[SWIPER]
    assert sorted(f["record_ids"]) == sorted([f"s{i:02d}" for i in range(20)] + ["s_same_day"])
    # only the visits above the threshold: days 15-20 of the run (6 x 10); the first 14 visit
    # days, and the same-day claim of day 1, are evidence at 0
    assert f["amount_at_risk"] == 60.0
    amounts = dict(zip(f["record_ids"], f["record_amounts"]))
    assert amounts["s13"] == 0.0 and amounts["s14"] == 10.0 and amounts["s_same_day"] == 0.0
    assert "20" in f["evidence_zh"]


def test_threshold_setting():
    assert FrequentVisitsRule(frequent_min_visit_days=21).fit_detect(_data()).height == 0
