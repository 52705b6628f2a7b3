"""Suite ``allocations`` (资金拨付, contract v2): money allocated to a batch and a region.

Critical: ``allocated_amount`` > 0 (as a disbursement's amount) and ``region_code`` of 6 digits
(county) or 9 (township), the levels the contract allows: an allocation that is not money, or
not to a place, cannot be accounted for. ``subsidy_type`` unknown to the standards is a
cross-dataset warning (:mod:`expectations.cross`), as for disbursements.
"""

from __future__ import annotations

from fundwatch.settings.validation import ValidationSettings

from .spec import Check, between, matches, schema_checks, year_window

DATASET = "allocations"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        between("allocated_amount", 0, strict_min=True, show=("batch_id", "region_code")),
        matches("region_code", r"^(?:[0-9]{6}|[0-9]{9})$", "is a county (6-digit) or township (9-digit) code",
                "region_code_6_or_9_digits", show=("batch_id",)),
        year_window("allocated_date", event=True),
    ]
