"""What each rule and model code means, in Chinese and English: the catalogue.

Built from the detectors' own declarations (:class:`fundwatch.detectors.base.RuleSpec`,
found by :mod:`fundwatch.detectors.registry`), nothing restated here. Texts that name a
threshold are filled from the settings: ``catalogue(settings)`` with
``subsidy.max_delay_days = 60`` says "60 days" where the default says 90.

The leads builder uses ``family`` to count codes that say the same thing once in a lead's
probability of being real, and ``weight`` as the rule's prior certainty in the score; reports show the titles,
meanings, policy basis and checklists. Detectors emit these codes in ``rule_code``.

``python -m fundwatch.rules_catalog`` prints the catalogue (code, detector, module, title).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from fundwatch.detectors.registry import detector_classes
from fundwatch.settings import DEFAULT_SETTINGS, Settings

_DOMAINS = ("subsidy", "medical")
_KINDS = ("rule", "model")


@dataclass(frozen=True)
class RuleInfo:
    """One catalogue entry: a code's declaration with its texts filled from the settings."""

    code: str
    domain: Literal["subsidy", "medical"]
    kind: Literal["rule", "model"]
    family: str  # codes of one family repeat one observation: they corroborate a lead once (fundwatch.scoring)
    weight: float  # prior certainty, 0..1: P(a hit is a real problem), used by the score (fundwatch.scoring)
    entity_type: str
    title_zh: str
    title_en: str
    meaning_zh: str
    meaning_en: str
    basis_zh: str  # policy basis (依据)
    basis_en: str
    checklist_zh: tuple[str, ...]  # what to verify (核查要点)
    checklist_en: tuple[str, ...]
    #: ``(parent code, details key)``: a finding of this code whose parent entity (named in
    #: ``details[key]``) is itself flagged by the parent code joins the parent's lead: the
    #: doctors of an inflated clinic are evidence of the clinic's problem, not leads of their own.
    folds_into: tuple[str, str] | None
    detector: str  # the class that emits the code
    module: str  # where it is declared

    def text(self, field: str, lang: str = "zh"):
        """``title``, ``meaning``, ``basis`` or ``checklist`` in ``lang`` (``zh`` or ``en``)."""
        return getattr(self, f"{field}_{'zh' if lang == 'zh' else 'en'}")


def catalogue(settings: Settings = DEFAULT_SETTINGS) -> dict[str, RuleInfo]:
    """Every rule and model code, subsidy before medical and rules before models.

    Each detector is configured from ``settings`` and fills its declarations' texts with
    its parameters.
    """
    entries: list[RuleInfo] = []
    for cls in detector_classes():
        detector = cls.from_settings(settings)
        for spec in detector.rule_specs():
            entries.append(
                RuleInfo(
                    code=spec.code, domain=cls.domain, kind=cls.kind, family=spec.family,
                    weight=spec.weight, entity_type=spec.entity_type,
                    title_zh=spec.title_zh, title_en=spec.title_en,
                    meaning_zh=spec.meaning_zh, meaning_en=spec.meaning_en,
                    basis_zh=spec.basis_zh, basis_en=spec.basis_en,
                    checklist_zh=spec.checklist_zh, checklist_en=spec.checklist_en,
                    folds_into=spec.folds_into, detector=cls.__name__, module=cls.__module__,
                )
            )
    entries.sort(key=lambda r: (_DOMAINS.index(r.domain), _KINDS.index(r.kind)))  # stable
    return {r.code: r for r in entries}


@cache
def _default_catalogue() -> dict[str, RuleInfo]:
    return catalogue(DEFAULT_SETTINGS)


def __getattr__(name: str):
    # ``RULES``: the catalogue with the default settings, built on first use (it imports
    # every detector module) rather than when this module is imported.
    if name == "RULES":
        return _default_catalogue()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def rule_title(code: str, lang: str = "zh") -> str:
    """The title of ``code`` in ``lang`` (the code itself when unknown)."""
    info = _default_catalogue().get(code)
    if info is None:
        return code
    return info.title_zh if lang == "zh" else info.title_en


def _main() -> None:
    rows = [(r.code, r.domain, r.kind, r.detector, r.module.removeprefix("fundwatch."), r.title_zh)
            for r in _default_catalogue().values()]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r[:5], widths)) + "  " + r[5])


if __name__ == "__main__":
    _main()
