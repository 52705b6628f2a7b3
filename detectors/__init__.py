"""Detectors: pure polars / PyOD / scikit-learn, no Prefect.

Analysts can run one detector or all of them on DataFrames they loaded themselves::

    from fundwatch.loading import load_input
    from fundwatch import detectors

    loaded = load_input("city/input")
    findings = detectors.run_all(loaded.datasets)

or one at a time, scikit-learn style::

    from fundwatch.detectors.subsidy.deceased import DeceasedPayeeRule
    DeceasedPayeeRule().fit_detect(datasets)

See :mod:`detectors.base` for the interface and the findings shape.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

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
    "run_all",
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


def run_all(
    datasets: Datasets,
    settings: Settings = DEFAULT_SETTINGS,
    domains: Iterable[str] = ("subsidy", "medical"),
    skip_missing: bool = True,
) -> pl.DataFrame:
    """Fit and run every detector of ``domains`` on ``datasets``; return all findings.

    Rules run first; models then see the rule findings under ``FINDINGS_KEY``.
    With ``skip_missing`` a detector whose datasets are absent is skipped (the pipeline
    reports which); otherwise :class:`MissingDatasetError` is raised.
    """
    detectors = all_detectors(settings, domains)
    frames: list[pl.DataFrame] = []
    rule_findings = empty_findings()
    for det in detectors:
        if det.kind == "model" and FINDINGS_KEY not in datasets:
            rule_findings = pl.concat(frames) if frames else empty_findings()
            datasets = {**datasets, FINDINGS_KEY: rule_findings}
        try:
            frames.append(det.fit_detect(datasets))
        except MissingDatasetError:
            if not skip_missing:
                raise
    return conform_findings(pl.concat(frames)) if frames else empty_findings()
