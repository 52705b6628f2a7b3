"""Dataset name -> its suite declaration (``checks(settings) -> list[Check]``)."""

from __future__ import annotations

from collections.abc import Callable

from fundwatch.settings.validation import ValidationSettings

from . import (
    allocations,
    assets,
    claim_items,
    claims,
    deaths,
    disbursements,
    institutions,
    item_catalog,
    item_prices,
    land,
    officials,
    persons,
    regions,
    subsidy_standards,
)
from .spec import Check

SUITES: dict[str, Callable[[ValidationSettings], list[Check]]] = {
    m.DATASET: m.checks
    for m in (
        persons, deaths, officials, assets, subsidy_standards, land,
        institutions, item_catalog, disbursements, claims, claim_items,
        regions, item_prices, allocations,  # contract v2
    )
}
