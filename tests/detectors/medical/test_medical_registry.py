"""The medical detector registry: every code, settings wiring, the findings shape, no crashes on empty data."""

import polars as pl
import pytest
from medical_frames import datasets
from sklearn.base import clone

from fundwatch.detectors.base import FINDINGS_SCHEMA, MissingDatasetError
from fundwatch.detectors.medical import FrequentVisitsRule, build_detectors
from fundwatch.detectors.registry import detector_classes
from fundwatch.rules_catalog import RULES
from fundwatch.settings import DEFAULT_SETTINGS, Settings

DETECTOR_CLASSES = detector_classes("medical")


def test_every_medical_rule_code_has_a_detector_except_peer_models():
    codes = {c for cls in DETECTOR_CLASSES for c in cls.codes}
    medical = {c for c, r in RULES.items() if r.domain == "medical"}
    assert codes == medical - {"INSTITUTION_OUTLIER", "DOCTOR_OUTLIER"}


def test_build_detectors_passes_settings_and_clones():
    s = Settings(medical=DEFAULT_SETTINGS.medical.model_copy(update={"frequent_min_visit_days": 9}))
    dets = build_detectors(s)
    assert len(dets) == len(DETECTOR_CLASSES)
    freq = next(d for d in dets if isinstance(d, FrequentVisitsRule))
    assert freq.frequent_min_visit_days == 9
    for d in dets:
        assert d.domain == "medical"
        assert clone(d).get_params() == d.get_params()


@pytest.mark.parametrize("cls", DETECTOR_CLASSES)
def test_empty_data_gives_empty_findings_in_schema(cls):
    out = cls().fit_detect(datasets())
    assert out.schema == FINDINGS_SCHEMA and out.height == 0


def test_missing_dataset_is_a_clear_error():
    ds = datasets()
    del ds["claims"]
    with pytest.raises(MissingDatasetError, match="claims"):
        FrequentVisitsRule().fit(ds)


def test_lazy_inputs_are_accepted():
    ds = {k: v.lazy() for k, v in datasets().items()}
    for cls in DETECTOR_CLASSES:
        assert isinstance(cls().fit_detect(ds), pl.DataFrame)
