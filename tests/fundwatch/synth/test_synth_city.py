"""The synthetic city: determinism, contract shape, money, identity numbers, planted truth."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest

from fundwatch.contract import DATASETS
from fundwatch.idnumber import birth_date_of, gender_of, is_valid_person_id
from fundwatch.rules_catalog import RULES
from fundwatch.synth import LABEL_SCHEMA, generate_city, write_city

N = 3000


@pytest.fixture(scope="module")
def city():
    return generate_city(N, seed=11)


def _truth(city, code, lookalike=False) -> set[str]:
    lab = city.labels.filter((pl.col("anomaly_type") == code) & (pl.col("lookalike") == lookalike))
    return set(lab["record_ids"].explode().drop_nulls().to_list())


def test_deterministic_per_seed():
    a, b = generate_city(2000, seed=3), generate_city(2000, seed=3)
    for name in DATASETS:
        assert a.datasets[name].equals(b.datasets[name]), name
    assert a.labels.equals(b.labels)


def test_different_seeds_differ():
    a, b = generate_city(2000, seed=3), generate_city(2000, seed=4)
    assert not a.datasets["persons"].equals(b.datasets["persons"])
    assert not a.datasets["claims"].equals(b.datasets["claims"])


def test_schemas_match_contract(city):
    assert set(city.datasets) == set(DATASETS)
    for name, df in city.datasets.items():
        assert df.schema == DATASETS[name].schema, name
        for key in DATASETS[name].primary_key[:1]:
            if len(DATASETS[name].primary_key) == 1:
                assert df[key].n_unique() == len(df), name
    assert city.labels.schema == LABEL_SCHEMA


def test_identity_numbers_valid_and_consistent(city):
    p = city.datasets["persons"]
    chk = p.select(
        valid=is_valid_person_id(pl.col("person_id")).all(),
        birth=(birth_date_of(pl.col("person_id")) == pl.col("birth_date")).all(),
        gender=(gender_of(pl.col("person_id")) == pl.col("gender")).all(),
        region=(pl.col("region_code").str.len_chars() == 12).all(),
    ).row(0, named=True)
    assert all(chk.values()), chk
    assert p["person_id"].n_unique() == len(p)
    assert p["region_code"].n_unique() >= 6


def test_money_adds_up(city):
    cl, it = city.datasets["claims"], city.datasets["claim_items"]
    assert (it["amount"] - it["quantity"] * it["unit_price"]).abs().max() <= 0.01
    s = it.group_by("claim_id").agg(s=pl.col("amount").sum())
    j = cl.join(s, on="claim_id", how="left")
    assert j["s"].null_count() == 0
    assert (j["s"] - j["total_amount"]).abs().max() <= 0.01
    assert (cl["fund_amount"] + cl["self_amount"] - cl["total_amount"]).abs().max() <= 0.01
    assert (cl["fund_amount"] >= 0).all() and (cl["self_amount"] >= 0).all()
    assert (city.datasets["disbursements"]["amount"] > 0).all()


def test_every_planted_type_present_with_existing_records(city):
    lab = city.labels.filter(~pl.col("lookalike"))
    ids = {"subsidy": set(city.datasets["disbursements"]["disbursement_id"]),
           "medical": set(city.datasets["claims"]["claim_id"])}
    for code, info in RULES.items():
        rows = lab.filter(pl.col("anomaly_type") == code)
        assert len(rows) >= 2, code
        for r in rows.iter_rows(named=True):
            assert r["record_ids"], (code, r["entity_id"])
            assert set(r["record_ids"]) <= ids[info.domain], code
            assert r["amount"] > 0, code


def test_collusive_groups_are_strangers(city):
    hh = dict(zip(city.datasets["persons"]["person_id"], city.datasets["persons"]["household_id"]))
    groups = city.labels.filter((pl.col("anomaly_type") == "COLLUSIVE_GROUP") & ~pl.col("lookalike"))
    for m in groups["member_ids"].to_list():
        assert 5 <= len(m) <= 12
        assert len({hh[x] for x in m}) == len(m)


def test_lookalikes_present(city):
    la = city.labels.filter(pl.col("lookalike"))
    for code in ["DECEASED_PAYEE", "DUPLICATE_PAYMENT", "OVER_STANDARD", "INELIGIBLE_AGE", "OFFICIAL_RECIPIENT",
                 "ASSET_OWNER_RECIPIENT", "AREA_INFLATION", "DELAYED_PAYMENT", "CADRE_HELD_CARDS", "SHARED_ACCOUNT",
                 "CLAIM_AFTER_DEATH", "EXCESS_QUANTITY", "OVER_PRICE", "OVERLAPPING_STAYS", "SPLIT_ADMISSION",
                 "PHANTOM_INPATIENT", "FREQUENT_VISITS", "INSTITUTION_OUTLIER", "COLLUSIVE_GROUP"]:
        assert len(la.filter(pl.col("anomaly_type") == code)) >= 1, code


# --- reference rules: planted cases violate, look-alikes and normal data do not -------------

def _deceased(city) -> set[str]:
    d = city.datasets["deaths"].group_by("person_id").agg(pl.col("death_date").min())
    pay = city.datasets["disbursements"].join(d, on="person_id")
    return set(pay.filter(pl.col("period") > pl.col("death_date").dt.strftime("%Y-%m"))["disbursement_id"])


def _regular(city) -> pl.Expr:
    return pl.col("payment_type").fill_null("regular") == "regular"


def _duplicates(city) -> set[str]:
    # monthly types; a returned row cancels one payment (v2), top-ups and back-pay aside
    pay = city.datasets["disbursements"].filter(pl.col("subsidy_type") != "farmland")
    key = ["person_id", "subsidy_type", "period"]
    net = (_regular(city).cast(pl.Int64) - (pl.col("payment_type") == "returned").fill_null(False).cast(pl.Int64))
    return set(pay.filter(_regular(city) & (net.sum().over(key) > 1))["disbursement_id"])


def _delayed(city) -> set[str]:
    # regular payments past their standard's pay_within_days (default 90)
    st = city.datasets["subsidy_standards"].select("subsidy_type", "pay_within_days").unique("subsidy_type")
    pay = city.datasets["disbursements"].filter(_regular(city)).join(st, on="subsidy_type", how="left").with_columns(
        start=(pl.col("period") + "-01").str.to_date())
    late = (pl.col("pay_date") - pl.col("start")).dt.total_days() > pl.col("pay_within_days").fill_null(90)
    return set(pay.filter(late)["disbursement_id"])


def _over_standard(city) -> set[str]:
    st = city.datasets["subsidy_standards"]
    pay = city.datasets["disbursements"].with_columns(cc=pl.col("region_code").str.slice(0, 6))
    j = pay.join(st, on="subsidy_type", suffix="_s").filter(
        ((pl.col("region_prefix") == "*") | (pl.col("region_prefix") == pl.col("cc")))
        & (pl.col("period") >= pl.col("valid_from")) & (pl.col("valid_to").is_null() | (pl.col("period") <= pl.col("valid_to"))))
    j = j.with_columns(spec=(pl.col("region_prefix") != "*").cast(pl.Int8)).sort("spec").group_by("disbursement_id").last()
    return set(j.filter(pl.col("amount") > pl.col("amount_s") * pl.col("quantity") + 0.01)["disbursement_id"])


def _after_death(city) -> set[str]:
    d = city.datasets["deaths"].group_by("person_id").agg(pl.col("death_date").min())
    cl = city.datasets["claims"].join(d, on="person_id")
    return set(cl.filter(pl.col("visit_date") > pl.col("death_date"))["claim_id"])


def _items(city) -> pl.DataFrame:
    cat = city.datasets["item_catalog"].select("item_code", "gender_limit", "max_qty_per_day", "price_cap",
                                               min_a="min_age", max_a="max_age")
    p = city.datasets["persons"].select("person_id", "gender", "birth_date")
    cl = city.datasets["claims"].select("claim_id", "person_id")
    return city.datasets["claim_items"].join(cat, on="item_code").join(cl, on="claim_id").join(p, on="person_id")


def _excess(city) -> set[str]:
    it = _items(city).group_by(["claim_id", "item_code", "service_date"]).agg(
        q=pl.col("quantity").sum(), m=pl.col("max_qty_per_day").first())
    return set(it.filter(pl.col("q") > pl.col("m"))["claim_id"])


def _single(city, cond) -> set[str]:
    return set(_items(city).filter(cond)["claim_id"])


def _dup_billing(city) -> set[str]:
    it = city.datasets["claim_items"]
    return set(it.filter(pl.len().over(["claim_id", "item_code", "service_date"]) > 1)["claim_id"])


def _overlap(city) -> set[str]:
    inp = city.datasets["claims"].filter(pl.col("visit_type") == "inpatient")
    j = inp.join(inp, on="person_id", suffix="_b").filter(
        (pl.col("claim_id") != pl.col("claim_id_b")) & (pl.col("institution_id") != pl.col("institution_id_b"))
        & (pl.col("visit_date") < pl.col("discharge_date_b")) & (pl.col("visit_date_b") < pl.col("discharge_date")))
    return set(j["claim_id"])


def _split(city) -> set[str]:
    # contract v2: one admission per admission_id (interim settlements), gaps of 1-15 days,
    # planned readmissions (readmission_planned) excused
    inp = (city.datasets["claims"].filter(pl.col("visit_type") == "inpatient")
           .group_by("person_id", "institution_id", "admission_id")
           .agg(pl.col("visit_date").min(), pl.col("discharge_date").max(), pl.col("diagnosis_code").first(),
                pl.col("readmission_planned").fill_null(False).any(), pl.col("claim_id"))
           .sort(["person_id", "visit_date"]))
    inp = inp.with_columns(prev=pl.col("discharge_date").shift(1).over(["person_id", "institution_id"]),
                           pdx=pl.col("diagnosis_code").shift(1).over(["person_id", "institution_id"]),
                           pplan=pl.col("readmission_planned").shift(1).over(["person_id", "institution_id"]))
    gap = (pl.col("visit_date") - pl.col("prev")).dt.total_days()
    hit = inp.filter(gap.is_between(1, 15) & (pl.col("pdx") == pl.col("diagnosis_code"))
                     & ~pl.col("readmission_planned") & ~pl.col("pplan").fill_null(False))
    return set(hit["claim_id"].explode())


def _over_price(city) -> set[str]:
    # contract v2: the cap of the institution's level on the service date, else the catalogue's
    d = city.datasets
    it = _items(city).join(d["claims"].select("claim_id", "institution_id"), on="claim_id").join(
        d["institutions"].select("institution_id", "level"), on="institution_id").with_row_index("_r")
    lvl = it.join(d["item_prices"].rename({"price_cap": "lvl_cap"}), on=["item_code", "level"]).filter(
        (pl.col("service_date") >= pl.col("valid_from"))
        & (pl.col("valid_to").is_null() | (pl.col("service_date") <= pl.col("valid_to")))).select("_r", "lvl_cap")
    it = it.join(lvl, on="_r", how="left").with_columns(cap=pl.coalesce("lvl_cap", "price_cap"))
    return set(it.filter(pl.col("unit_price") > pl.col("cap") + 0.001)["claim_id"])


REFERENCE = {
    "DECEASED_PAYEE": _deceased,
    "DUPLICATE_PAYMENT": _duplicates,
    "DELAYED_PAYMENT": _delayed,
    "OVER_STANDARD": _over_standard,
    "CLAIM_AFTER_DEATH": _after_death,
    "EXCESS_QUANTITY": _excess,
    "OVER_PRICE": _over_price,
    "GENDER_LIMIT": lambda c: _single(c, pl.col("gender_limit").is_not_null() & (pl.col("gender_limit") != pl.col("gender"))),
    "DUPLICATE_BILLING": _dup_billing,
    "OVERLAPPING_STAYS": _overlap,
    "SPLIT_ADMISSION": _split,
}


@pytest.mark.parametrize("code", sorted(REFERENCE))
def test_reference_rule_finds_exactly_the_planted_cases(city, code):
    flagged = REFERENCE[code](city)
    planted = _truth(city, code)
    assert planted, code
    assert flagged <= planted, f"{code}: {len(flagged - planted)} unplanted records flagged"
    # every planted case is found (a group may hold context records, e.g. the first stay)
    lab = city.labels.filter((pl.col("anomaly_type") == code) & ~pl.col("lookalike"))
    for ids in lab["record_ids"].to_list():
        assert set(ids) & flagged, code
    assert not (flagged & _truth(city, code, lookalike=True)), f"{code}: a look-alike is flagged"


def test_clean_write(tmp_path, city):
    inp = write_city(city, tmp_path)
    assert inp == tmp_path / "input"
    for name in DATASETS:
        assert pl.read_parquet(inp / f"{name}.parquet").equals(city.datasets[name])
    assert pl.read_parquet(tmp_path / "labels.parquet").equals(city.labels)
    assert not (tmp_path / "dirty_rows.parquet").exists()


def test_dirty_write(tmp_path, city):
    inp = write_city(city, tmp_path, dirty=True)
    bad = pl.read_parquet(tmp_path / "dirty_rows.parquet")
    assert len(bad) >= 10 and set(bad["dataset"]) >= {"persons", "disbursements", "claims"}
    assert (inp / "officials.xlsx").exists() and (inp / "claims").is_dir() and (inp / "claims" / "2025-01.csv").exists()
    for r in bad.iter_rows(named=True):
        raw = (inp / r["source_file"]).read_bytes()
        enc = "utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else ("utf-8" if _is_utf8(raw) else "gbk")
        df = pl.read_csv(io.StringIO(raw.decode(enc)), infer_schema=False)
        zh = {c.zh: c.name for c in DATASETS[r["dataset"]].columns}
        df = df.rename({c: zh.get(c, c) for c in df.columns})
        value = df[r["column"]][r["row_number"] - 1]
        assert value in ("2025-13-45", "abc") or r["column"] == "person_id", r
        if r["column"] == "person_id":
            assert not pl.select(is_valid_person_id(pl.lit(value), dt.date(2025, 12, 31))).item()
    gbk = (inp / "disbursements.csv").read_bytes()
    assert not _is_utf8(gbk)
    persons = (inp / "persons.csv").read_text(encoding="utf-8-sig")
    assert "<script>alert(1)</script>" in persons and "DROP TABLE" in persons


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
