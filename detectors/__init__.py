"""Detectors: pure polars / PyOD / scikit-learn, no Prefect.

Analysts run all of them on DataFrames they loaded themselves through the pipeline's one
detection plan (rules, then models with the rule findings)::

    from fundwatch.loading import load_input
    from fundwatch.pipeline import detect_step

    findings = detect_step(load_input("city/input").datasets).findings

or one at a time, scikit-learn style::

    from fundwatch.detectors.subsidy.deceased import DeceasedPayeeRule
    DeceasedPayeeRule().fit_detect(datasets)

See :mod:`detectors.base` for the interface and the findings shape.
"""

from __future__ import annotations

from collections.abc import Iterable

from fundwatch.settings import DEFAULT_SETTINGS, Settings

from .base import (
    FINDINGS_KEY,
    FINDINGS_SCHEMA,
    Datasets,
    Detector,
    MissingDatasetError,
    conform_findings,
    empty_findings,
)

__all__ = [
    "Detector",
    "Datasets",
    "FINDINGS_SCHEMA",
    "FINDINGS_KEY",
    "MissingDatasetError",
    "all_detectors",
    "conform_findings",
    "empty_findings",
]


def all_detectors(
    settings: Settings = DEFAULT_SETTINGS, domains: Iterable[str] = ("subsidy", "medical")
) -> list[Detector]:
    """Every detector of the given domains, configured from ``settings``, rules before models."""
    from . import medical, peers, subsidy

    domains = tuple(domains)
    found: list[Detector] = []
    for module in (subsidy, medical, peers):
        found.extend(d for d in module.build_detectors(settings) if d.domain in domains)
    return sorted(found, key=lambda d: (d.kind != "rule", d.domain, d.name()))
