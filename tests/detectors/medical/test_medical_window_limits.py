"""FREQUENCY_LIMIT and OVERSUPPLY: sliding windows per person across institutions."""

import datetime as dt

from medical_frames import D, by_entity, catalog_row, claim, datasets, item, person, pid

from fundwatch.detectors.medical import FrequencyLimitRule, OversupplyRule

OVER = pid("19500101", 11)  # dialysis 4 times in 7 days, at two hospitals
AT_LIMIT = pid("19600101", 22)  # Monday-Wednesday-Friday for 8 weeks: 3 in every 7 days
PILER = pid("19550101", 13)  # 30-day packs at three pharmacies within a month
LONG_RX = pid("19450101", 15)  # one 84-day long prescription
EARLY = pid("19480101", 17)  # two 30-day fills 20 days apart at two pharmacies: 60, not above


def _cat():
    dia = catalog_row("T900", "treatment", name="血液透析")
    dia.update(window_days=7, max_qty_per_window=3.0)
    return [dia, catalog_row("D005", name="硝苯地平控释片")]


def _dialysis():
    cl, it = [], []
    # OVER: Mon/Wed/Fri at H1 plus a Saturday session at H2 in the second week
    days = [D(2025, 3, 3) + dt.timedelta(days=7 * k + d) for k in range(3) for d in (0, 2, 4)]
    for n, day in enumerate(days):
        cl.append(claim(f"o{n}", OVER, "H1", day, fund=280.0, total=400.0))
        it.append(item(f"o{n}", 1, "T900", 1, 400.0, day, "treatment"))
    cl.append(claim("o_extra", OVER, "H2", D(2025, 3, 15), fund=280.0, total=400.0))
    it.append(item("o_extra", 1, "T900", 1, 400.0, D(2025, 3, 15), "treatment"))
    for n in range(24):
        day = D(2025, 1, 6) + dt.timedelta(days=7 * (n // 3) + 2 * (n % 3))
        cl.append(claim(f"a{n}", AT_LIMIT, "H1", day))
        it.append(item(f"a{n}", 1, "T900", 1, 400.0, day, "treatment"))
    return cl, it


def test_frequency_limit_fires_above_the_limit_in_a_window_not_at_it():
    cl, it = _dialysis()
    ds = datasets(persons=[person(OVER), person(AT_LIMIT)], catalog=_cat(), claims=cl, items=it)
    found = by_entity(FrequencyLimitRule().fit_detect(ds))
    assert set(found) == {OVER}
    f = found[OVER]
    # Sat 15 Mar makes 4 in 11-17 Mar... windows ending 15, 17 (Mon) hold 4: one session above the limit
    assert f["amount_at_risk"] == 280.0
    assert "o_extra" in f["record_ids"]
    assert "血液透析" in f["evidence_zh"] and "2 家机构" in f["evidence_zh"]


def test_frequency_limit_tolerance_setting():
    cl, it = _dialysis()
    ds = datasets(persons=[person(OVER), person(AT_LIMIT)], catalog=_cat(), claims=cl, items=it)
    assert FrequencyLimitRule(window_quantity_tolerance=1.0).fit_detect(ds).height == 0


def _supply(rows):
    cl, it = [], []
    for n, (who, inst, day, days_supply) in enumerate(rows):
        cl.append(claim(f"c{n}", who, inst, day, visit_type="pharmacy", fund=60.0, total=100.0))
        line = item(f"c{n}", 1, "D005", days_supply / 7, 32.5 * 7 / 7, day)
        line.update(days_supply=days_supply, quantity=1.0, amount=100.0, unit_price=100.0)
        it.append(line)
    return cl, it


def test_oversupply_across_institutions_but_not_a_long_prescription_or_an_early_refill():
    rows = [(PILER, "P1", D(2025, 4, 1), 30), (PILER, "P2", D(2025, 4, 8), 30), (PILER, "C1", D(2025, 4, 20), 30),
            (LONG_RX, "C1", D(2025, 4, 1), 84), (LONG_RX, "P1", D(2025, 6, 20), 30),
            (EARLY, "P1", D(2025, 4, 1), 30), (EARLY, "P2", D(2025, 4, 21), 30)]
    cl, it = _supply(rows)
    ds = datasets(persons=[person(p) for p in (PILER, LONG_RX, EARLY)], catalog=_cat(), claims=cl, items=it)
    found = by_entity(OversupplyRule().fit_detect(ds))
    assert set(found) == {PILER}
    f = found[PILER]
    assert sorted(f["record_ids"]) == ["c0", "c1", "c2"]
    # 90 days in the window ending 20 Apr, 30 above the line: the third fill, 60 % of 100
    assert f["amount_at_risk"] == 60.0
    assert "90" in f["evidence_zh"] and "3 家机构" in f["evidence_zh"]


def test_oversupply_boundary_61_days_fires_60_does_not():
    base = [(EARLY, "P1", D(2025, 4, 1), 30), (EARLY, "P2", D(2025, 4, 21), 30)]
    cl, it = _supply(base)
    ds = datasets(persons=[person(EARLY)], catalog=_cat(), claims=cl, items=it)
    assert OversupplyRule().fit_detect(ds).height == 0
    cl, it = _supply([base[0], (EARLY, "P2", D(2025, 4, 21), 31)])
    ds = datasets(persons=[person(EARLY)], catalog=_cat(), claims=cl, items=it)
    assert OversupplyRule().fit_detect(ds).height == 1
