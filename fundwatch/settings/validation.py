"""Settings section ``validation``: thresholds of the Great Expectations suites
(:mod:`expectations`).

Severity
--------
Every expectation is ``critical`` or ``warning`` (declared beside it in ``expectations/<dataset>.py``).
A critical *row-level* failure quarantines the failing rows; a critical *table-level* failure
(a missing column, a wrong type) makes the dataset unusable. A warning is only reported.
``mostly`` decides whether an expectation counts as *successful* in the results and Data Docs;
it never changes which rows are quarantined (every failing row of a critical check is).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ValidationSettings(BaseModel):
    """Settings for validation. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- GE success --------------------------------------------------------------------------
    mostly: float = Field(
        1.0, ge=0, le=1,
        description="Default `mostly` of every row-level expectation (default 1.0): the contract's "
        "rules hold for every row, so one failing row makes the expectation unsuccessful.",
    )
    mostly_overrides: dict[str, float] = Field(
        default_factory=dict,
        description="Per-expectation `mostly`, keyed `dataset.check_name` (default none), e.g. "
        "`{'disbursements.beneficiary_in_persons': 0.99}` to tolerate a known roster lag.",
    )

    # -- tolerances and windows --------------------------------------------------------------
    money_tolerance: float = Field(
        0.01, ge=0,
        description="Tolerance in CNY of `total = fund + self`, `amount = quantity × unit_price` and "
        "claim total vs. sum of items (default 0.01, the contract's ±0.01: one fen of rounding).",
    )
    min_year: int = Field(
        1900,
        description="Earliest sane year of any date or period (default 1900, the earliest birth year "
        "an identity number may carry); earlier values are typing errors.",
    )
    event_min_year: int = Field(
        1990,
        description="Earliest sane year of an event date (payment, visit, settlement, service; default "
        "1990: neither one-card payments nor insurance settlements were electronic before).",
    )
    max_year: int = Field(
        2099,
        description="Latest sane year of any date or period (default 2099); later values are typing "
        "errors. Kept fixed (not `today`) so that the same data validates the same on every run.",
    )
    max_age: int = Field(
        150, ge=0,
        description="Largest sane age limit in standards and the item catalogue (default 150).",
    )
    max_level: int = Field(3, ge=0, description="Highest hospital level (default 3: 三级).")

    # -- size and output ---------------------------------------------------------------------
    examples: int = Field(
        5, ge=0, le=50,
        description="Masked example values per failed expectation in validation.json and Data Docs "
        "(default 5): enough to find the rows, too few to leak a roster.",
    )
    quarantine_duplicates: str = Field(
        "keep_first",
        pattern="^(keep_first|keep_none)$",
        description="For duplicate primary keys: `keep_first` (default) accepts the first row of each "
        "key in input order and quarantines the later ones, so a duplicated export line does not "
        "drop the payment; `keep_none` quarantines every row of a duplicated key.",
    )
    build_docs: bool = Field(
        True, description="Build the Great Expectations Data Docs site (default true)."
    )
