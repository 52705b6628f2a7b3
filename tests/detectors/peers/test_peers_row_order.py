"""The peer models give the same findings, to the cent, whatever order the input rows come in."""

from __future__ import annotations

import polars as pl
import pytest
from peer_worlds import medical_world, subsidy_world

from fundwatch.detectors.peers import (
    DoctorOutlierModel,
    InstitutionOutlierModel,
    OperatorOutlierModel,
    VillageOutlierModel,
)


OPERATOR = "OP51030202"  # serves two villages of county 510302


def _shuffled(world: dict[str, pl.DataFrame], seed: int) -> dict[str, pl.DataFrame]:
    return {k: v.sample(fraction=1.0, shuffle=True, seed=seed + i) for i, (k, v) in enumerate(sorted(world.items()))}


@pytest.mark.parametrize(
    "model, make_world",
    [
        (VillageOutlierModel, lambda: subsidy_world(seed=0, extra_village="510302101004")),
        (OperatorOutlierModel, lambda: subsidy_world(seed=5, extra_operator=OPERATOR, extra_rate=0.24)),
        (InstitutionOutlierModel, lambda: medical_world(seed=0, inflated_institution="C105")),
        (DoctorOutlierModel, lambda: medical_world(seed=0, inflated_doctor="DRH2011")),
    ],
)
def test_findings_do_not_depend_on_row_order(model, make_world):
    world = make_world()
    first = model().fit_detect(world).sort("entity_id")
    assert first.height > 0
    for seed in (1, 2):
        again = model().fit_detect(_shuffled(world, seed)).sort("entity_id")
        # exact equality: money sums and the ensemble's fit must not follow the row order
        assert again.equals(first)
