"""The one detector interface, shared by rules and models.

In the scikit-learn / PyOD manner:

* the constructor only stores its settings (keyword arguments with defaults taken
  from :mod:`fundwatch.settings`); ``get_params``/``set_params``/``sklearn.base.clone`` work;
* :meth:`Detector.fit` learns from the loaded datasets and sets attributes ending in ``_``
  (a rule learns little — at least ``n_records_seen_``; a peer model learns its peer
  statistics and fitted outlier models);
* :meth:`Detector.detect` scores and never mutates the detector;
* randomness enters only through a ``random_state`` parameter;
* every detector returns **findings** in one shape, :data:`fundwatch.contract.FINDINGS_SCHEMA`
  (data contract, re-exported here), with ``score`` in ``[0, 1]`` and higher = more anomalous.

Each detector declares, once and beside its code, what every code it emits means:
:class:`RuleSpec` (family, weight, entity, titles, meaning, policy basis, checklist, in
Chinese and English). :mod:`fundwatch.rules_catalog` builds the catalogue the leads and
reports read from these declarations, its texts filled from the settings.

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

import inspect
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import polars as pl
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from fundwatch.contract import FINDINGS_SCHEMA, conform_findings, empty_findings
from fundwatch.memory import as_text
from fundwatch.settings import DEFAULT_SETTINGS, Settings

__all__ = [
    "FINDINGS_KEY",
    "FINDINGS_SCHEMA",
    "Datasets",
    "Detector",
    "MissingColumnError",
    "MissingDatasetError",
    "MissingInputs",
    "RuleSpec",
    "conform_findings",
    "empty_findings",
    "lazy",
    "lazy_held",
    "lazy_rows",
    "has_column",
    "missing_inputs",
    "optional_column",
    "skip_reason",
]

Datasets = Mapping[str, pl.DataFrame | pl.LazyFrame]

#: Key under which the pipeline passes rule findings on to model detectors.
FINDINGS_KEY = "findings"


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    """What one rule/model code means: declared once, beside the detector that emits it.

    Texts are for supervisors: plain words, Chinese first, no English codes inside the
    Chinese. ``meaning_*`` (and any other text) may name the detector's parameters in
    braces, ``str.format`` style — ``"发放日期晚于所属期开始{max_delay_days}天以上"`` — and
    are filled from the configured detector (:meth:`Detector.rule_specs`), so a settings file
    that changes a threshold changes the text. Placeholders are checked when the class is
    defined.

    Attributes
    ----------
    code : the ``rule_code`` of the findings (also the synthetic city's ``anomaly_type``).
    family : codes of one family (e.g. ``held_cards``) say the same thing twice: in a lead's
        probability they count once, at the strongest; different families corroborate.
    weight : the rule's prior certainty, 0..1: the probability that one of its hits is a real
        problem. The lead score is that probability (times the finding's score, raised by
        corroboration, learnt from supervisors' decisions) times the money in doubt
        (:mod:`fundwatch.scoring`); ``settings.scoring.rule_priors`` overrides it per code.
    entity_type : what a finding is about (``person``, ``account``, ``operator``, ``village``,
        ``institution``, ``doctor``, ``group``).
    title_zh, title_en : a short name.
    meaning_zh, meaning_en : what fires it, in one sentence.
    basis_zh, basis_en : the policy basis (依据). Name a regulation only with its exact title
        and number when certain; otherwise name the family of rules in words.
    checklist_zh, checklist_en : what to verify (核查要点): which documents to pull, whom to ask.
    folds_into : ``(parent code, details key)``: a finding of this code whose parent entity
        (named in ``details[key]``) is itself flagged by the parent code joins the parent's
        lead (the doctors of an inflated clinic are evidence of the clinic's problem).
    """

    code: str
    family: str
    weight: float
    entity_type: str
    title_zh: str
    title_en: str
    meaning_zh: str
    meaning_en: str
    basis_zh: str
    basis_en: str
    checklist_zh: tuple[str, ...]
    checklist_en: tuple[str, ...]
    folds_into: tuple[str, str] | None = None

    #: the text fields (filled from parameters); the checklists are tuples of texts
    TEXTS: ClassVar[tuple[str, ...]] = (
        "title_zh", "title_en", "meaning_zh", "meaning_en", "basis_zh", "basis_en",
        "checklist_zh", "checklist_en",
    )

    def placeholders(self) -> set[str]:
        """Parameter names the texts refer to."""
        names: set[str] = set()
        for name in self.TEXTS:
            value = getattr(self, name)
            for text in value if isinstance(value, tuple) else (value,):
                names |= {f for _, f, _, _ in string.Formatter().parse(text) if f}
        return names

    def filled(self, params: Mapping[str, Any]) -> "RuleSpec":
        """This spec with the placeholders of its texts replaced by ``params`` values."""
        out = {}
        for name in self.TEXTS:
            value = getattr(self, name)
            out[name] = (tuple(t.format(**params) for t in value) if isinstance(value, tuple)
                         else value.format(**params))
        return replace(self, **out)


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
    are absent skips these too.
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
        ``未提供数据集「医保结算」；「医保目录及限定」缺少「限定诊断」列`` (zh); empty when nothing lacks."""
        parts: list[str] = []
        if lang == "zh":
            # Chinese names only: a supervisor reads this in the report
            from fundwatch.contract import DATASETS

            if self.datasets:
                parts.append("未提供数据集" + "、".join(f"「{DATASETS[d].zh}」" for d in self.datasets))
            parts += [f"「{DATASETS[d].zh}」缺少「{DATASETS[d].column(c).zh}」列" for d, c in self.columns]
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
    ``"column item_catalog.indication absent"`` / ``"「医保目录及限定」缺少「限定诊断」列"``.
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


def region_names(regions: pl.DataFrame | pl.LazyFrame | None) -> pl.DataFrame:
    """``region_code, region_name`` from the ``regions`` dataset (v2; empty frame when absent).

    One reading of the place names for evidence sentences and for leads: codes without a
    name (null or blank) are left out, one name per code.
    """
    schema = {"region_code": pl.String(), "region_name": pl.String()}
    if regions is None:
        return pl.DataFrame(schema=schema)
    r = as_text(regions).select(pl.col("region_code").cast(pl.String), pl.col("name").cast(pl.String).alias("region_name"))
    return (
        r.filter(pl.col("region_code").is_not_null() & (pl.col("region_name").str.strip_chars() != ""))
        .unique("region_code", keep="first")
        .sort("region_code")
        .collect()
    )


class Detector(BaseEstimator):
    """Base class of every fundwatch detector.

    Subclasses declare the class attributes below, take their settings as keyword
    arguments in ``__init__`` (storing them unchanged under the same names, each named as a
    field of a section in ``settings_sections`` so that :meth:`from_settings` can configure
    them), and implement ``_fit`` and ``_detect``. A concrete detector declares ``rules``;
    :mod:`fundwatch.detectors.registry` finds it there, so nothing else lists it.

    Attributes
    ----------
    rules : one :class:`RuleSpec` per code the detector emits.
    codes : the rule/model codes this detector can emit (from ``rules``).
    settings_sections : the sections of :class:`fundwatch.settings.Settings` its parameters
        come from, searched in order.
    params_not_in_settings : parameter -> why it is not read from the settings (empty for
        every detector today; a test holds every other parameter to the settings).
    domain : ``"subsidy"`` or ``"medical"``.
    kind : ``"rule"`` (precise, deterministic) or ``"model"`` (peer-group outliers, groups).
    requires : datasets without which the detector cannot run.
    requires_columns : dataset -> optional (v2) columns without which it cannot run, e.g.
        ``{"item_catalog": ("indication",), "claims": ("secondary_diagnoses",)}``; a dataset
        named here is required too.
    optional : datasets it uses when present.
    n_records_seen_ : set by ``fit``: rows of the main event dataset it saw.
    """

    rules: ClassVar[tuple[RuleSpec, ...]] = ()
    codes: ClassVar[tuple[str, ...]] = ()
    settings_sections: ClassVar[tuple[str, ...]] = ()
    params_not_in_settings: ClassVar[Mapping[str, str]] = {}
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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "rules" in cls.__dict__:
            cls.codes = tuple(spec.code for spec in cls.rules)
            params = set(cls.parameter_names())
            for spec in cls.rules:
                unknown = spec.placeholders() - params
                if unknown:
                    raise TypeError(f"{cls.__name__}: the texts of {spec.code} name {sorted(unknown)}, "
                                    f"which are not parameters of the detector")

    # -- configuration --------------------------------------------------------------
    @classmethod
    def parameter_names(cls) -> list[str]:
        """The keyword arguments of ``__init__`` (its settings), sorted."""
        init = cls.__init__
        if init is object.__init__:
            return []
        return sorted(
            p.name for p in inspect.signature(init).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    @classmethod
    def from_settings(cls, settings: Settings = DEFAULT_SETTINGS) -> "Detector":
        """The detector configured from ``settings``.

        Each constructor parameter takes the field of the same name from the first section of
        ``settings_sections`` that has it; parameters in ``params_not_in_settings`` keep their
        defaults.
        """
        sections = [getattr(settings, name) for name in cls.settings_sections]
        kwargs = {}
        for name in cls.parameter_names():
            for section in sections:
                if name in type(section).model_fields:
                    kwargs[name] = getattr(section, name)
                    break
        return cls(**kwargs)

    def rule_specs(self) -> tuple[RuleSpec, ...]:
        """This detector's :class:`RuleSpec` declarations, texts filled from its parameters."""
        params = self.get_params()
        return tuple(spec.filled(params) for spec in self.rules)

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
