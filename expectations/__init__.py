"""Great Expectations 1.x validation suites for every contract dataset.

One module per dataset declares its checks as a readable list (``expectations/<dataset>.py``);
cross-dataset checks live in :mod:`expectations.cross`; the GB 11643 identity-number
expectation in :mod:`expectations.custom`. :func:`validate` runs them all, quarantines rows
failing critical checks, writes ``validation.json`` and the Data Docs site.

>>> from expectations import validate                                  # doctest: +SKIP
>>> result = validate(datasets, "out")                                  # doctest: +SKIP
>>> result.datasets["claims"], result.quarantine, result.docs_index     # doctest: +SKIP
"""

from __future__ import annotations

from .registry import SUITES
from .runner import ValidationResult, dataset_checks, validate
from .spec import CRITICAL, WARNING, Check

__all__ = ["validate", "ValidationResult", "SUITES", "dataset_checks", "Check", "CRITICAL", "WARNING"]
