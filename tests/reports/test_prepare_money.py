"""Report preparation over merged leads: findings of every merged entity, money counted once."""

from __future__ import annotations

import json

import polars as pl
import pytest

from fundwatch.detectors.base import FINDINGS_SCHEMA, conform_findings
from fundwatch.leads import build_leads, total_at_risk
from fundwatch.reports.prepare import localise_leads, match_findings


def finding(code, entity_type, entity_id, records, amounts, at_risk, n_all, score=0.9):
    return {
        "rule_code": code, "domain": "subsidy", "entity_type": entity_type, "entity_id": entity_id,
        "record_ids": list(records), "record_amounts": list(amounts), "amount_at_risk": at_risk, "score": score,
        "period_start": "2025-01", "period_end": "2025-12", "region_code": "110105001001",
        "evidence_zh": f"{code} 证据", "evidence_en": f"{code} evidence",
        "details": json.dumps({"n_records": n_all, "amount_involved": 10 * at_risk}),
    }


@pytest.fixture()
def merged():
    recs = [f"R{i}" for i in range(6)]
    f = conform_findings(pl.DataFrame([
        finding("VILLAGE_OUTLIER", "village", "110105001001", recs, [10.0] * 6, 900.0, 300),
        finding("OPERATOR_OUTLIER", "operator", "JB01", recs, [8.0] * 6, 800.0, 320, score=0.8),
    ], schema=FINDINGS_SCHEMA))
    return f, build_leads(f, datasets={"regions": pl.DataFrame({"region_code": ["110105001001"], "name": ["东村"]})})


def test_findings_of_every_merged_entity_belong_to_the_lead(merged):
    f, leads = merged
    assert leads.height == 1
    m = match_findings(leads, f)
    assert sorted(m["rule_code"].to_list()) == ["OPERATOR_OUTLIER", "VILLAGE_OUTLIER"]


def test_english_title_counts_the_real_records_and_names_the_place(merged):
    f, leads = merged
    en = localise_leads(leads, match_findings(leads, f), "en").row(0, named=True)
    assert "320 records" in en["title"] and "东村(110105001001)" in en["title"]
    assert total_at_risk(leads) == pytest.approx(60.0 + 840.0)  # listed once + the larger unlisted estimate


@pytest.mark.parametrize("group, zh, en", [
    ("care_level|level-1", "同级医疗机构(1 级)", "same care level (level 1)"),
    ("kind_level_small|township_health_center-1", "同类同级机构(乡镇卫生院,1 级)", "same kind and level (township health centre, level 1)"),
    ("county_mix|510302/farmland+min_living", "同县(区)同补贴结构 自流井区(510302)", "same county and subsidy mix 自流井区(510302)"),
    ("city|5103", "全市", "the whole city"),
])
def test_peer_groups_of_every_level_read_in_the_readers_language(group, zh, en):
    from fundwatch.reports.i18n import peer_group_label

    places = {"510302": "自流井区"}
    assert peer_group_label(group, "zh", places) == zh
    assert peer_group_label(group, "en", places) == en


def test_every_peer_level_of_every_peer_model_has_a_chinese_label():
    # a level without a label would print its internal name (care_level ...) in Chinese text
    import re

    from fundwatch.detectors.peers import doctors, institutions, operators, villages
    from fundwatch.reports.i18n import peer_group_label

    models = (doctors.DoctorOutlierModel, institutions.InstitutionOutlierModel,
              operators.OperatorOutlierModel, villages.VillageOutlierModel)
    for level in {lv for m in models for lv in m.peer_levels}:
        label = peer_group_label(f"{level}|x", "zh")
        assert level not in label and not re.search(r"[A-Za-z]{2,}", label.replace(" x", "")), (level, label)


def test_report_names_counties_in_charts_and_peer_groups(tmp_path):
    from fundwatch.reports.i18n import peer_group_label

    assert peer_group_label("county|510302", "zh", {"510302": "自流井区"}) == "同县(区) 自流井区(510302)"
    assert peer_group_label("county|510399", "zh", {"510302": "自流井区"}) == "同县(区) 510399"
    from fundwatch.reports.html import render_report

    f, leads = _merged_frames()
    html = render_report(leads=leads, status=None, findings=f, evidence=None, run_info={}, validation_summary=None,
                         docs_href=None, places=pl.DataFrame({"region_code": ["110105"], "region_name": ["朝阳区"]}))
    assert "朝阳区 110105" in html  # the county chart's label


def _merged_frames():
    recs = [f"R{i}" for i in range(6)]
    f = conform_findings(pl.DataFrame([
        finding("VILLAGE_OUTLIER", "village", "110105001001", recs, [10.0] * 6, 900.0, 300),
    ], schema=FINDINGS_SCHEMA))
    return f, build_leads(f)
