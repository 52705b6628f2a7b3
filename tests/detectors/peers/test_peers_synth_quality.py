"""Quality on the synthetic city (fundwatch.synth): planted outliers rank near the top.

The models were not tuned to this generator's magnitudes; the check is coarse on purpose:
each planted (non-look-alike) VILLAGE/OPERATOR/INSTITUTION/DOCTOR outlier is among the top 5
of its model's ranking, and no look-alike (a level-3 hospital, a busy pharmacy …) is flagged.
"""

from __future__ import annotations

import polars as pl
import pytest

synth = pytest.importorskip("fundwatch.synth", reason="the synthetic city generator is not available")

from fundwatch.detectors.peers import (  # noqa: E402
    DoctorOutlierModel,
    InstitutionOutlierModel,
    OperatorOutlierModel,
    VillageOutlierModel,
)

MODELS = [VillageOutlierModel, OperatorOutlierModel, InstitutionOutlierModel, DoctorOutlierModel]


@pytest.fixture(scope="module")
def city():
    return synth.generate_city(20_000, 11)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.codes[0])
def test_planted_outliers_in_top5_and_lookalikes_not_flagged(city, cls):
    labels = city.labels.filter(pl.col("anomaly_type") == cls.codes[0])
    planted = labels.filter(~pl.col("lookalike"))["entity_id"].unique().to_list()
    if not planted:
        pytest.skip(f"the city has no planted {cls.codes[0]}")
    model = cls.from_settings().fit(city.datasets)
    ranked = model.score_entities(city.datasets).sort(["score", "entity_id"], descending=[True, False])
    top5 = ranked["entity_id"][:5].to_list()
    missing = [e for e in planted if e not in top5]
    assert not missing, f"{cls.codes[0]}: planted {missing} not in top 5 {top5}"
    findings = model.detect(city.datasets)
    lookalikes = set(labels.filter(pl.col("lookalike"))["entity_id"].to_list())
    assert not lookalikes & set(findings["entity_id"].to_list())
    assert set(planted) & set(findings["entity_id"].to_list())
