"""The run record: everything ``run.json`` says about one scan, as a typed object.

:func:`fundwatch.pipeline.run_scan` builds one :class:`RunRecord` per scan and writes
``run.json`` from it (:meth:`RunRecord.write`); the lead store keeps the same content and the
Prefect flow returns it. Nothing personal is in it: counts, timings, versions, paths, settings
hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Orchestrator = Literal["inline", "prefect", "dask"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetRecord(_Record):
    """Rows of one dataset: ``rows_read == rows_accepted + rows_quarantined``, always."""

    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantined_on_load: int
    quarantined_by_validation: int
    files: list[str] = Field(default_factory=list)
    load_seconds: float = 0.0
    validation_rows_per_second: float | None = None


class RowTotals(_Record):
    read: int
    accepted: int
    quarantined: int


class ValidationRecord(_Record):
    failed_expectations: int
    unusable: dict[str, str]
    docs_index: str | None = None


class DetectorsRecord(_Record):
    seconds: dict[str, float]
    skipped: dict[str, str]


class LeadsRecord(_Record):
    """The run's leads in figures; money counts each evidence record once.

    Attributes
    ----------
    money_by : money in doubt per month (each evidence record's own month; a model's unlisted
        excess spread over the lead's period: :func:`fundwatch.leads.money_by_month`), type
        (domain), place (county code) and rule (the lead's first rule code), each record once
        (:func:`fundwatch.leads.money_by`), for the workspace's trends.
    leads_by_month : the number of leads holding money in each month of ``money_by``.
    place_names : the name of each place (county code) of ``money_by``, from ``regions`` (v2),
        so that the trends name places as ``name(code)``.
    """

    count: int
    by_severity: dict[str, int]
    amount_at_risk: float
    new: int | None = None
    money_by: dict[str, dict[str, float]] | None = None
    leads_by_month: dict[str, int] | None = None
    place_names: dict[str, str] | None = None


class PeriodFilter(_Record):
    start: str | None = None
    end: str | None = None


class RunRecord(_Record):
    """What one scan did. Serialised as ``run.json``.

    Attributes
    ----------
    orchestrator : ``inline`` (``fundwatch scan``, no Prefect), ``prefect`` (the flow) or
        ``dask`` (the flow on a Dask cluster). The leads are the same whichever ran them.
    timings : wall seconds per step, in the order the steps ran; a scan's wall time exceeds
        their sum only by start-up and orchestration.
    """

    run_id: str
    started_at: str
    finished_at: str | None = None
    orchestrator: Orchestrator = "inline"
    input_dir: str
    out_dir: str
    store: str
    input_fingerprint: str
    domains: list[str]
    period_start: str | None
    period_end: str | None
    period_filter: PeriodFilter
    unmask: bool
    lang: str
    datasets: dict[str, DatasetRecord]
    rows: RowTotals
    ignored_files: list[str]
    #: per dataset, the optional (contract v2) columns no input file provided
    absent_columns: dict[str, list[str]] = Field(default_factory=dict)
    validation: ValidationRecord
    detectors: DetectorsRecord
    findings: int
    leads: LeadsRecord
    timings: dict[str, float] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    settings_hash: str
    versions: dict[str, str]

    def as_dict(self) -> dict:
        """The record as plain JSON-ready data (what ``run.json`` holds)."""
        return self.model_dump(mode="json")

    def write(self, out_dir: str | Path) -> Path:
        """Write ``OUT_DIR/run.json``."""
        path = Path(out_dir) / "run.json"
        path.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        return path
