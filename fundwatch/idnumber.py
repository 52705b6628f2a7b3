"""Resident identity numbers (GB 11643) and masking of personal data, as polars expressions.

An identity number has 18 characters: a 6-digit region code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence whose last digit is odd for men and even for women, and a
check character ``0-9`` or ``X`` computed with ISO 7064 MOD 11-2. Everything here is
vectorised: pass column expressions, get expressions back.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"pid": ["11010519491231002X", "110105194912310021"]})
>>> df.select(is_valid_person_id(pl.col("pid"))).to_series().to_list()
[True, False]
>>> df.select(mask_id(pl.col("pid"))).to_series().to_list()
['110105********002X', '110105********0021']
"""

from __future__ import annotations

import datetime as dt

import polars as pl

#: ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for the first 17 characters.
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
#: check character indexed by (weighted sum mod 11).
CHECK_CHARS = "10X98765432"
#: earliest birth year we accept as real (older numbers are data errors).
MIN_BIRTH_YEAR = 1900

_SHAPE = r"^[0-9]{17}[0-9X]$"  # ASCII only: polars' \d also matches full-width digits


def normalize_person_id(expr: pl.Expr) -> pl.Expr:
    """Trim surrounding white space and upper-case a trailing ``x``, as the contract says."""
    return expr.cast(pl.String).str.strip_chars().str.to_uppercase()


def check_char(expr: pl.Expr) -> pl.Expr:
    """The check character the first 17 digits call for (null where they are not digits)."""
    total = pl.sum_horizontal(
        [expr.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(WEIGHTS)]
    )
    return pl.lit(CHECK_CHARS).str.slice(total % 11, 1)


def birth_date_of(expr: pl.Expr) -> pl.Expr:
    """The birth date encoded in characters 7-14 (null where it is not a real date)."""
    return expr.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def gender_of(expr: pl.Expr) -> pl.Expr:
    """``M`` or ``F`` from the parity of the 17th character (null where not a digit)."""
    digit = expr.str.slice(16, 1).cast(pl.Int64, strict=False)
    return pl.when(digit.is_null()).then(None).when(digit % 2 == 1).then(pl.lit("M")).otherwise(pl.lit("F"))


def is_valid_person_id(expr: pl.Expr, today: dt.date | None = None) -> pl.Expr:
    """True where ``expr`` is a valid GB 11643 number: shape, real birth date, check character.

    The birth date must lie between 1900-01-01 and ``today`` (default: the current date).
    Null input gives False. Apply :func:`normalize_person_id` first to accept ``x`` and spaces.
    """
    today = today or dt.date.today()
    birth = birth_date_of(expr)
    valid = (
        expr.str.contains(_SHAPE)
        & birth.is_not_null()
        & (birth >= dt.date(MIN_BIRTH_YEAR, 1, 1))
        & (birth <= today)
        & (expr.str.slice(17, 1) == check_char(expr))
    )
    return valid.fill_null(False)


def invalid_person_id_reason(expr: pl.Expr, today: dt.date | None = None) -> pl.Expr:
    """A short reason why the number is invalid, or null when it is valid."""
    today = today or dt.date.today()
    birth = birth_date_of(expr)
    return (
        pl.when(expr.is_null() | (expr == ""))
        .then(pl.lit("identity number is empty"))
        .when(~expr.str.contains(_SHAPE))
        .then(pl.lit("identity number must be 17 digits and a digit or X"))
        .when(birth.is_null() | (birth < dt.date(MIN_BIRTH_YEAR, 1, 1)) | (birth > today))
        .then(pl.lit("identity number has no real birth date in characters 7-14"))
        .when(expr.str.slice(17, 1) != check_char(expr))
        .then(pl.lit("identity number check character is wrong (GB 11643)"))
        .otherwise(None)
    )


def is_valid_person_id_str(value: str, today: dt.date | None = None) -> bool:
    """Scalar convenience wrapper over :func:`is_valid_person_id`."""
    df = pl.DataFrame({"v": [normalize_person_id_str(value)]}, schema={"v": pl.String})
    return bool(df.select(is_valid_person_id(pl.col("v"), today)).item())


def normalize_person_id_str(value: str | None) -> str | None:
    return None if value is None else str(value).strip().upper()


def mask_id(expr: pl.Expr) -> pl.Expr:
    """Mask an identity or account number: keep the first 6 and last 4 characters.

    ``510302199001011234`` -> ``510302********1234``. Values of 10 characters or fewer keep
    only their first and last character so that a short code cannot be read back whole.
    """
    s = expr.cast(pl.String)
    n = s.str.len_chars().cast(pl.Int64)  # UInt32 would wrap below zero in n - 10
    long_mask = s.str.slice(0, 6) + pl.lit("*").repeat_by((n - 10).clip(lower_bound=0)).list.join("") + s.str.slice(-4, 4)
    short_mask = s.str.slice(0, 1) + pl.lit("*").repeat_by((n - 2).clip(lower_bound=1)).list.join("") + s.str.slice(-1, 1)
    return pl.when(s.is_null()).then(None).when(n > 10).then(long_mask).when(n > 2).then(short_mask).otherwise(pl.lit("**"))


def mask_name(expr: pl.Expr) -> pl.Expr:
    """Mask a personal name: keep the first character (the surname), star the rest.

    ``张三丰`` -> ``张**``; a one-character name becomes ``*``.
    """
    s = expr.cast(pl.String)
    n = s.str.len_chars().cast(pl.Int64)  # UInt32 would wrap below zero in n - 10
    return (
        pl.when(s.is_null())
        .then(None)
        .when(n <= 1)
        .then(pl.lit("*"))
        .otherwise(s.str.slice(0, 1) + pl.lit("*").repeat_by((n - 1).clip(lower_bound=0, upper_bound=8)).list.join(""))
    )


def mask_id_str(value: str | None) -> str | None:
    """Scalar :func:`mask_id`."""
    if value is None:
        return None
    return pl.select(mask_id(pl.lit(str(value)))).item()


def mask_name_str(value: str | None) -> str | None:
    """Scalar :func:`mask_name`."""
    if value is None:
        return None
    return pl.select(mask_name(pl.lit(str(value)))).item()


#: Finds an 18-character identity-number-shaped token inside free text.
PERSON_ID_PATTERN = r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"


def mask_ids_in_text(expr: pl.Expr) -> pl.Expr:
    """Mask every identity number that appears inside free text (titles, explanations)."""
    return expr.str.replace_all(
        r"(\d{6})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(\d{3}[\dXx])",
        "${1}********${2}",
    )
