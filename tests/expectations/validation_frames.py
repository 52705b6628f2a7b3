"""Small hand-made frames for the validation tests: valid rows per dataset and mutations.

``good_row(dataset, i)`` is a valid row with keys unique in ``i``; a mutation overrides a few
columns of such a row so that it breaks one named check.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fundwatch.contract import DATASETS

REGION = "110105001001"


def make_id(birth: dt.date, seq: int, region: str = "110105") -> str:
    """A valid GB 11643 number, computed here independently of fundwatch.idnumber."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(ch) * (2 ** (17 - i) % 11) for i, ch in enumerate(body))
    return body + "10X98765432"[total % 11]


def birth(i: int) -> dt.date:
    return dt.date(1950, 1, 1) + dt.timedelta(days=i)


def pid(i: int) -> str:
    return make_id(birth(i), 2 * i + 11)  # odd sequence: male


D = dt.date


def good_row(dataset: str, i: int) -> dict:
    rows = {
        "persons": dict(person_id=pid(i), name="张三丰", gender="M", birth_date=birth(i), region_code=REGION,
                        household_id=f"H{i}", relation="head" if i == 0 else "child"),
        "deaths": dict(person_id=pid(i), death_date=D(2024, 1, 1), source="殡葬"),
        "officials": dict(person_id=pid(i), role="village_cadre", organization="村委会", region_code=REGION,
                          start_date=D(2020, 1, 1), end_date=None),
        "assets": dict(person_id=pid(i), asset_type="vehicle", registered_date=D(2020, 1, 1), value=1000.0,
                       subtype="car", deregistered_date=D(2023, 5, 1) if i == 1 else None),
        "subsidy_standards": dict(subsidy_type=f"T{i}", subsidy_name=f"补贴{i}", region_prefix="110105",
                                  valid_from="2024-01", valid_to="2024-12", unit="person_month", amount=100.0,
                                  min_age=60, max_age=100, excludes_officials=True, excludes_asset_owners=False,
                                  means_test=i == 0, exclusive_group="assistance" if i < 2 else None,
                                  pay_within_days=90 if i == 0 else None),
        "land": dict(household_id=f"H{i}", person_id=pid(i), contracted_area_mu=5.0),
        "institutions": dict(institution_id=f"I{i}", name=f"医院{i}", kind="hospital", level=2, region_code=REGION,
                             beds=100, ownership="public"),
        "item_catalog": dict(item_code=f"IT{i}", item_name=f"药{i}", category="drug", gender_limit=None, min_age=None,
                             max_age=None, max_qty_per_day=10.0, price_cap=100.0,
                             indication="E11;E13;C" if i == 0 else ("I10.X00X002" if i == 1 else None),
                             visit_type_limit="inpatient" if i == 1 else None,
                             window_days=7 if i == 2 else None, max_qty_per_window=3.0 if i == 2 else None),
        "disbursements": dict(disbursement_id=f"D{i}", batch_id="B1", subsidy_type="T0", person_id=pid(0), name="张三丰",
                              region_code=REGION, period="2024-03", pay_date=D(2024, 3, 15), amount=100.0,
                              quantity=1.0, account_no="6222020200112233", account_holder_id=pid(0),
                              operator_id="op1", payment_type="back_pay" if i == 1 else "regular",
                              proxy_id=pid(1) if i == 2 else None),
        "claims": dict(claim_id=f"C{i}", person_id=pid(0), institution_id="I0", doctor_id="DR1",
                       visit_type="outpatient", visit_date=D(2024, 3, 1), discharge_date=None,
                       settle_date=D(2024, 3, 1), diagnosis_code="J01", total_amount=10.0, fund_amount=6.0,
                       self_amount=4.0, admission_id=None, secondary_diagnoses="I10;E11.9" if i == 0 else None,
                       department="内科", readmission_planned=None),
        "claim_items": dict(claim_id="C1", line_no=i + 1, item_code="IT0", item_name="药0", category="drug",
                            quantity=2.0, unit_price=5.0, amount=10.0, service_date=D(2024, 3, 1),
                            trace_code=None, days_supply=7),
        # contract v2 datasets
        "regions": dict(region_code=["110105", "110105001", REGION][i] if i < 3 else f"{i:012d}",
                        name=["朝阳区", "建外街道", "永安里社区"][i] if i < 3 else f"地区{i}",
                        parent_code=[None, "110105", "110105001"][i] if i < 3 else None),
        # one-day validities on distinct days: no two rows of one item and level overlap
        "item_prices": dict(item_code="IT0", level=i % 4, valid_from=D(2024, 1, 1) + dt.timedelta(days=i),
                            valid_to=D(2024, 1, 1) + dt.timedelta(days=i), price_cap=90.0 + i),
        "allocations": dict(batch_id="B1", subsidy_type="T0", region_code="110105", allocated_amount=1000.0 + i,
                            allocated_date=D(2024, 3, 1)),
    }
    if dataset == "claims" and i in (1, 2):
        # one inpatient stay settled in two parts (中途结算): C1 and C2 share an admission_id
        rows["claims"].update(visit_type="inpatient", discharge_date=D(2024, 3, 1), admission_id="ZY1")
    return rows[dataset]


def frame(dataset: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=DATASETS[dataset].schema, orient="row")


N_GOOD = 3
OUTSIDER = make_id(D(1960, 6, 6), 777)  # valid, but not in persons

#: (dataset, check, overrides): each override breaks the named check on a fresh valid row.
MUTATIONS: list[tuple[str, str, dict]] = [
    ("persons", "person_id_unique", dict(person_id=pid(0), birth_date=birth(0))),
    ("persons", "person_id_valid_gb11643", dict(person_id=pid(50)[:-1] + ("0" if pid(50)[-1] != "0" else "1"),
                                                birth_date=birth(50))),
    ("persons", "gender_in_set", dict(gender="X")),
    ("persons", "gender_agrees_with_person_id", dict(gender="F")),
    ("persons", "birth_date_agrees_with_person_id", dict(birth_date=D(1990, 5, 5))),
    ("persons", "region_code_12_digits", dict(region_code="11010500100")),
    ("persons", "birth_date_sane_year", dict(birth_date=D(1850, 1, 1))),
    ("deaths", "person_id_valid_gb11643", dict(person_id="123")),
    ("deaths", "death_date_sane_year", dict(death_date=D(1800, 1, 1))),
    ("officials", "person_id_valid_gb11643", dict(person_id="ABC")),
    ("officials", "role_in_set", dict(role="mayor")),
    ("officials", "region_code_12_digits", dict(region_code="1101")),
    ("officials", "end_date_ge_start_date", dict(end_date=D(2019, 1, 1))),
    ("officials", "start_date_sane_year", dict(start_date=D(1800, 1, 1))),
    ("officials", "end_date_sane_year", dict(end_date=D(2200, 1, 1))),
    ("assets", "person_id_valid_gb11643", dict(person_id="123")),
    ("assets", "asset_type_in_set", dict(asset_type="boat")),
    ("assets", "value_ge_0", dict(value=-1.0)),
    ("assets", "registered_date_sane_year", dict(registered_date=D(1800, 1, 1))),
    ("subsidy_standards", "subsidy_type_region_prefix_valid_from_unique", dict(subsidy_type="T0")),
    ("subsidy_standards", "region_prefix_format", dict(region_prefix="1101")),
    ("subsidy_standards", "valid_from_is_period", dict(valid_from="2024-13")),
    ("subsidy_standards", "valid_to_is_period", dict(valid_to="2024/12")),
    ("subsidy_standards", "valid_to_ge_valid_from", dict(valid_to="2023-12")),
    ("subsidy_standards", "valid_from_sane_year", dict(valid_from="1800-01")),
    ("subsidy_standards", "unit_in_set", dict(unit="day")),
    ("subsidy_standards", "amount_ge_0", dict(amount=-5.0)),
    ("subsidy_standards", "min_age_range", dict(min_age=-1)),
    ("subsidy_standards", "max_age_range", dict(max_age=200)),
    ("subsidy_standards", "max_age_ge_min_age", dict(min_age=80, max_age=70)),
    ("land", "household_id_unique", dict(household_id="H0")),
    ("land", "person_id_valid_gb11643", dict(person_id="123")),
    ("land", "contracted_area_mu_ge_0", dict(contracted_area_mu=-1.0)),
    ("institutions", "institution_id_unique", dict(institution_id="I0")),
    ("institutions", "kind_in_set", dict(kind="spa")),
    ("institutions", "level_range", dict(level=5)),
    ("institutions", "region_code_12_digits", dict(region_code="ABCDEFGHIJKL")),
    ("institutions", "beds_ge_0", dict(beds=-1)),
    ("item_catalog", "item_code_unique", dict(item_code="IT0")),
    ("item_catalog", "category_in_set", dict(category="food")),
    ("item_catalog", "gender_limit_in_set", dict(gender_limit="X")),
    ("item_catalog", "min_age_range", dict(min_age=-1)),
    ("item_catalog", "max_age_range", dict(max_age=200)),
    ("item_catalog", "max_age_ge_min_age", dict(min_age=18, max_age=10)),
    ("item_catalog", "max_qty_per_day_gt_0", dict(max_qty_per_day=0.0)),
    ("item_catalog", "price_cap_ge_0", dict(price_cap=-1.0)),
    ("disbursements", "disbursement_id_unique", dict(disbursement_id="D0")),
    ("disbursements", "person_id_valid_gb11643", dict(person_id="123")),
    ("disbursements", "account_holder_id_valid_gb11643", dict(account_holder_id="456")),
    ("disbursements", "region_code_12_digits", dict(region_code="1101050010011")),
    ("disbursements", "period_is_period", dict(period="2024-3")),
    ("disbursements", "period_sane_year", dict(period="1980-01")),
    ("disbursements", "pay_date_sane_year", dict(pay_date=D(1980, 1, 1))),
    ("disbursements", "amount_gt_0", dict(amount=0.0)),
    ("disbursements", "quantity_gt_0", dict(quantity=-1.0)),
    ("disbursements", "subsidy_type_in_standards", dict(subsidy_type="UNKNOWN")),
    ("disbursements", "beneficiary_in_persons", dict(person_id=OUTSIDER)),
    ("claims", "claim_id_unique", dict(claim_id="C0")),
    ("claims", "person_id_valid_gb11643", dict(person_id="123")),
    ("claims", "visit_type_in_set", dict(visit_type="spa")),
    ("claims", "discharge_date_ge_visit_date", dict(discharge_date=D(2024, 2, 1))),
    ("claims", "settle_date_ge_visit_date", dict(settle_date=D(2024, 2, 1))),
    ("claims", "visit_date_sane_year", dict(visit_date=D(1980, 1, 1))),
    ("claims", "settle_date_sane_year", dict(settle_date=D(2200, 1, 1))),
    ("claims", "fund_amount_ge_0", dict(fund_amount=-1.0, self_amount=11.0)),
    ("claims", "self_amount_ge_0", dict(fund_amount=11.0, self_amount=-1.0)),
    ("claims", "total_amount_eq_fund_amount_plus_self_amount", dict(total_amount=10.5)),
    ("claims", "institution_exists", dict(institution_id="NOPE")),
    ("claims", "patient_in_persons", dict(person_id=OUTSIDER)),
    ("claims", "total_amount_eq_sum_of_items", dict(claim_id="CX", total_amount=50.0, fund_amount=50.0,
                                                    self_amount=0.0)),
    ("claim_items", "claim_id_line_no_unique", dict(line_no=1)),
    ("claim_items", "category_in_set", dict(category="food")),
    ("claim_items", "quantity_gt_0", dict(quantity=0.0, amount=0.0)),
    ("claim_items", "unit_price_ge_0", dict(unit_price=-5.0, amount=-10.0)),
    ("claim_items", "amount_eq_quantity_times_unit_price", dict(amount=11.0)),
    ("claim_items", "service_date_sane_year", dict(service_date=D(1980, 1, 1))),
    ("claim_items", "claim_exists", dict(claim_id="NOPE")),
    # contract v2 columns
    ("persons", "relation_in_set", dict(relation="cousin")),
    ("assets", "subtype_in_set", dict(subtype="boat")),
    ("assets", "subtype_fits_asset_type", dict(subtype="company")),
    ("assets", "deregistered_date_ge_registered_date", dict(deregistered_date=D(2019, 1, 1))),
    ("assets", "deregistered_date_sane_year", dict(deregistered_date=D(2200, 1, 1))),
    ("subsidy_standards", "pay_within_days_ge_0", dict(pay_within_days=-5)),
    ("institutions", "ownership_in_set", dict(ownership="state")),
    ("item_catalog", "indication_icd10_prefixes", dict(indication="E11;糖尿病")),
    ("item_catalog", "visit_type_limit_in_set", dict(visit_type_limit="pharmacy")),
    ("item_catalog", "window_days_with_max_qty_per_window", dict(window_days=7, max_qty_per_window=None)),
    ("item_catalog", "window_days_gt_0", dict(window_days=0, max_qty_per_window=1.0)),
    ("item_catalog", "max_qty_per_window_gt_0", dict(window_days=7, max_qty_per_window=0.0)),
    ("disbursements", "payment_type_in_set", dict(payment_type="bonus")),
    ("disbursements", "proxy_id_valid_gb11643", dict(proxy_id="789")),
    ("claims", "secondary_diagnoses_icd10_codes", dict(secondary_diagnoses="I10;高血压")),
    ("claims", "admission_id_one_inpatient_stay", dict(admission_id="ZY9")),  # an outpatient claim
    ("claim_items", "days_supply_ge_1", dict(days_supply=0)),
    ("claim_items", "trace_code_quantity_le_1", dict(trace_code="81234567890123456789", quantity=2.0)),
    # contract v2 datasets
    ("regions", "region_code_6_9_12_digits", dict(region_code="1101051")),
    ("regions", "region_code_unique", dict(region_code="110105")),
    ("regions", "parent_code_in_regions", dict(parent_code="999999")),
    ("item_prices", "item_code_level_valid_from_unique", dict(level=0, valid_from=D(2024, 1, 1), valid_to=D(2024, 1, 1))),
    ("item_prices", "level_range", dict(level=9)),
    ("item_prices", "price_cap_ge_0", dict(price_cap=-1.0)),
    ("item_prices", "valid_to_ge_valid_from", dict(valid_to=D(2023, 1, 1))),
    ("item_prices", "valid_from_sane_year", dict(valid_from=D(1800, 1, 1), valid_to=D(1800, 1, 1))),
    ("item_prices", "validity_does_not_overlap", dict(level=0, valid_from=D(2023, 6, 1), valid_to=None)),
    ("item_prices", "item_in_catalog", dict(item_code="NOPE")),
    ("allocations", "allocated_amount_gt_0", dict(allocated_amount=0.0)),
    ("allocations", "region_code_6_or_9_digits", dict(region_code="110105001001")),
    ("allocations", "allocated_date_sane_year", dict(allocated_date=D(1980, 1, 1))),
    ("allocations", "subsidy_type_in_standards", dict(subsidy_type="UNKNOWN")),
]


def not_null_mutations() -> list[tuple[str, str, dict]]:
    """One mutation per non-nullable contract column: the value emptied."""
    return [
        (name, f"{col.name}_not_null", {col.name: None})
        for name, ds in DATASETS.items()
        for col in ds.columns
        if not col.nullable
    ]


def good_frames() -> dict[str, pl.DataFrame]:
    """Every dataset, valid, mutually consistent (claims' totals equal their items)."""
    out = {name: frame(name, [good_row(name, i) for i in range(N_GOOD)]) for name in DATASETS}
    return _fix_claim_totals(out)


def _fix_claim_totals(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Make C1's total the sum of its items (mutated items included) so that only CX differs."""
    c1 = frames["claim_items"].filter(pl.col("claim_id") == "C1").get_column("amount").sum()
    frames["claims"] = frames["claims"].with_columns(
        pl.when(pl.col("claim_id") == "C1").then(pl.lit(c1)).otherwise(pl.col(c)).alias(c)
        for c in ("total_amount", "fund_amount")
    ).with_columns(
        pl.when(pl.col("claim_id") == "C1").then(0.0).otherwise(pl.col("self_amount")).alias("self_amount")
    )
    return frames


def mutated_frames(mutations: list[tuple[str, str, dict]]) -> tuple[dict[str, pl.DataFrame], dict[tuple[str, str], int]]:
    """Good frames plus one appended row per mutation; returns the 1-based row number of each."""
    base = good_frames()
    # an item of claim CX (whose total the mutation sets to disagree with it)
    base["claim_items"] = pl.concat(
        [base["claim_items"], frame("claim_items", [dict(good_row("claim_items", 0), claim_id="CX")])]
    )
    extra: dict[str, list[dict]] = {}
    where: dict[tuple[str, str], int] = {}
    for k, (dataset, check, overrides) in enumerate(mutations):
        i = 100 + k
        row = good_row(dataset, i)
        if dataset == "claim_items":
            row["line_no"] = i
        row.update(overrides)
        extra.setdefault(dataset, []).append(row)
        where[(dataset, check)] = base[dataset].height + len(extra[dataset])
    out = {name: pl.concat([f, frame(name, extra[name])]) if name in extra else f for name, f in base.items()}
    return _fix_claim_totals(out), where
