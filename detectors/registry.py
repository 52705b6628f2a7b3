"""Every detector class, found where it is declared.

A detector family is a package (``subsidy``, ``medical``, ``peers``); a concrete detector is a
:class:`~fundwatch.detectors.base.Detector` subclass that declares ``rules``. This module
imports every module of every family and collects those classes, so adding a rule is
writing its class (with its :class:`~fundwatch.detectors.base.RuleSpec`) in a family
module: nothing else lists it. The catalogue (:mod:`fundwatch.rules_catalog`), the
pipeline (:func:`fundwatch.detectors.all_detectors`) and the family packages' exports all
read this registry.

Order: by family (``FAMILIES``), then module name, then the order of definition in the module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Detector

#: The detector family packages, in catalogue order.
FAMILIES = ("subsidy", "medical", "peers")


def _family_modules(family: str) -> list[str]:
    package = importlib.import_module(f"{__package__}.{family}")
    return [f"{package.__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(package.__path__),
                                                           key=lambda m: m.name)]


@cache
def _family_classes(family: str) -> tuple[type[Detector], ...]:
    found: list[type[Detector]] = []
    for name in _family_modules(family):
        module = importlib.import_module(name)
        for obj in vars(module).values():  # definition order
            if (isinstance(obj, type) and issubclass(obj, Detector) and obj.__module__ == name
                    and obj.__dict__.get("rules")):
                found.append(obj)
    return tuple(found)


def detector_classes(family: str | None = None) -> tuple[type[Detector], ...]:
    """Every concrete detector class (of one ``family`` package when given), in registry order."""
    if family is not None:
        return _family_classes(family)
    found = tuple(cls for fam in FAMILIES for cls in _family_classes(fam))
    codes = [c for cls in found for c in cls.codes]
    doubled = sorted({c for c in codes if codes.count(c) > 1})
    if doubled:
        raise TypeError(f"rule codes declared by more than one detector: {doubled}")
    return found


def family_exports(family: str) -> dict[str, type[Detector]]:
    """``class name -> class`` of one family, for its package's namespace."""
    return {cls.__name__: cls for cls in detector_classes(family)}
