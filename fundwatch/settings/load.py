"""Settings section ``load``: the sane windows and limits applied while normalising input.

A value outside these windows is not silently clipped: its row is quarantined with a reason
naming the limit, so that a reviewer can see what was rejected and why.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LoadSettings(BaseModel):
    """Settings for load. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_year: int = Field(
        1900,
        description="Earliest year accepted in a date or period (default 1900: the identity-number "
        "standard's earliest birth year; older dates are typing errors such as 1800-01-01).",
    )
    max_year: int = Field(
        2080,
        description="Latest year accepted in a date or period (default 2080: leaves room for "
        "planned end dates while rejecting placeholder years such as 2099 or 9999).",
    )
    max_money: float = Field(
        1e10,
        gt=0,
        description="Largest absolute money amount accepted, in CNY (default 1e10 = 10 billion: "
        "no single payment, claim or standard comes close; 1e308 or overflowed cells are errors).",
    )
    max_float: float = Field(
        1e9,
        gt=0,
        description="Largest absolute value accepted in a plain number column (quantities, areas, "
        "daily limits; default 1e9).",
    )
    max_int: int = Field(
        1_000_000_000,
        gt=0,
        description="Largest absolute value accepted in an integer column (levels, beds, ages, "
        "line numbers; default 1e9).",
    )
    max_field_bytes: int = Field(
        4000,
        gt=0,
        description="Longest text accepted in one cell, in UTF-8 bytes (default 4000, about 1300 "
        "Chinese characters: names, organisations and codes are far shorter; a 1 MB cell is a "
        "broken export). Bytes, not characters, because counting bytes is free on 30M rows.",
    )
    quarantine_raw_chars: int = Field(
        200,
        gt=0,
        description="How many characters of a rejected cell are kept in the quarantine's "
        "raw_value (default 200), so that huge broken cells do not bloat quarantine.parquet.",
    )
    region_code_digits: int = Field(
        12,
        gt=0,
        description="Number of digits of a statistical area code (GB/T 2260 + township + village: 12).",
    )
    accept_excel_serial_dates: bool = Field(
        True,
        description="Accept a plain number (e.g. 45723) in a date column as an Excel serial day "
        "number (days since 1899-12-30), as spreadsheets export unformatted date cells.",
    )

    @model_validator(mode="after")
    def _check_years(self) -> "LoadSettings":
        if self.min_year > self.max_year:
            raise ValueError("load.min_year must not exceed load.max_year")
        return self
