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

Optional (v2) input columns: a detector that cannot work without some of them declares them in
``requires_columns`` (dataset -> columns); ``fit``/``detect`` then raise
:class:`MissingColumnError` when one is absent, and :func:`missing_inputs` /
:func:`skip_reason` tell the pipeline, before running anything, which detectors to skip and
why ("column item_catalog.indication absent"). A detector that merely *uses* a v2 column when
it is there reads it with :func:`optional_column`, which gives a typed null when it is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


class MissingColumnError(MissingDatasetError):
    """A detector was given a dataset without a (v2) column it needs.

    A subclass of :class:`MissingDatasetError`, so that code skipping detectors whose inputs
    are absent (``run_all(skip_missing=True)``) skips these too.
    """

    def __init__(self, detector: str, missing: list[tuple[str, str]]):
        self.detector = detector
        self.missing_columns = list(missing)
        self.missing = sorted({d for d, _ in missing})
        cols = ", ".join(f"{d}.{c}" for d, c in missing)
        ValueError.__init__(
            self,
            f"{detector} needs column(s) {cols}: add them to the input files (contract v2) "
            f"or run without this detector",
        )


@dataclass(frozen=True)
class MissingInputs:
    """What a detector lacks in some datasets: whole datasets, and columns of present ones."""

    datasets: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.datasets or self.columns)

    def reason(self, lang: Literal["en", "zh"] = "en") -> str:
        """One line: ``dataset(s) claims absent; column item_catalog.indication absent`` (en) or
        ``数据集 claims 未提供；列 item_catalog.indication 未提供`` (zh); empty when nothing lacks."""
        parts: list[str] = []
        if lang == "zh":
            if self.datasets:
                parts.append(f"数据集 {'、'.join(self.datasets)} 未提供")
            parts += [f"列 {d}.{c} 未提供" for d, c in self.columns]
            return "；".join(parts)
        if self.datasets:
            parts.append(f"dataset(s) {', '.join(self.datasets)} absent")
        parts += [f"column {d}.{c} absent" for d, c in self.columns]
        return "; ".join(parts)


def _columns_of(frame: pl.DataFrame | pl.LazyFrame) -> list[str]:
    return frame.columns if isinstance(frame, pl.DataFrame) else frame.collect_schema().names()


def missing_inputs(detector: "Detector | type[Detector]", datasets: Datasets) -> MissingInputs:
    """Datasets in ``detector.requires`` (or ``requires_columns``) that ``datasets`` lacks, and
    the ``requires_columns`` missing from the datasets that are there. Reads schemas only."""
    needed = list(detector.requires) + [d for d in detector.requires_columns if d not in detector.requires]
    lacking = tuple(d for d in needed if d not in datasets)
    columns = tuple(
        (d, c)
        for d, cols in detector.requires_columns.items()
        if d in datasets
        for c in cols
        if c not in set(_columns_of(datasets[d]))
    )
    return MissingInputs(lacking, columns)


def skip_reason(detector: "Detector | type[Detector]", datasets: Datasets, lang: Literal["en", "zh"] = "en") -> str | None:
    """Why ``detector`` cannot run on ``datasets`` (missing datasets or columns), or None.

    For the pipeline's detection plan: absent v2 columns skip exactly the detectors that
    declare them in ``requires_columns``, with a reason such as
    ``"column item_catalog.indication absent"`` / ``"列 item_catalog.indication 未提供"``.
    """
    missing = missing_inputs(detector, datasets)
    return missing.reason(lang) if missing else None


def has_column(datasets: Datasets, dataset: str, column: str) -> bool:
    """Whether dataset ``dataset`` is given and has ``column`` (a v2 column may be absent)."""
    return dataset in datasets and column in _columns_of(datasets[dataset])


def optional_column(datasets: Datasets, dataset: str, column: str) -> pl.Expr:
    """``pl.col(column)`` when the dataset has it, else a null of the contract's dtype named
    ``column``: for detectors that use a v2 column where given and do without it elsewhere.

    >>> lazy(ds, "disbursements").select("account_holder_id", optional_column(ds, "disbursements", "proxy_id"))  # doctest: +SKIP
    """
    if has_column(datasets, dataset, column):
        return pl.col(column)
    from fundwatch.contract import DATASETS

    # a full-length column (not a scalar literal), so that ``select`` alone gives one row per row
    return pl.repeat(None, pl.len(), dtype=DATASETS[dataset].column(column).dtype).alias(column)


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
    requires_columns : dataset -> optional (v2) columns without which it cannot run, e.g.
        ``{"item_catalog": ("indication",), "claims": ("secondary_diagnoses",)}``; a dataset
        named here is required too.
    optional : datasets it uses when present.
    n_records_seen_ : set by ``fit``: rows of the main event dataset it saw.
    """

    codes: ClassVar[tuple[str, ...]] = ()
    domain: ClassVar[Literal["subsidy", "medical"]]
    kind: ClassVar[Literal["rule", "model"]] = "rule"
    requires: ClassVar[tuple[str, ...]] = ()
    requires_columns: ClassVar[dict[str, tuple[str, ...]]] = {}
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
        """Raise :class:`MissingDatasetError` for an absent required dataset, else
        :class:`MissingColumnError` for an absent required column (``requires_columns``)."""
        missing = missing_inputs(self, datasets)
        if missing.datasets:
            raise MissingDatasetError(self.name(), list(missing.datasets))
        if missing.columns:
            raise MissingColumnError(self.name(), list(missing.columns))

    def check_is_fitted(self) -> None:
        if not hasattr(self, "n_records_seen_"):
            raise NotFittedError(f"{self.name()} is not fitted: call fit(datasets) first")

    # -- to implement ---------------------------------------------------------------
    def _fit(self, datasets: Datasets) -> None:  # pragma: no cover - rules often learn nothing
        """Learn; set attributes ending in ``_``. Default: nothing to learn."""

    def _detect(self, datasets: Datasets) -> pl.DataFrame | pl.LazyFrame:
        raise NotImplementedError
