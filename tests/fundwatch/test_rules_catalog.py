"""The catalogue is built from the detectors' declarations and filled from the settings."""

from __future__ import annotations

import re

import subprocess
import sys

from fundwatch import rules_catalog
from fundwatch.detectors import all_detectors
from fundwatch.rules_catalog import RULES, catalogue, rule_title
from fundwatch.settings import DEFAULT_SETTINGS, Settings


def test_every_emitted_code_is_catalogued_once_with_its_detector():
    dets = all_detectors()
    assert set(RULES) == {c for d in dets for c in d.codes}
    for d in dets:
        for spec in d.rule_specs():
            info = RULES[spec.code]
            assert (info.detector, info.domain, info.kind) == (d.name(), d.domain, d.kind)
            assert (info.family, info.weight, info.entity_type, info.title_zh) == (
                spec.family, spec.weight, spec.entity_type, spec.title_zh)


def test_order_is_subsidy_then_medical_rules_before_models():
    keys = [(("subsidy", "medical").index(r.domain), ("rule", "model").index(r.kind)) for r in RULES.values()]
    assert keys == sorted(keys)


def test_texts_follow_the_settings():
    s = Settings.model_validate({"subsidy": {"max_delay_days": 60, "shared_account_min_households": 3},
                                 "medical": {"phantom_min_days": 10}})
    cat = catalogue(s)
    assert cat["DELAYED_PAYMENT"].meaning_zh == "正常发放的日期晚于所属期开始超过该补贴的发放时限(未规定的按60天,按年发放的按365天)"
    assert "60 days" in cat["DELAYED_PAYMENT"].meaning_en
    assert "3户" in cat["SHARED_ACCOUNT"].meaning_zh
    assert "10天" in cat["PHANTOM_INPATIENT"].meaning_zh
    assert "90" in RULES["DELAYED_PAYMENT"].meaning_zh  # the default catalogue is unchanged
    assert catalogue(DEFAULT_SETTINGS) == RULES


def test_folding_is_declared_on_the_child_and_names_a_catalogued_parent():
    folds = {c: r.folds_into for c, r in RULES.items() if r.folds_into}
    assert folds == {"DOCTOR_OUTLIER": ("INSTITUTION_OUTLIER", "institution_id")}


def test_rule_title_and_text():
    assert rule_title("DECEASED_PAYEE") == "死亡人员仍领取补贴"
    assert rule_title("DECEASED_PAYEE", "en") == "Payments to a deceased person"
    assert rule_title("NOT_A_CODE") == "NOT_A_CODE"
    assert RULES["CLAIM_AFTER_DEATH"].text("basis", "zh").startswith("《医疗保障基金使用监督管理条例》(国务院令第735号)")
    assert RULES["CLAIM_AFTER_DEATH"].text("checklist", "en") == RULES["CLAIM_AFTER_DEATH"].checklist_en


def test_listing_prints_every_code():
    out = subprocess.run([sys.executable, "-m", "fundwatch.rules_catalog"], capture_output=True, text=True, check=True)
    assert [line.split()[0] for line in out.stdout.splitlines()] == list(RULES)
    assert rules_catalog.RULES is RULES


def test_the_architecture_document_names_every_code():
    """docs/architecture.md lists the codes by family: a new rule must appear there too."""
    from pathlib import Path

    from fundwatch.detectors.registry import detector_classes

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\b[A-Z][A-Z_]{3,}[A-Z]\b", doc))
    codes = {c for cls in detector_classes() for c in cls.codes}
    assert codes - listed == set()
