"""Pipeline steps outside the detectors: domains, the memory check, period restriction,
the dataset plan."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch import pipeline
from fundwatch.errors import InputError
from fundwatch.settings import DEFAULT_SETTINGS, Settings


def _settings(**runtime) -> Settings:
    return DEFAULT_SETTINGS.model_copy(update={"runtime": DEFAULT_SETTINGS.runtime.model_copy(update=runtime)})


@pytest.mark.parametrize("given, expected", [("all", ("subsidy", "medical")), ("medical", ("medical",)),
                                             ("medical,subsidy", ("subsidy", "medical"))])
def test_parse_domains(given, expected):
    assert pipeline.parse_domains(given) == expected


def test_unknown_domain_is_an_input_error():
    with pytest.raises(InputError, match="tax"):
        pipeline.parse_domains("tax")


def test_input_too_big_for_memory_stops_before_loading(small_city_dir):
    tiny = _settings(memory_limit_gb=0.001)
    with pytest.raises(InputError, match=r"needs about .* GB of memory but 0\.0 GB is available"):
        pipeline.load_step(small_city_dir / "input", ("subsidy", "medical"), tiny)


def test_memory_estimate_grows_with_the_input(small_city_dir):
    from fundwatch.loading import discover

    files = discover(small_city_dir / "input")
    some = {k: v for k, v in files.items() if k == "persons"}
    assert 0 < pipeline.estimate_memory_bytes(some) < pipeline.estimate_memory_bytes(files)


def test_a_city_that_fits_loads(small_city_dir):
    loaded = pipeline.load_step(small_city_dir / "input", ("subsidy",), _settings(memory_limit_gb=64))
    assert "claims" not in loaded.datasets and loaded.datasets["disbursements"].height > 0


def test_restrict_periods_keeps_items_of_kept_claims(small_city):
    out = pipeline.restrict_periods(small_city.datasets, "2025-03", "2025-04")
    months = out["claims"]["visit_date"].dt.strftime("%Y-%m").unique().sort().to_list()
    assert months == ["2025-03", "2025-04"]
    assert set(out["claim_items"]["claim_id"]) <= set(out["claims"]["claim_id"])
    assert out["disbursements"]["period"].is_between(pl.lit("2025-03"), pl.lit("2025-04")).all()
    assert out["persons"].height == small_city.datasets["persons"].height


def test_counts_reconcile_with_validation_quarantine():
    from fundwatch.loading import DatasetCounts

    counts = {"claims": DatasetCounts(rows_read=10, rows_accepted=9, rows_quarantined=1, files=[], seconds=0.0)}
    vq = pl.DataFrame({"dataset": ["claims", "claims"], "row_number": [3, 3]})
    frame = pipeline.counts_frame(counts, vq)
    row = frame.row(0, named=True)
    assert (row["rows_read"], row["rows_accepted"], row["rows_quarantined"]) == (10, 8, 2)
