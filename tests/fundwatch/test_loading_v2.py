"""Contract v2 on load: absent v2 columns stay absent (and are recorded), present ones are
normalised from Chinese headers and labels in UTF-8 and GBK, and bad v2 values quarantine
their rows with a reason, rows read = accepted + quarantined."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fundwatch.contract import DATASETS, V2_COLUMNS, V2_DATASETS
from fundwatch.loading import load_input

PID = "11010519491231002X"
PID2 = "110105194912310038"
D = dt.date


def _canonical() -> dict[str, pl.DataFrame]:
    """Two rows of every dataset that has v2 columns, plus the v2 datasets, every v2 column given
    (one row with the v2 values, the other with them empty where the contract allows)."""
    rows = {
        "persons": [
            dict(person_id=PID, name="张三", gender="F", birth_date=D(1949, 12, 31), region_code="110105001001",
                 household_id="H1", relation="head"),
            dict(person_id="110105200001010016", name="张小", gender="M", birth_date=D(2000, 1, 1),
                 region_code="110105001001", household_id="H1", relation=None),
        ],
        "assets": [
            dict(person_id=PID, asset_type="vehicle", registered_date=D(2020, 1, 1), value=30000.0,
                 subtype="farm_vehicle", deregistered_date=D(2024, 6, 30)),
            dict(person_id=PID, asset_type="business", registered_date=D(2021, 1, 1), value=None,
                 subtype=None, deregistered_date=None),
        ],
        "subsidy_standards": [
            dict(subsidy_type="min_living", subsidy_name="最低生活保障", region_prefix="*", valid_from="2025-01",
                 valid_to=None, unit="person_month", amount=600.0, min_age=None, max_age=None,
                 excludes_officials=True, excludes_asset_owners=True, means_test=True,
                 exclusive_group="基本生活救助", pay_within_days=60),
            dict(subsidy_type="elderly_allowance", subsidy_name="高龄津贴", region_prefix="110105",
                 valid_from="2025-01", valid_to="2025-12", unit="person_month", amount=100.0, min_age=80,
                 max_age=None, excludes_officials=False, excludes_asset_owners=False, means_test=None,
                 exclusive_group=None, pay_within_days=None),
        ],
        "institutions": [
            dict(institution_id="H1", name="县人民医院", kind="hospital", level=3, region_code="110105001000",
                 beds=800, ownership="public"),
            dict(institution_id="P1", name="便民药店", kind="pharmacy", level=0, region_code="110105001000",
                 beds=0, ownership=None),
        ],
        "item_catalog": [
            dict(item_code="D015", item_name="甘精胰岛素注射液", category="drug", gender_limit=None, min_age=None,
                 max_age=None, max_qty_per_day=2.0, price_cap=200.0, indication="E10;E11;E13;E14",
                 visit_type_limit="outpatient", window_days=None, max_qty_per_window=None),
            dict(item_code="T010", item_name="血液透析", category="treatment", gender_limit=None, min_age=None,
                 max_age=None, max_qty_per_day=1.0, price_cap=450.0, indication="N18",
                 visit_type_limit="inpatient", window_days=7, max_qty_per_window=3.0),
        ],
        "disbursements": [
            dict(disbursement_id="F1", batch_id="B1", subsidy_type="min_living", person_id=PID, name="张三",
                 region_code="110105001001", period="2025-03", pay_date=D(2025, 3, 15), amount=600.0, quantity=1.0,
                 account_no="6217000000000001", account_holder_id=PID2, operator_id="op1",
                 payment_type="back_pay", proxy_id=PID2),
            dict(disbursement_id="F2", batch_id="B1", subsidy_type="min_living", person_id=PID, name="张三",
                 region_code="110105001001", period="2025-04", pay_date=D(2025, 4, 15), amount=600.0, quantity=1.0,
                 account_no="6217000000000001", account_holder_id=PID, operator_id="op1",
                 payment_type="regular", proxy_id=None),
        ],
        "claims": [
            dict(claim_id="C1", person_id=PID, institution_id="H1", doctor_id="H1-001", visit_type="inpatient",
                 visit_date=D(2025, 3, 1), discharge_date=D(2025, 3, 31), settle_date=D(2025, 3, 31),
                 diagnosis_code="F20.0", total_amount=9000.0, fund_amount=6300.0, self_amount=2700.0,
                 admission_id="ZY0001", secondary_diagnoses="I10;E11.9", department="精神科",
                 readmission_planned=False),
            dict(claim_id="C2", person_id=PID, institution_id="P1", doctor_id=None, visit_type="pharmacy",
                 visit_date=D(2025, 4, 2), discharge_date=None, settle_date=D(2025, 4, 2), diagnosis_code=None,
                 total_amount=36.0, fund_amount=7.2, self_amount=28.8, admission_id=None,
                 secondary_diagnoses=None, department=None, readmission_planned=None),
        ],
        "claim_items": [
            dict(claim_id="C2", line_no=1, item_code="D005", item_name="硝苯地平控释片", category="drug",
                 quantity=1.0, unit_price=36.0, amount=36.0, service_date=D(2025, 4, 2),
                 trace_code="81234560000000000017", days_supply=14),
            dict(claim_id="C1", line_no=1, item_code="B001", item_name="普通病床床位费", category="bed",
                 quantity=1.0, unit_price=45.0, amount=45.0, service_date=D(2025, 3, 1), trace_code=None,
                 days_supply=None),
        ],
        "regions": [
            dict(region_code="110105", name="朝阳区", parent_code=None),
            dict(region_code="110105001", name="建外街道", parent_code="110105"),
        ],
        "item_prices": [
            dict(item_code="T010", level=3, valid_from=D(2025, 1, 1), valid_to=D(2025, 6, 30), price_cap=420.0),
            dict(item_code="T010", level=3, valid_from=D(2025, 7, 1), valid_to=None, price_cap=450.0),
        ],
        "allocations": [
            dict(batch_id="B1", subsidy_type="min_living", region_code="110105001", allocated_amount=1200.0,
                 allocated_date=D(2025, 3, 1)),
            dict(batch_id="B1", subsidy_type="min_living", region_code="110105", allocated_amount=5000.0,
                 allocated_date=D(2025, 3, 2)),
        ],
    }
    return {n: pl.DataFrame(r, schema=DATASETS[n].schema, orient="row") for n, r in rows.items()}


def _as_export(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` as a Chinese export writes it: Chinese headers, enumeration labels, 是/否, dates as
    2025年3月7日, money as ￥1234.5元, code lists with full-width ；."""
    exprs = []
    for col in DATASETS[name].columns:
        c = pl.col(col.name)
        if col.kind == "enum":
            e = c.replace_strict(col.enum, default=None, return_dtype=pl.String)
        elif col.kind == "bool":
            e = pl.when(c).then(pl.lit("是")).when(~c).then(pl.lit("否"))
        elif col.kind == "date":
            e = pl.format("{}年{}月{}日", c.dt.year(), c.dt.month(), c.dt.day())
        elif col.kind == "money":
            e = pl.lit("￥") + c.cast(pl.String) + pl.lit("元")
        elif col.kind == "codes":
            e = c.str.to_lowercase().str.replace_all(";", "；")
        else:
            e = c.cast(pl.String)
        exprs.append(e.alias(col.zh))
    return df.select(exprs)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_every_v2_column_round_trips_csv_with_chinese_headers_and_labels(tmp_path, encoding):
    canonical = _canonical()
    inp = tmp_path / "in"
    inp.mkdir()
    for name, df in canonical.items():
        (inp / f"{name}.csv").write_bytes(_as_export(name, df).write_csv().encode(encoding))
    r = load_input(inp)
    assert r.quarantine.height == 0, r.quarantine.to_dicts()
    for name, df in canonical.items():
        assert_frame_equal(r.datasets[name], df, check_exact=True)
        assert r.absent_columns[name] == [], name
    # every v2 column and dataset was exercised
    assert set(V2_DATASETS) <= set(canonical)
    assert set(V2_COLUMNS) <= set(canonical)


def test_v1_input_loads_without_v2_columns_and_records_them(tmp_path):
    canonical = _canonical()
    inp = tmp_path / "in"
    inp.mkdir()
    for name, df in canonical.items():
        if name not in V2_DATASETS:
            df.drop(DATASETS[name].v2_columns).write_parquet(inp / f"{name}.parquet")
    r = load_input(inp)
    for name, frame in r.datasets.items():
        assert frame.schema == DATASETS[name].base_schema, name
        assert r.absent_columns[name] == list(V2_COLUMNS[name]), name
        assert_frame_equal(frame, canonical[name].drop(DATASETS[name].v2_columns))
    assert not set(V2_DATASETS) & set(r.datasets)


def test_v2_column_in_some_files_of_a_folder_is_present_with_nulls_elsewhere(tmp_path):
    d = _canonical()["disbursements"]
    folder = tmp_path / "in" / "disbursements"
    folder.mkdir(parents=True)
    d.head(1).write_parquet(folder / "2025-03.parquet")  # with payment_type and proxy_id
    d.tail(1).drop("payment_type", "proxy_id").write_csv(folder / "2025-04.csv")
    r = load_input(tmp_path / "in")
    got = r.datasets["disbursements"]
    assert got.schema == DATASETS["disbursements"].schema
    assert r.absent_columns["disbursements"] == []
    assert got.get_column("proxy_id").to_list() == [PID2, None]
    # an empty or missing payment_type is a regular payment (the contract)
    assert got.get_column("payment_type").to_list() == ["back_pay", "regular"]


def test_only_one_of_several_v2_columns_given(tmp_path):
    items = _canonical()["item_catalog"].drop("indication", "window_days")
    inp = tmp_path / "in"
    inp.mkdir()
    items.write_parquet(inp / "item_catalog.parquet")
    r = load_input(inp)
    assert r.absent_columns["item_catalog"] == ["indication", "window_days"]
    assert "visit_type_limit" in r.datasets["item_catalog"].columns
    assert "indication" not in r.datasets["item_catalog"].columns


def test_code_lists_normalise_separators_and_case(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    header = "结算单号,参保人身份证号,机构编码,医师编码,就诊类别,就诊日期,出院日期,结算日期,诊断编码,总费用,统筹支付,个人支付,其他诊断"
    body = [
        "C1,{p},H1,,门诊,2025-03-01,,2025-03-01,J06.9,10,5,5,\"i10， e11.9\"",
        "C2,{p},H1,,门诊,2025-03-01,,2025-03-01,J06.9,10,5,5,I10；E11.9、N18",
        "C3,{p},H1,,门诊,2025-03-01,,2025-03-01,J06.9,10,5,5, ；",
        "C4,{p},H1,,门诊,2025-03-01,,2025-03-01,J06.9,10,5,5,Ｉ１０  k29.7",
    ]
    (inp / "claims.csv").write_text(header + "\n" + "\n".join(b.format(p=PID) for b in body) + "\n", encoding="utf-8")
    got = load_input(inp).datasets["claims"].get_column("secondary_diagnoses").to_list()
    assert got == ["I10;E11.9", "I10;E11.9;N18", None, "I10;K29.7"]


BAD_V2 = [
    # (dataset, column, bad raw value, words the reason must contain)
    ("disbursements", "payment_type", "奖励", ["regular 正常发放", "back_pay 补发", "top_up 补差", "returned 退回"]),
    ("persons", "relation", "表亲", ["head 户主"]),
    ("assets", "subtype", "游艇", ["car 小型汽车"]),
    ("assets", "deregistered_date", "2024-13-45", ["not a date"]),
    ("subsidy_standards", "pay_within_days", "九十", ["not a whole number"]),
    ("subsidy_standards", "means_test", "也许", ["not a yes/no value"]),
    ("institutions", "ownership", "国营", ["public 公立", "private 民营"]),
    ("item_catalog", "visit_type_limit", "限急诊", ["inpatient 限住院"]),
    ("item_catalog", "window_days", "7.5", ["not a whole number"]),
    ("item_catalog", "max_qty_per_window", "三", ["not a number"]),
    ("claims", "readmission_planned", "unknown", ["not a yes/no value"]),
    ("claim_items", "days_supply", "two weeks", ["not a whole number"]),
    ("item_prices", "price_cap", "abc", ["not an amount"]),
    ("allocations", "allocated_date", "yesterday", ["not a date"]),
]


@pytest.mark.parametrize(("dataset", "column", "raw", "words"), BAD_V2, ids=[f"{d}.{c}" for d, c, _, _ in BAD_V2])
def test_bad_v2_value_quarantines_its_row_with_the_reason(tmp_path, dataset, column, raw, words):
    df = _as_export(dataset, _canonical()[dataset])
    zh = DATASETS[dataset].column(column).zh
    df = pl.concat([df, df.head(1).with_columns(pl.lit(raw).alias(zh))])
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / f"{dataset}.csv").write_bytes(df.write_csv().encode("gbk"))
    r = load_input(inp)
    c = r.counts[dataset]
    assert (c.rows_read, c.rows_accepted, c.rows_quarantined) == (3, 2, 1)
    q = r.quarantine.row(0, named=True)
    # row_number is the file's line number: the header is line 1, the bad (third) row line 4
    assert (q["row_number"], q["column"], q["raw_value"]) == (4, column, raw)
    for w in words:
        assert w in q["reason"], q["reason"]


def test_v1_input_of_a_city_loads_the_same_rows_and_gives_the_same_findings(tmp_path):
    """The same synthetic city written as version 1 and as version 2: the version-1 columns load
    identically, and the detectors that read no v2 column find the same (the subsidy rules that
    read payment types, proxies, subtypes, means tests, exclusive groups or allocations, and the
    medical rules that read admissions, planned readmissions, course items or level prices, find
    more, or less, on v2: that is what the columns are for)."""
    from fundwatch.pipeline import detect_step
    from fundwatch.synth import generate_city, write_city

    city = generate_city(2000, seed=3)
    v1 = load_input(write_city(city, tmp_path / "v1", contract_version=1))
    v2 = load_input(write_city(city, tmp_path / "v2"))
    assert set(v2.datasets) == set(v1.datasets) | set(V2_DATASETS)
    for name, frame in v1.datasets.items():
        assert v2.absent_columns[name] == []
        assert_frame_equal(frame, v2.datasets[name].select(frame.columns))
    found_v1 = detect_step(v1.datasets)
    assert found_v1.findings.height > 0
    found_v2 = detect_step(v2.datasets).findings
    # rules that need v2 columns (skipped on v1), rules that read v2 values where present, and
    # the peer models, which read the rule findings, may differ; every other detector finds
    # exactly the same
    medical_v2_only = {"RESTRICTED_INDICATION", "VISIT_TYPE_LIMIT", "FREQUENCY_LIMIT", "OVERSUPPLY", "TRACE_CODE_REUSE"}
    v2_aware = pl.col("rule_code").is_in(sorted({
        "DUPLICATE_PAYMENT", "ANNUAL_DUPLICATE", "OVER_STANDARD", "DELAYED_PAYMENT", "UNDER_PAYMENT",
        "CADRE_HELD_CARDS", "SHARED_ACCOUNT", "ASSET_OWNER_RECIPIENT", "HOUSEHOLD_MEANS_TEST",
        "EXCLUSIVE_BENEFITS", "UNPAID_ALLOCATION",
        # medical: admission ids and planned readmissions, treatment-course items, level and
        # date prices excuse legitimate care or price by level; the peer models read findings
        *medical_v2_only, "SPLIT_ADMISSION", "FREQUENT_VISITS", "OVER_PRICE", "INSTITUTION_OUTLIER",
        "DOCTOR_OUTLIER",
    }))
    # GROUP_ADMISSION names the village from regions (v2) in its sentences; nothing else differs
    named = pl.col("rule_code") == "GROUP_ADMISSION"
    assert_frame_equal(found_v1.findings.filter(~v2_aware & ~named), found_v2.filter(~v2_aware & ~named))
    texts = ["evidence_zh", "evidence_en"]
    assert_frame_equal(found_v1.findings.filter(named).drop(texts), found_v2.filter(named).drop(texts))
    assert not set(found_v1.findings["rule_code"]) & medical_v2_only
    assert medical_v2_only <= set(found_v2["rule_code"])
    # the v2 columns only take false alarms away from the in-patient rule
    split = pl.col("rule_code") == "SPLIT_ADMISSION"
    assert set(found_v2.filter(split)["entity_id"]) <= set(found_v1.findings.filter(split)["entity_id"])
