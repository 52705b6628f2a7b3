"""EXCESS_QUANTITY, OVER_PRICE, DUPLICATE_BILLING per institution; at-limit look-alikes do not fire."""

from medical_frames import D, by_entity, catalog_row, claim, datasets, item, person, pid

from fundwatch.detectors.medical import DuplicateBillingRule, ExcessQuantityRule, OverPriceRule

A = pid("19500101", 11)
DAY = D(2025, 1, 5)
NEXT = D(2025, 1, 6)

CATALOG = [
    catalog_row("Q1", max_qty=3),
    catalog_row("P1", price_cap=10.0),
    catalog_row("I1", "treatment", max_qty=2),  # twice a day allowed
    catalog_row("B1", "bed"),
]


def _data():
    claims = [
        claim("c1", A, "P1", DAY, visit_type="pharmacy", total=200.0, fund=100.0),
        claim("c2", A, "P2", DAY, visit_type="pharmacy"),
        claim("c3", A, "H1", DAY, visit_type="inpatient", discharge=D(2025, 1, 8), total=400.0, fund=200.0),
        claim("c4", A, "C1", DAY, total=100.0, fund=100.0),
    ]
    items = [
        # excess: 3 + 2 = 5 of Q1 on one day at P1 (limit 3): 2 too many at 10 CNY
        item("c1", 1, "Q1", 3, 10.0, DAY), item("c1", 2, "Q1", 2, 10.0, DAY),
        # at the limit, and the same item again on another day: fine
        item("c2", 1, "Q1", 3, 10.0, DAY), item("c2", 2, "Q1", 3, 10.0, NEXT),
        # over price at P1: 12.5 vs cap 10 for 2 units; at the cap at P2
        item("c1", 3, "P1", 2, 12.5, DAY), item("c2", 3, "P1", 2, 10.0, DAY),
        # repeated identical injection lines within the daily limit: allowed
        item("c2", 4, "I1", 1, 5.0, DAY), item("c2", 5, "I1", 1, 5.0, DAY),
        # daily bed charge on different days: fine; the same day three times: two duplicates
        item("c3", 1, "B1", 1, 50.0, DAY, "bed"),
        item("c3", 2, "B1", 1, 50.0, NEXT, "bed"),
        item("c3", 3, "B1", 1, 50.0, NEXT, "bed"),
        item("c3", 4, "B1", 1, 50.0, NEXT, "bed"),
        # same item, different quantities (a dose change), no limit: not a copy
        item("c4", 1, "X9", 1, 20.0, DAY), item("c4", 2, "X9", 2, 20.0, DAY),
    ]
    return datasets(persons=[person(A)], catalog=CATALOG, claims=claims, items=items)


def test_excess_quantity_sums_lines_per_claim_and_day():
    found = by_entity(ExcessQuantityRule().fit_detect(_data()))
    assert set(found) == {"P1"}
    f = found["P1"]
    assert f["entity_type"] == "institution"
    assert f["record_ids"] == ["c1"]
    assert f["record_amounts"] == [10.0]  # 2 excess units * 10 CNY * fund share 0.5
    assert f["region_code"] == "510302002000"
    assert "惠民大药房" in f["evidence_zh"]


def test_over_price_above_cap_only():
    found = by_entity(OverPriceRule().fit_detect(_data()))
    assert set(found) == {"P1"}
    assert found["P1"]["record_ids"] == ["c1"]
    assert found["P1"]["record_amounts"] == [2.5]  # (12.5 - 10) * 2 * 0.5


def test_duplicate_billing_identical_lines_same_day():
    found = by_entity(DuplicateBillingRule().fit_detect(_data()))
    assert set(found) == {"H1"}
    f = found["H1"]
    assert f["record_ids"] == ["c3"]
    assert f["record_amounts"] == [50.0]  # two repeated 50 CNY lines * fund share 0.5
    assert "2 行" in f["evidence_zh"] and "2 repeated" in f["evidence_en"]


# -- level and date prices (item_prices, contract v2) ----------------------------------------
def _priced_data():
    import polars as pl

    from medical_frames import catalog_row, claim, datasets, frame, item, person, pid

    p = pid("19500101", 11)
    cat = [catalog_row("B001", "bed", price_cap=50.0, name="普通病床床位费")]
    rows = [  # level 1 until 30 June 40, from 1 July 42; level 3 from 1 Jan 50
        {"item_code": "B001", "level": 1, "valid_from": D(2025, 1, 1), "valid_to": D(2025, 6, 30), "price_cap": 40.0},
        {"item_code": "B001", "level": 1, "valid_from": D(2025, 7, 1), "valid_to": None, "price_cap": 42.0},
        {"item_code": "B001", "level": 3, "valid_from": D(2025, 1, 1), "valid_to": None, "price_cap": 50.0},
    ]
    inst = [{"institution_id": "L1", "name": "乡镇卫生院", "kind": "clinic", "level": 1,
             "region_code": "510302001000", "beds": 30}]
    cl = [claim("before", p, "L1", D(2025, 6, 1), fund=70.0, total=100.0),  # 42 > 40: over
          claim("after", p, "L1", D(2025, 7, 2), fund=70.0, total=100.0),  # 42 after the rise: fine
          claim("exact", p, "L1", D(2025, 6, 2)),  # 40.00 at the cap: fine
          claim("third", p, "H1", D(2025, 6, 1))]  # 48 at level 3: fine (and below the catalogue cap)
    it = [item("before", 1, "B001", 2, 42.0, D(2025, 6, 1), "bed"), item("after", 1, "B001", 2, 42.0, D(2025, 7, 2), "bed"),
          item("exact", 1, "B001", 1, 40.0, D(2025, 6, 2), "bed"), item("third", 1, "B001", 1, 48.0, D(2025, 6, 1), "bed")]
    ds = datasets(persons=[person(p)], catalog=cat, claims=cl, items=it)
    ds["institutions"] = pl.concat([ds["institutions"], frame("institutions", inst)])
    ds["item_prices"] = frame("item_prices", rows)
    return ds


def test_over_price_uses_the_cap_of_the_level_and_date():
    from fundwatch.detectors.medical import OverPriceRule

    found = OverPriceRule().fit_detect(_priced_data())
    assert found["entity_id"].to_list() == ["L1"]
    f = found.row(0, named=True)
    assert f["record_ids"] == ["before"]
    assert f["amount_at_risk"] == 2.8  # (42 - 40) x 2 x 0.7
    assert "本机构等级当期最高限价" in f["evidence_zh"]


def test_over_price_without_item_prices_falls_back_to_the_catalogue_cap():
    from fundwatch.detectors.medical import OverPriceRule

    ds = _priced_data()
    del ds["item_prices"]
    assert OverPriceRule().fit_detect(ds).height == 0  # 42 and 48 are below the catalogue's 50
