"""The one detector interface, shared by rules and models.

In the scikit-learn / PyOD manner:

* the constructor only stores its settings (keyword arguments with defaults taken
  from :mod:`fundwatch.settings`); ``get_params``/``set_params``/``sklearn.base.clone`` work;
* :meth:`Detector.fit` learns from the loaded datasets and sets attributes ending in ``_``
  (a rule learns little — at least ``n_records_seen_``; a peer model learns its peer
  statistics and fitted outlier models);
* :meth:`Detector.detect` scores and never mutates the detector;
* randomness enters only through a ``random_state`` parameter;
* every detector returns **findings** in one shape, :data:`FINDINGS_SCHEMA`, with
  ``score`` in ``[0, 1]`` and higher = more anomalous.

Datasets are a mapping from contract dataset name (``"disbursements"``, ``"claims"`` …) to
polars DataFrames or LazyFrames in the contract's canonical columns and types (as
:mod:`fundwatch.loading` returns them). Model detectors may also read rule findings
under the key :data:`FINDINGS_KEY` (:func:`fundwatch.pipeline.detect_step` runs rules first and passes them on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import polars as pl
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from fundwatch.memory import as_text

Datasets = Mapping[str, pl.DataFrame | pl.LazyFrame]

#: Key under which the pipeline passes rule findings on to model detectors.
FINDINGS_KEY = "findings"

#: One row per finding.
FINDINGS_SCHEMA = pl.Schema(
    {
        "rule_code": pl.String(),  # e.g. DECEASED_PAYEE, VILLAGE_OUTLIER
        "domain": pl.String(),  # subsidy | medical
        "entity_type": pl.String(),  # person | account | operator | village | institution | doctor | group
        "entity_id": pl.String(),
        "record_ids": pl.List(pl.String()),  # disbursement_id / claim_id values of the evidence
        "record_amounts": pl.List(pl.Float64()),  # money at risk per record, parallel to record_ids
        "amount_at_risk": pl.Float64(),  # = sum(record_amounts)
        "score": pl.Float64(),  # in [0, 1], higher = more anomalous
        "severity": pl.String(),  # high | medium | low
        "period_start": pl.String(),  # YYYY-MM
        "period_end": pl.String(),  # YYYY-MM
        "region_code": pl.String(),  # as precise as known (12 digits, or a prefix)
        "evidence_zh": pl.String(),  # the facts, for a supervisor, in Chinese
        "evidence_en": pl.String(),  # the same facts in English
        "details": pl.String(),  # JSON: structured facts, e.g. peer comparisons for charts
    }
)


class MissingDatasetError(ValueError):
    """A detector was given datasets without one it needs."""

    def __init__(self, detector: str, missing: list[str]):
        self.detector = detector
        self.missing = missing
        super().__init__(
            f"{detector} needs dataset(s) {', '.join(missing)}: add them to the input directory "
            f"or run without this detector"
        )


def empty_findings() -> pl.DataFrame:
    """A findings frame with no rows."""
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def conform_findings(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Select, cast and order the findings columns; fill ``details`` with ``"{}"`` if absent.

    Rows are sorted by ``rule_code, entity_id, period_start, record_ids`` so that findings are
    deterministic whatever order the input came in.
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    exprs = []
    for col, dtype in FINDINGS_SCHEMA.items():
        if col in names:
            exprs.append(pl.col(col).cast(dtype))
        elif col == "details":
            exprs.append(pl.lit("{}", dtype=pl.String()).alias(col))
        elif col == "amount_at_risk" and "record_amounts" in names:
            exprs.append(pl.col("record_amounts").list.sum().cast(pl.Float64()).alias(col))
        else:
            raise ValueError(f"findings lack column {col!r}")
    return (
        lf.select(exprs)
        .sort(["rule_code", "entity_type", "entity_id", "period_start", "record_ids"])
        .collect()
    )


def lazy(datasets: Datasets, name: str) -> pl.LazyFrame:
    """Dataset ``name`` as a LazyFrame in the contract's types.

    Columns the pipeline holds as ``Categorical`` to save memory (:mod:`fundwatch.memory`)
    come back as ``String``, lazily: only the rows a query keeps are materialised as text.
    """
    return as_text(datasets[name])


def lazy_rows(datasets: Datasets, name: str, predicate: pl.Expr) -> pl.LazyFrame:
    """The rows of dataset ``name`` where ``predicate`` holds, in the contract's types.

    Unlike ``lazy(...).filter(...)``, the predicate runs on the frame as held, before
    compacted columns are cast back to text, so only the kept rows are ever materialised as
    strings (on 35M claim items that is a gigabyte). The predicate must therefore accept
    either type for compacted columns: compare them through ``.cast(pl.String)``, and hash
    them only to compare with hashes computed the same way.
    """
    return as_text(lazy_held(datasets, name).filter(predicate))


def lazy_held(datasets: Datasets, name: str) -> pl.LazyFrame:
    """Dataset ``name`` as held: compacted columns may be ``Categorical`` (see :func:`lazy_rows`).

    For passes that only compute numbers or hashes over every row and must not turn the
    whole dataset back into text; anything that reads text values uses :func:`lazy`.
    """
    return datasets[name].lazy()


class Detector(BaseEstimator):
    """Base class of every fundwatch detector.

    Subclasses declare the class attributes below, take their settings as keyword
    arguments in ``__init__`` (storing them unchanged under the same names), and implement
    ``_fit`` and ``_detect``.

    Attributes
    ----------
    codes : the rule/model codes this detector can emit.
    domain : ``"subsidy"`` or ``"medical"``.
    kind : ``"rule"`` (precise, deterministic) or ``"model"`` (peer-group outliers, groups).
    requires : datasets without which the detector cannot run.
    optional : datasets it uses when present.
    n_records_seen_ : set by ``fit``: rows of the main event dataset it saw.
    """

    codes: ClassVar[tuple[str, ...]] = ()
    domain: ClassVar[Literal["subsidy", "medical"]]
    kind: ClassVar[Literal["rule", "model"]] = "rule"
    requires: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    #: ``(dataset, column)`` by which the detector's work splits into independent parts:
    #: its findings on rows of one key value never depend on rows of another (e.g. a rule
    #: judging each person on their own payments: ``("disbursements", "person_id")``).
    #: ``None``: it needs all rows at once (peer models, rules comparing across keys).
    partition_by: ClassVar[tuple[str, str] | None] = None

    # -- public API ---------------------------------------------------------------
    def fit(self, datasets: Datasets) -> "Detector":
        """Learn from ``datasets``; returns ``self``."""
        self.check_datasets(datasets)
        self._fit(datasets)
        main = self.requires[-1] if self.requires else None
        self.n_records_seen_ = (
            int(lazy(datasets, main).select(pl.len()).collect().item()) if main else 0
        )
        return self

    def detect(self, datasets: Datasets) -> pl.DataFrame:
        """Findings on ``datasets`` in :data:`FINDINGS_SCHEMA`; does not mutate ``self``."""
        self.check_is_fitted()
        self.check_datasets(datasets)
        return conform_findings(self._detect(datasets))

    def fit_detect(self, datasets: Datasets) -> pl.DataFrame:
        """``fit`` then ``detect`` on the same datasets."""
        return self.fit(datasets).detect(datasets)

    # -- helpers --------------------------------------------------------------------
    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def check_datasets(self, datasets: Datasets) -> None:
        missing = [d for d in self.requires if d not in datasets]
        if missing:
            raise MissingDatasetError(self.name(), missing)

    def check_is_fitted(self) -> None:
        if not hasattr(self, "n_records_seen_"):
            raise NotFittedError(f"{self.name()} is not fitted: call fit(datasets) first")

    # -- to implement ---------------------------------------------------------------
    def _fit(self, datasets: Datasets) -> None:  # pragma: no cover - rules often learn nothing
        """Learn; set attributes ending in ``_``. Default: nothing to learn."""

    def _detect(self, datasets: Datasets) -> pl.DataFrame | pl.LazyFrame:
        raise NotImplementedError
