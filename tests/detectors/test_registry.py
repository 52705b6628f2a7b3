"""The detector registry, the rule declarations (RuleSpec) and the one ``from_settings``."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from fundwatch.contract import ENTITY_TYPES
from fundwatch.detectors import all_detectors
from fundwatch.detectors.base import Detector, RuleSpec
from fundwatch.detectors.registry import FAMILIES, detector_classes
from fundwatch.settings import DEFAULT_SETTINGS, Settings

CLASSES = detector_classes()
IDS = [c.__name__ for c in CLASSES]
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z_]{2,}")


def _spec(**over) -> RuleSpec:
    kw = dict(code="X_RULE", family="x", weight=0.5, entity_type="person", title_zh="标题", title_en="Title",
              meaning_zh="超过{limit}天", meaning_en="More than {limit} days", basis_zh="依据", basis_en="Basis",
              checklist_zh=("调取{limit}天内的记录",), checklist_en=("Pull {limit} days of records",))
    kw.update(over)
    return RuleSpec(**kw)


def test_registry_finds_every_detector_once_and_all_detectors_uses_it():
    assert len(CLASSES) == len(set(CLASSES)) >= 26
    assert {type(d) for d in all_detectors()} == set(CLASSES)
    for family in FAMILIES:
        assert detector_classes(family), family
        assert all(c.__module__.startswith(f"fundwatch.detectors.{family}.") for c in detector_classes(family))


def test_family_packages_export_their_detectors():
    import fundwatch.detectors.medical as medical
    import fundwatch.detectors.peers as peers
    import fundwatch.detectors.subsidy as subsidy

    for package, family in ((subsidy, "subsidy"), (medical, "medical"), (peers, "peers")):
        for cls in detector_classes(family):
            assert getattr(package, cls.__name__) is cls
            assert cls.__name__ in package.__all__


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_declarations_are_complete_and_plain(cls):
    assert cls.rules and cls.codes == tuple(s.code for s in cls.rules)
    for spec in cls.rules:
        assert spec.entity_type in ENTITY_TYPES
        assert 0 < spec.weight <= 1
        assert spec.checklist_zh and len(spec.checklist_zh) == len(spec.checklist_en)
        filled = spec.filled(cls().get_params())
        zh = [filled.title_zh, filled.meaning_zh, filled.basis_zh, *filled.checklist_zh]
        en = [filled.title_en, filled.meaning_en, filled.basis_en, *filled.checklist_en]
        for text in zh:  # supervisors read these: Chinese, without English codes in it
            assert CJK.search(text) and not LATIN_WORD.search(text), text
        for text in en:
            assert text and not CJK.search(text) and "{" not in text, text


def test_a_placeholder_that_is_not_a_parameter_is_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match="limitt"):
        type("Bad", (Detector,), {"rules": (_spec(meaning_zh="超过{limitt}天"),), "__init__": lambda self, limit=3: None})


def test_spec_texts_are_filled_from_parameters():
    filled = _spec().filled({"limit": 60})
    assert filled.meaning_zh == "超过60天" and filled.meaning_en == "More than 60 days"
    assert filled.checklist_zh == ("调取60天内的记录",)


def test_a_settings_file_changes_the_text(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[subsidy]\nmax_delay_days = 60\n[medical]\nreadmission_days = 10\n", encoding="utf-8")
    settings = Settings.from_file(path)
    delayed = next(c for c in CLASSES if "DELAYED_PAYMENT" in c.codes).from_settings(settings)
    assert "60" in delayed.rule_specs()[0].meaning_zh and "90" not in delayed.rule_specs()[0].meaning_zh
    split = next(c for c in CLASSES if "SPLIT_ADMISSION" in c.codes).from_settings(settings)
    assert "10天内" in split.rule_specs()[0].meaning_zh


def _sentinel_settings() -> tuple[Settings, dict[tuple[str, str], object]]:
    """Settings whose every field of every section is a distinct object (validation bypassed)."""
    sentinels: dict[tuple[str, str], object] = {}
    sections = {}
    for name, section in DEFAULT_SETTINGS:
        if isinstance(section, BaseModel):
            values = {}
            for field in type(section).model_fields:
                values[field] = sentinels[(name, field)] = object()
            sections[name] = type(section).model_construct(**values)
    return Settings.model_construct(**sections), sentinels


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_every_constructor_parameter_is_fed_from_settings(cls):
    settings, sentinels = _sentinel_settings()
    params = cls.from_settings(settings).get_params(deep=False)
    assert set(params) == set(cls.parameter_names())
    assert cls.settings_sections, "a detector names the settings sections it reads"
    for name, value in params.items():
        if name in cls.params_not_in_settings:
            continue
        fed = [(section, name) for section in cls.settings_sections if (section, name) in sentinels]
        assert fed, f"{cls.__name__}({name}=...) is not a field of {cls.settings_sections}"
        assert value is sentinels[fed[0]], f"{cls.__name__}.{name} was not taken from settings.{fed[0][0]}"


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_defaults_are_the_default_settings(cls):
    assert cls().get_params() == cls.from_settings(DEFAULT_SETTINGS).get_params()
