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
    "MissingDatasetError",
    "RuleSpec",
    "conform_findings",
    "empty_findings",
    "lazy",
    "lazy_held",
    "lazy_rows",
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
    family : findings of one family about one entity become one lead (e.g. ``held_cards``).
    weight : how serious a hit of this code is, 0..1; the lead score's rule part
        (:mod:`fundwatch.scoring`).
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
