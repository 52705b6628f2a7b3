"""Findings -> leads: merging, money counted once, stable ids, titles, evidence table."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import polars as pl
import pytest

from fundwatch.detectors.base import FINDINGS_SCHEMA, conform_findings
from fundwatch.contract import LEADS_SCHEMA
from fundwatch.rules_catalog import RULES
from fundwatch.leads import (
    EVIDENCE_SCHEMA, build_leads, evidence_table, fmt_money, lead_id_of, money_by, money_by_month, total_at_risk,
)

P1 = "11010519491231002X"
P2 = "110105195001010015"


def finding(code, entity_id=P1, records=("D1",), amounts=(100.0,), *, domain="subsidy", entity_type="person",
            score=1.0, start="2025-01", end=None, region="110105001001", evidence=None):
    return {
        "rule_code": code, "domain": domain, "entity_type": entity_type, "entity_id": entity_id,
        "record_ids": list(records), "record_amounts": list(amounts), "amount_at_risk": float(sum(amounts)),
        "score": score, "period_start": start, "period_end": end or start,
        "region_code": region, "evidence_zh": evidence or f"{code} 证据 {entity_id}",
        "evidence_en": evidence or f"{code} evidence {entity_id}", "details": "{}",
    }


def frame(rows) -> pl.DataFrame:
    return conform_findings(pl.DataFrame(rows, schema=FINDINGS_SCHEMA))


def test_two_rules_on_one_payment_make_one_lead_and_count_the_money_once():
    # INELIGIBLE_AGE and OFFICIAL_RECIPIENT are both in the "eligibility" family
    f = frame([
        finding("OFFICIAL_RECIPIENT", records=("D2", "D1"), amounts=(300.0, 300.0)),
        finding("INELIGIBLE_AGE", records=("D1",), amounts=(250.0,), start="2024-12"),
    ])
    leads = build_leads(f)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    # the main finding first (the one the title names: the likelier), then the others by code
    assert lead["rule_codes"] == ["OFFICIAL_RECIPIENT", "INELIGIBLE_AGE"]
    assert lead["title"].startswith(RULES["OFFICIAL_RECIPIENT"].title_zh)
    assert lead["record_ids"] == ["D1", "D2"]
    assert lead["amount_at_risk"] == pytest.approx(600.0)  # D1 once at its max (300), D2 300
    assert (lead["period_start"], lead["period_end"]) == ("2024-12", "2025-01")


def test_families_on_one_entity_meet_and_other_entities_stay_apart():
    f = frame([
        finding("DECEASED_PAYEE"), finding("DUPLICATE_PAYMENT", records=("D2",)),
        finding("DECEASED_PAYEE", entity_id=P2, records=("D9",)),
    ])
    leads = build_leads(f)
    assert leads.height == 2
    one = leads.filter(pl.col("entity_id") == P1).row(0, named=True)
    assert one["rule_codes"] == ["DECEASED_PAYEE", "DUPLICATE_PAYMENT"] and one["record_ids"] == ["D1", "D2"]


def test_group_lead_references_every_members_records():
    f = frame([
        finding("COLLUSIVE_GROUP", "G-0001", records=("C3", "C1", "C2"), amounts=(10.0, 20.0, 30.0),
                domain="medical", entity_type="group", score=0.8),
    ])
    lead = build_leads(f).row(0, named=True)
    assert lead["entity_type"] == "group" and lead["record_ids"] == ["C1", "C2", "C3"]
    assert lead["amount_at_risk"] == pytest.approx(60.0)


def test_schema_rank_order_and_input_order_do_not_matter():
    rows = [finding("DECEASED_PAYEE", f"1101051949123{i:04d}", records=(f"D{i}",), amounts=(50.0 * (i + 1),)) for i in range(20)]
    rows += [finding("DELAYED_PAYMENT", P2, records=("X1",), amounts=(5.0,), score=0.6)]
    leads = build_leads(frame(rows))
    assert leads.schema == LEADS_SCHEMA
    assert leads["rank"].to_list() == list(range(1, leads.height + 1))
    assert leads["score"].is_sorted(descending=True)
    shuffled = pl.DataFrame(rows, schema=FINDINGS_SCHEMA).sample(fraction=1.0, shuffle=True, seed=7)
    assert build_leads(shuffled).equals(leads)


def test_lead_ids_depend_only_on_the_problem_and_survive_an_added_month():
    three = [finding("DECEASED_PAYEE", records=(f"D{m}",), start=f"2025-0{m}") for m in (1, 2, 3)]
    three += [finding("VILLAGE_OUTLIER", "110105001001", records=(), amounts=(), entity_type="village", score=0.7)]
    four = three + [finding("DECEASED_PAYEE", records=("D4",), start="2025-04"),
                    finding("DUPLICATE_PAYMENT", P2, records=("D8",), start="2025-04")]
    a, b = build_leads(frame(three)), build_leads(frame(four))
    ids_a = dict(zip(a["entity_id"], a["lead_id"]))
    ids_b = dict(zip(b["entity_id"], b["lead_id"]))
    assert all(ids_b[k] == v for k, v in ids_a.items())
    assert b.height == a.height + 1
    assert ids_a[P1] == lead_id_of("subsidy", "person", P1)
    assert ids_a[P1] != lead_id_of("subsidy", "account", P1)
    assert ids_a[P1].startswith("FW-") and len(ids_a[P1]) == 3 + 16


def test_title_and_explanation_speak_to_a_supervisor():
    f = frame([finding("DECEASED_PAYEE", records=("D1", "D2", "D3", "D4"), amounts=(410.0,) * 4,
                       evidence="死亡日期 2024-12-20,之后发放 4 笔")])
    zh = build_leads(f).row(0, named=True)
    assert zh["title"] == f"死亡人员仍领取补贴:{P1} 共 4 笔,存疑金额 1,640.00 元"
    assert "死亡日期 2024-12-20" in zh["explanation"] and "评分" in zh["explanation"]
    assert "属实概率" in zh["explanation"] and "存疑金额 1,640.00 元" in zh["explanation"]
    # no English rule codes inside the Chinese text
    assert not re.search(r"[A-Z]{2,}_[A-Z]", zh["title"] + zh["explanation"])
    en = build_leads(f, lang="en").row(0, named=True)
    assert en["title"].startswith("Payments to a deceased person") and "1,640.00" in en["title"]
    assert "score" in en["explanation"]


def test_explanation_opens_with_the_main_finding_whatever_its_code():
    # a weak finding whose code sorts first and a strong one on the same person: the title and
    # the first sentence both name the strong one (a supervisor reads the first as the reason)
    f = frame([
        finding("DUPLICATE_PAYMENT", P1, ("D1",), (50.0,), score=0.1, evidence="weak sentence"),
        finding("OVER_STANDARD", P1, ("D2",), (80.0,), score=1.0, evidence="strong sentence"),
    ])
    lead = build_leads(f).row(0, named=True)
    assert lead["rule_codes"] == ["OVER_STANDARD", "DUPLICATE_PAYMENT"]
    assert lead["explanation"].startswith("strong sentence;weak sentence")


def test_an_institution_lead_is_titled_by_its_name_with_the_code_beside_it():
    f = frame([
        finding("OVER_PRICE", "H001", ("C1",), (300.0,), domain="medical", entity_type="institution"),
        finding("OVER_PRICE", "H002", ("C2",), (200.0,), domain="medical", entity_type="institution"),
    ])
    institutions = pl.DataFrame({"institution_id": ["H001", "H002"], "name": ["城东卫生院", "  "]})
    titles = dict(zip(*build_leads(f, datasets={"institutions": institutions}).select("entity_id", "title")))
    assert "机构 城东卫生院(H001) 共 1 笔," in titles["H001"]
    assert "机构 H002 共 1 笔," in titles["H002"]  # a blank name: the code alone
    assert "机构 H001 共" in build_leads(f)["title"][0]  # no institutions dataset: the code


def test_explanation_caps_the_evidence_sentences():
    rows = [finding("OVER_PRICE", "H001", records=(f"C{i}",), domain="medical", entity_type="institution",
                    evidence=f"项目 {i} 超限价") for i in range(12)]
    lead = build_leads(frame(rows)).row(0, named=True)
    assert lead["explanation"].count("项目 ") == 5 and "另有 7 条" in lead["explanation"]


def test_most_precise_region_and_unattributed_money():
    f = frame([
        finding("VILLAGE_OUTLIER", "110105001001", records=(), amounts=(), entity_type="village", score=0.5, region="110105"),
        finding("VILLAGE_OUTLIER", "110105001001", records=(), amounts=(), entity_type="village", score=0.9, region="110105001001"),
    ])
    f = f.with_columns(pl.Series("amount_at_risk", [800.0, 1200.0]))
    lead = build_leads(f).row(0, named=True)
    assert lead["region_code"] == "110105001001"
    assert lead["amount_at_risk"] == pytest.approx(1200.0)  # the largest unattributed amount, not the sum
    assert lead["record_ids"] == []


def test_empty_findings_give_empty_leads():
    leads = build_leads(pl.DataFrame(schema=FINDINGS_SCHEMA))
    assert leads.height == 0 and leads.schema == LEADS_SCHEMA


def test_many_findings_vectorised():
    rng = np.random.default_rng(0)
    n = 30_000
    ent = [f"1101051950{i:08d}" for i in rng.integers(0, 5000, n)]
    codes = rng.choice(["DECEASED_PAYEE", "DUPLICATE_PAYMENT", "OVER_STANDARD", "INELIGIBLE_AGE", "OFFICIAL_RECIPIENT"], n)
    recs = [f"D{e}-{i}" for e, i in zip(ent, rng.integers(0, 8, n))]  # a payment belongs to one person
    f = pl.DataFrame({
        "rule_code": codes, "domain": "subsidy", "entity_type": "person", "entity_id": ent,
        "record_ids": [[r] for r in recs], "record_amounts": [[float(a)] for a in rng.uniform(10, 500, n).round(2)],
        "amount_at_risk": 0.0, "score": rng.uniform(0, 1, n), "period_start": "2025-01",
        "period_end": "2025-03", "region_code": "110105001001", "evidence_zh": "x", "evidence_en": "x", "details": "{}",
    }, schema_overrides=dict(FINDINGS_SCHEMA))
    leads = build_leads(f)
    assert leads["lead_id"].n_unique() == leads.height
    # every entity is one lead
    assert leads.height == len(set(ent))
    # money: per lead, sum over unique records of the max amount
    expect = (
        f.explode(["record_ids", "record_amounts"])
        .group_by("entity_id", "record_ids").agg(pl.col("record_amounts").max())
        .group_by("entity_id").agg(pl.col("record_amounts").sum())
    )
    assert leads["amount_at_risk"].sum() == pytest.approx(expect["record_amounts"].sum(), rel=1e-9)
    assert total_at_risk(leads) == pytest.approx(expect["record_amounts"].sum(), abs=0.05)


def test_fmt_money():
    s = pl.select(fmt_money(pl.lit(pl.Series([0.0, 5.5, 1640.0, 1234567.891, -12.5])))).to_series().to_list()
    assert s == ["0.00", "5.50", "1,640.00", "1,234,567.89", "-12.50"]


def test_evidence_table_joins_payments_and_claims():
    f = frame([
        finding("DECEASED_PAYEE", records=("D1", "D404"), amounts=(100.0, 100.0)),
        finding("CLAIM_AFTER_DEATH", P2, records=("C1",), amounts=(80.0,), domain="medical"),
    ])
    leads = build_leads(f)
    datasets = {
        "persons": pl.DataFrame({"person_id": [P1, P2], "name": ["张三", "李四"]}),
        "disbursements": pl.DataFrame({
            "disbursement_id": ["D1", "D2"], "batch_id": ["B1", "B1"], "subsidy_type": ["min_living"] * 2,
            "person_id": [P1, P1], "name": [None, "张三"], "period": ["2025-01", "2025-02"],
            "pay_date": [dt.date(2025, 1, 15), dt.date(2025, 2, 15)], "amount": [100.0, 100.0], "quantity": [1.0, 1.0],
        }),
        "subsidy_standards": pl.DataFrame({"subsidy_type": ["min_living"], "subsidy_name": ["最低生活保障"]}),
        "claims": pl.DataFrame({
            "claim_id": ["C1"], "person_id": [P2], "institution_id": ["H1"], "visit_type": ["outpatient"],
            "visit_date": [dt.date(2025, 3, 1)], "discharge_date": [None], "diagnosis_code": ["J06"],
            "total_amount": [120.0], "fund_amount": [80.0],
        }, schema_overrides={"discharge_date": pl.Date}),
        "institutions": pl.DataFrame({"institution_id": ["H1"], "name": ["城关卫生院"]}),
    }
    ev = evidence_table(leads, datasets)
    assert ev.schema == EVIDENCE_SCHEMA
    rows = {r["record_id"]: r for r in ev.iter_rows(named=True)}
    assert set(rows) == {"D1", "D404", "C1"}
    assert rows["D1"]["record_type"] == "disbursement" and rows["D1"]["name"] == "张三"  # from persons
    assert rows["D1"]["counterparty"] == "最低生活保障" and rows["D1"]["date"] == dt.date(2025, 1, 15)
    assert rows["C1"]["record_type"] == "claim" and rows["C1"]["counterparty"] == "城关卫生院"
    assert rows["C1"]["amount"] == 120.0 and "门诊" in rows["C1"]["description"]
    assert rows["D404"]["record_type"] == "disbursement" and rows["D404"]["amount"] is None


# -- money definitions ---------------------------------------------------------------------
def model(code, entity_id, entity_type, records, amounts, at_risk, n_all=None, involved=None, score=0.9):
    row = finding(code, entity_id, records, amounts, entity_type=entity_type, score=score, region="110105001001")
    row["amount_at_risk"] = at_risk
    details = {} if n_all is None else {"n_records": n_all, "amount_involved": involved}
    row["details"] = json.dumps(details)
    return row


def test_model_money_is_its_whole_excess_and_each_listed_record_counts_once():
    # the model lists 2 of its 50 records (10 + 20 of excess) but estimates 1,000 over all of them;
    # a rule on the same village cites R1 with 100 (its whole payment against the rule)
    f = frame([
        model("VILLAGE_OUTLIER", "110105001001", "village", ("R1", "R2"), (10.0, 20.0), 1000.0, n_all=50, involved=5000.0),
        finding("DECEASED_PAYEE", "110105001001", ("R1",), (100.0,), entity_type="village"),
    ])
    lead = build_leads(f).row(0, named=True)
    assert lead["record_ids"] == ["R1", "R2"] and lead["record_amounts"] == [100.0, 20.0]
    assert lead["amount_at_risk"] == pytest.approx(100.0 + 20.0 + 970.0)  # R1 at its max, R2, the unlisted 970
    assert lead["amount_involved"] == pytest.approx(5000.0)
    assert " 共 50 笔," in lead["title"]  # the real records, not the listed two


def test_amount_involved_is_the_money_of_the_evidence_records():
    # over-standard: 30 of a 100 payment is against the rule; the record is worth 100
    f = frame([finding("OVER_STANDARD", records=("D1", "D2"), amounts=(30.0, 30.0))])
    payments = pl.DataFrame({"disbursement_id": ["D1", "D2", "D3"], "amount": [100.0, 130.0, 999.0]})
    lead = build_leads(f, datasets={"disbursements": payments}).row(0, named=True)
    assert lead["amount_at_risk"] == pytest.approx(60.0) and lead["amount_involved"] == pytest.approx(230.0)
    no_data = build_leads(f).row(0, named=True)
    assert no_data["amount_involved"] == pytest.approx(60.0)  # never below the money at risk


# -- merged and related leads --------------------------------------------------------------
def test_village_and_its_operator_citing_the_same_records_are_one_lead_counting_money_once():
    recs = tuple(f"R{i}" for i in range(10))
    f = frame([
        model("VILLAGE_OUTLIER", "110105001001", "village", recs, (10.0,) * 10, 800.0, n_all=40, involved=4000.0),
        model("OPERATOR_OUTLIER", "JB001", "operator", recs, (9.0,) * 10, 700.0, n_all=45, involved=4200.0, score=0.8),
    ])
    leads = build_leads(f)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert lead["rule_codes"] == ["VILLAGE_OUTLIER", "OPERATOR_OUTLIER"]
    assert lead["entity_type"] == "village"  # the stronger finding's entity
    # listed 10 x 10 + the larger unlisted estimate (700, not 700 + 610)
    assert lead["amount_at_risk"] == pytest.approx(100.0 + 700.0)
    assert "经办人 JB001" in lead["explanation"]
    assert total_at_risk(leads) == pytest.approx(lead["amount_at_risk"])


def test_a_merged_lead_is_placed_where_its_own_entity_is():
    # the village's operator brings two findings placed in another of their villages: the
    # merged lead about the village stays in the village
    recs = tuple(f"R{i}" for i in range(10))
    operator = model("OPERATOR_OUTLIER", "JB001", "operator", recs, (9.0,) * 10, 700.0, score=0.8)
    delayed = finding("DELAYED_PAYMENT", "JB001", recs[:6], (1.0,) * 6, entity_type="operator", region="110105001002")
    operator["region_code"] = "110105001002"
    f = frame([model("VILLAGE_OUTLIER", "110105001001", "village", recs, (10.0,) * 10, 800.0), operator, delayed])
    lead = build_leads(f).row(0, named=True)
    assert lead["entity_id"] == "110105001001" and lead["region_code"] == "110105001001"


def test_a_card_holder_and_the_card_are_one_lead():
    f = frame([
        finding("CADRE_HELD_CARDS", P1, ("D1", "D2", "D3"), (100.0,) * 3),
        finding("SHARED_ACCOUNT", "6217000000001", ("D1", "D2", "D3", "D4"), (100.0,) * 4, entity_type="account"),
    ])
    leads = build_leads(f)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert set(lead["rule_codes"]) == {"CADRE_HELD_CARDS", "SHARED_ACCOUNT"}
    assert lead["record_ids"] == ["D1", "D2", "D3", "D4"] and lead["amount_at_risk"] == pytest.approx(400.0)
    # the merged card is named, masked (output masking only knows the lead's own entity)
    assert "同一问题合并:账户 621700***0001 |" in lead["explanation"]


def test_leads_sharing_a_few_records_are_linked_not_merged_and_totals_count_them_once():
    village = tuple(f"D{i}" for i in range(1, 11))
    f = frame([
        finding("DECEASED_PAYEE", P1, ("D1",), (90.0,)),
        model("VILLAGE_OUTLIER", "110105001001", "village", village, (50.0,) * 10, 2000.0),
        finding("DECEASED_PAYEE", P2, ("X9",), (70.0,)),
    ])
    leads = build_leads(f)
    assert leads.height == 3
    ids = dict(zip(leads["entity_id"], leads["lead_id"]))
    rel = dict(zip(leads["entity_id"], leads["related_lead_ids"].to_list()))
    assert rel[P1] == [ids["110105001001"]] and rel["110105001001"] == [ids[P1]] and rel[P2] == []
    # D1: 90 (the person's lead) and 50 (the village's share): counted once, at 90
    assert total_at_risk(leads) == pytest.approx(90.0 + 9 * 50.0 + 1500.0 + 70.0)
    assert leads["amount_at_risk"].sum() == pytest.approx(total_at_risk(leads) + 50.0)
    # per month, type, place and rule too: each grouping adds up to the total, never more
    by = money_by(leads)
    for grouping in ("month", "type", "place", "rule"):
        assert sum(by[grouping].values()) == pytest.approx(total_at_risk(leads)), grouping
    # D1 counts once, at its largest amount (90), in the group of the best-ranked lead citing it
    first = leads.sort("rank")["rule_codes"][0][0]
    assert first == "VILLAGE_OUTLIER"
    assert by["rule"] == pytest.approx({"DECEASED_PAYEE": 70.0, "VILLAGE_OUTLIER": 90.0 + 9 * 50.0 + 1500.0})


def test_money_falls_in_each_records_month_and_a_models_excess_spreads_over_its_period():
    # a village model over the year: two listed payments (March, July) and 1,200 of excess on
    # records it did not list; a deceased payee cites the March payment too, and two of its own
    # (one record in three shared: linked leads, not merged)
    village = model("VILLAGE_OUTLIER", "110105001001", "village", ("D1", "D2"), (50.0, 50.0), 1300.0)
    village.update(period_start="2025-01", period_end="2025-12")
    f = frame([village, finding("DECEASED_PAYEE", P1, ("D1", "D3", "D4"), (90.0, 20.0, 20.0), start="2025-03", end="2025-05")])
    leads = build_leads(f)
    assert leads.height == 2
    dates = {"D1": dt.date(2025, 3, 5), "D2": dt.date(2025, 7, 9), "D3": dt.date(2025, 5, 20), "D4": dt.date(2025, 5, 21)}
    evidence = pl.DataFrame({"record_id": list(dates), "date": list(dates.values())}).join(
        leads.select("lead_id", "record_ids").explode("record_ids"), left_on="record_id", right_on="record_ids"
    )
    months = {k: (n, m) for k, n, m in money_by_month(leads, evidence).iter_rows()}
    assert sorted(months) == [f"2025-{m:02d}" for m in range(1, 13)]  # no December pile
    # D1 once, at its largest amount, with the best-ranked lead citing it (the village)
    assert months["2025-03"] == (1, pytest.approx(90.0 + 100.0))
    assert months["2025-05"] == (2, pytest.approx(40.0 + 100.0))
    assert months["2025-07"] == (1, pytest.approx(50.0 + 100.0))
    assert months["2025-12"] == (1, pytest.approx(100.0))
    assert sum(m for _, m in months.values()) == pytest.approx(total_at_risk(leads))
    assert money_by(leads, money_by_month(leads, evidence))["month"] == pytest.approx({k: m for k, (_, m) in months.items()})
    # without record dates, each lead's money falls in the month its period ends
    assert set(money_by(leads)["month"]) == {"2025-05", "2025-12"}


def test_place_names_beside_their_codes():
    regions = pl.DataFrame({"region_code": ["110105", "110105001001"], "name": ["朝阳区", "东村"], "parent_code": [None, "110105"]})
    f = frame([
        model("VILLAGE_OUTLIER", "110105001001", "village", ("R1",), (10.0,), 10.0),
        finding("DECEASED_PAYEE", P1, ("D1",), (90.0,), region="110105000000"),
        finding("DECEASED_PAYEE", P2, ("D2",), (90.0,), region="990000000000"),
    ])
    leads = build_leads(f, datasets={"regions": regions})
    by = {r["entity_id"]: r for r in leads.iter_rows(named=True)}
    assert "村(社区) 东村(110105001001)" in by["110105001001"]["title"]
    assert by["110105001001"]["region_name"] == "东村"
    assert by[P1]["region_name"] == "朝阳区"  # a zero-padded code names its county
    assert by[P2]["region_name"] == ""  # unknown: empty


def test_an_institutions_rule_and_model_findings_and_its_doctors_are_one_lead():
    inst = "H51030300013"
    doctor = model("DOCTOR_OUTLIER", f"{inst}-014", "doctor", ("C9",), (30.0,), 30.0)
    doctor["details"] = json.dumps({"institution_id": inst})
    doctor["domain"] = "medical"
    f = frame([
        {**model("INSTITUTION_OUTLIER", inst, "institution", ("C1", "C2"), (50.0, 50.0), 400.0), "domain": "medical"},
        finding("OVER_PRICE", inst, ("C1",), (20.0,), domain="medical", entity_type="institution"),
        doctor,
    ])
    leads = build_leads(f)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert lead["rule_codes"] == ["OVER_PRICE", "DOCTOR_OUTLIER", "INSTITUTION_OUTLIER"]
    assert lead["entity_type"] == "institution" and lead["entity_id"] == inst
    # C1 at its larger amount (50), C2 50, the doctor's C9 30, the model's unlisted 300
    assert lead["amount_at_risk"] == pytest.approx(50.0 + 50.0 + 30.0 + 300.0)


def _doctor(inst: str, n: int, record: str) -> dict:
    row = model("DOCTOR_OUTLIER", f"{inst}-{n:03d}", "doctor", (record,), (30.0,), 30.0)
    row.update(details=json.dumps({"institution_id": inst}), domain="medical")
    return row


def test_several_doctors_of_one_unflagged_clinic_are_one_lead_about_the_clinic_one_is_not():
    crowded, single = "C51030200010", "H51030300013"
    f = frame([_doctor(crowded, 0, "C1"), _doctor(crowded, 1, "C2"), _doctor(crowded, 2, "C3"), _doctor(single, 5, "C9")])
    leads = build_leads(f)
    by = {(r["entity_type"], r["entity_id"]): r for r in leads.iter_rows(named=True)}
    assert set(by) == {("institution", crowded), ("doctor", f"{single}-005")}
    clinic = by[("institution", crowded)]
    assert clinic["rule_codes"] == ["DOCTOR_OUTLIER"] and clinic["record_ids"] == ["C1", "C2", "C3"]
    assert clinic["amount_at_risk"] == pytest.approx(90.0)
    # the threshold is a setting: at 4 siblings the three doctors stay apart
    from fundwatch.settings import DEFAULT_SETTINGS

    strict = DEFAULT_SETTINGS.scoring.model_copy(update={"fold_min_siblings": 4})
    assert build_leads(f, settings=strict).height == 4


def test_an_allocation_batchs_region_is_named():
    regions = pl.DataFrame({"region_code": ["110105"], "name": ["朝阳区"]})
    row = finding("UNPAID_ALLOCATION", "B-2025-07@110105", ("A1",), (720.0,), entity_type="batch", region="110105")
    lead = build_leads(frame([row]), datasets={"regions": regions}).row(0, named=True)
    assert "批次 B-2025-07@朝阳区(110105)" in lead["title"]
