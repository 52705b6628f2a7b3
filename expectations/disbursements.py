"""Suite ``disbursements`` (一卡通发放明细).

Invalid identity numbers of beneficiaries and card holders are kept and reported (warning):
a payment to a number that does not exist is itself a lead (GHOST_BENEFICIARY).

v2 columns, checked only when given: ``payment_type`` outside the contract's codes is critical
(an enumeration; the loader already quarantines unknown labels, naming the accepted ones); an
invalid ``proxy_id`` is a warning and kept, like the other identity numbers here.
"""

from __future__ import annotations

from fundwatch.contract import PAYMENT_TYPE
from fundwatch.settings.validation import ValidationSettings

from .spec import (
    WARNING,
    Check,
    between,
    in_set,
    period,
    region_code,
    schema_checks,
    unique,
    valid_person_id,
    year_window,
)

DATASET = "disbursements"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("disbursement_id"),
        valid_person_id("person_id", WARNING),
        valid_person_id("account_holder_id", WARNING),
        region_code(),
        period("period"),
        year_window("period", event=True),
        year_window("pay_date", event=True),
        between("amount", 0, strict_min=True),
        between("quantity", 0, strict_min=True),
        # v2
        in_set("payment_type", list(PAYMENT_TYPE)),
        valid_person_id("proxy_id", WARNING),
    ]
