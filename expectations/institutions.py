"""Suite ``institutions`` (定点医药机构).

v2 ``ownership`` (checked only when given): a code outside ``public``/``private`` is critical,
as for every enumeration.
"""

from __future__ import annotations

from fundwatch.contract import INSTITUTION_KIND, OWNERSHIP
from fundwatch.settings.validation import ValidationSettings

from .spec import Check, between, in_set, region_code, schema_checks, unique

DATASET = "institutions"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("institution_id"),
        in_set("kind", list(INSTITUTION_KIND)),
        between("level", 0, s.max_level),
        region_code(),
        between("beds", 0),
        # v2
        in_set("ownership", list(OWNERSHIP)),
    ]
