"""Vectorised normalisation of input values, one expression builder per contract value kind.

Every builder takes a polars expression holding the raw cell (text for CSV and Excel; for
parquet it may already be typed) and returns a :class:`Normalized` triple of expressions:

``value``
    the normalised value in the kind's canonical dtype (``contract.KIND_DTYPES``), null where
    the cell is empty *or* could not be normalised;
``empty``
    True where the raw cell is empty (null, or only white space);
``error``
    a short English reason where the cell is non-empty but could not be normalised, else null.

The loader quarantines a row where any ``error`` is set, or where ``empty`` is set in a
non-nullable column. Nothing here loops over rows in Python.

Accepted formats (the contract's value-format table, plus a few harmless variants):

========  ===========================================================================
kind      accepted
========  ===========================================================================
date      ``2025-03-07``, ``20250307``, ``2025/3/7``, ``2025.3.7``, ``2025年3月7日``,
          ``2025-03-07 00:00:00`` (Excel date cells), Excel serial day numbers
period    ``2025-03``, ``202503``, ``2025/03``, ``2025年3月``, an Excel date cell on day 1
money     ``1234.50``, ``1,234.50``, ``¥1234.5``, ``￥1234.5``, ``1234.50元``, ``-12``
gender    ``M``/``F``, ``男``/``女``, ``1``/``2`` (GB/T 2261.1), case-insensitive
bool      ``true``/``false``, ``1``/``0``, ``是``/``否``, ``Y``/``N``, ``yes``/``no``
enum      the code (case-insensitive), its Chinese label, ``contract.ENUM_SYNONYMS``
int       ``12``, ``+12``, ``12.0``, ``1,200``
float     ``1.5``, ``1,234.5``, ``1e3``
========  ===========================================================================

Examples
--------
>>> import polars as pl
>>> from fundwatch.settings import LoadSettings
>>> n = normalize_date(pl.col("d"), LoadSettings())
>>> pl.DataFrame({"d": ["2025年3月7日", "", "2025-02-30"]}).select(
...     n.value.alias("v"), n.empty.alias("e"), n.error.is_not_null().alias("bad")
... ).rows()
[(datetime.date(2025, 3, 7), False, False), (None, True, False), (None, False, True)]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import polars as pl

from . import contract
from .idnumber import invalid_person_id_reason
from .settings.load import LoadSettings

#: Excel's day 0 (serial numbers count days from here; the 1900 leap-year bug is ignored).
EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_EPOCH_OFFSET = (dt.date(1970, 1, 1) - EXCEL_EPOCH).days  # 25569

_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+(?:\.0*)?$"
_DATE = (
    r"^([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
    r"|([0-9]{2})([0-9]{2}))$"
)
_SERIAL = r"^[0-9]{1,6}(?:\.[0-9]+)?$"
_PERIOD = r"^([0-9]{4})(?:-([0-9]{1,2})|([0-9]{2})|-([0-9]{1,2})-0?1(?: 00:00:00)?)$"

GENDER_MAP = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F", "MALE": "M", "FEMALE": "F"}
BOOL_MAP = {
    "true": True, "false": False, "1": True, "0": False, "是": True, "否": False,
    "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
}


@dataclass(frozen=True)
class Normalized:
    """Expressions for one normalised column (see the module docstring)."""

    value: pl.Expr
    empty: pl.Expr
    error: pl.Expr


# ---------------------------------------------------------------------------- helpers
def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars()


def _is_empty_text(t: pl.Expr) -> pl.Expr:
    return t.is_null() | (t.str.len_bytes() == 0)


def _text_guard(t: pl.Expr, settings: LoadSettings) -> pl.Expr:
    """Reason for a cell no kind may hold: too long, or holding a NUL byte."""
    return (
        pl.when(t.str.len_chars() > settings.max_field_chars)
        .then(pl.lit(f"value longer than {settings.max_field_chars} characters"))
        .when(t.str.contains("\x00", literal=True))
        .then(pl.lit("value contains a NUL byte"))
        .otherwise(None)
    )


def _from_text(
    expr: pl.Expr,
    settings: LoadSettings,
    parse: Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]],
) -> Normalized:
    """Wrap a text parser ``parse(trimmed) -> (value, error-where-not-empty)``."""
    t = _text(expr)
    empty = _is_empty_text(t)
    guard = _text_guard(t, settings)
    value, error = parse(t)
    error = pl.when(empty).then(None).otherwise(pl.coalesce(guard, error))
    value = pl.when(empty | error.is_not_null()).then(None).otherwise(value)
    return Normalized(value, empty, error)


def _year_error(year: pl.Expr, settings: LoadSettings) -> pl.Expr:
    return (
        pl.when((year < settings.min_year) | (year > settings.max_year))
        .then(
            pl.lit("year ")
            + year.cast(pl.String)
            + pl.lit(f" outside {settings.min_year}-{settings.max_year}")
        )
        .otherwise(None)
    )


def _magnitude_error(v: pl.Expr, limit: float, what: str) -> pl.Expr:
    return (
        pl.when(v.is_nan() | v.is_infinite())
        .then(pl.lit(f"{what} is not a finite number"))
        .when(v.abs() > limit)
        .then(pl.lit(f"{what} beyond ±{limit:g}"))
        .otherwise(None)
    )


def _int_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Text of a numeric cell, whole floats without ``.0`` (Excel stores codes as floats)."""
    if dtype.is_float():
        whole = expr.is_finite() & (expr == expr.floor()) & (expr.abs() < 9e15)
        return (
            pl.when(whole)
            .then(expr.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(expr.cast(pl.String))
        )
    return expr.cast(pl.String)


def as_text(expr: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    """A raw cell of any dtype as text (used for quarantine's ``raw_value`` too)."""
    if dtype is None or dtype == pl.String:
        return expr.cast(pl.String)
    if dtype.is_numeric():
        return _int_text(expr, dtype)
    if dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
        return expr.dt.strftime("%Y-%m-%d %H:%M:%S")
    return expr.cast(pl.String, strict=False)


# ---------------------------------------------------------------------------- text kinds
def normalize_str(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Free text: surrounding white space trimmed."""
    return _from_text(expr, settings, lambda t: (t, pl.lit(None, pl.String)))


def normalize_person(expr: pl.Expr, settings: LoadSettings, strict: bool = False) -> Normalized:
    """Identity number: trimmed and upper-cased; with ``strict`` it must be valid GB 11643."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        v = t.str.to_uppercase()
        return v, (invalid_person_id_reason(v) if strict else pl.lit(None, pl.String))

    return _from_text(expr, settings, parse)


def normalize_region(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Statistical area code: exactly ``settings.region_code_digits`` digits."""
    n = settings.region_code_digits

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        ok = t.str.contains(f"^[0-9]{{{n}}}$")
        return t, pl.when(ok).then(None).otherwise(pl.lit(f"region code must be {n} digits"))

    return _from_text(expr, settings, parse)


def normalize_date(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Date (``pl.Date``) from any accepted text format or an Excel serial number."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        s = t.str.replace_all(r"[年月/.]", "-").str.replace_all("日", "", literal=True)
        y = s.str.extract(_DATE, 1)
        m = pl.coalesce(s.str.extract(_DATE, 2), s.str.extract(_DATE, 4))
        d = pl.coalesce(s.str.extract(_DATE, 3), s.str.extract(_DATE, 5))
        text_date = (y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2)).str.to_date(
            "%Y-%m-%d", strict=False
        )
        value = text_date
        if settings.accept_excel_serial_dates:
            serial = (
                pl.when(t.str.contains(_SERIAL))
                .then(t.cast(pl.Float64, strict=False).floor().cast(pl.Int64) - _EXCEL_EPOCH_OFFSET)
                .otherwise(None)
                .cast(pl.Date)
            )
            value = pl.coalesce(text_date, serial)
        error = (
            pl.when(value.is_null())
            .then(pl.lit("not a date (expected 2025-03-07, 20250307, 2025/3/7 or 2025年3月7日)"))
            .otherwise(_year_error(value.dt.year(), settings))
        )
        return value, error

    return _from_text(expr, settings, parse)


def normalize_period(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Period ``YYYY-MM`` (text) from any accepted format."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        s = t.str.replace_all(r"[年/.]", "-").str.replace_all("月", "", literal=True)
        y = s.str.extract(_PERIOD, 1)
        m = pl.coalesce(s.str.extract(_PERIOD, i) for i in (2, 3, 4)).cast(pl.Int64, strict=False)
        error = (
            pl.when(y.is_null() | m.is_null() | (m < 1) | (m > 12))
            .then(pl.lit("not a period (expected 2025-03, 202503, 2025/03 or 2025年3月)"))
            .otherwise(_year_error(y.cast(pl.Int64), settings))
        )
        return y + "-" + m.cast(pl.String).str.zfill(2), error

    return _from_text(expr, settings, parse)


def _parse_number(t: pl.Expr, strip: str) -> tuple[pl.Expr, pl.Expr]:
    c = t.str.replace_all(strip, "")
    return c.str.contains(_NUMBER), c.cast(pl.Float64, strict=False)


def normalize_money(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Money (``Float64`` CNY); thousands separators, ``¥``/``￥`` and ``元`` are dropped."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        ok, v = _parse_number(t, r"[,，¥￥元\s]")
        error = (
            pl.when(~ok | v.is_null())
            .then(pl.lit("not an amount (expected 1234.50, 1,234.50, ¥1234.5 or 1234.50元)"))
            .otherwise(_magnitude_error(v, settings.max_money, "amount"))
        )
        return v, error

    return _from_text(expr, settings, parse)


def normalize_float(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Plain number (``Float64``); thousands separators dropped."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        ok, v = _parse_number(t, r"[,，\s]")
        error = (
            pl.when(~ok | v.is_null())
            .then(pl.lit("not a number"))
            .otherwise(_magnitude_error(v, settings.max_float, "number"))
        )
        return v, error

    return _from_text(expr, settings, parse)


def normalize_int(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Whole number (``Int64``); ``12.0`` and ``1,200`` accepted, ``12.5`` is an error."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        c = t.str.replace_all(r"[,，\s]", "")
        ok = c.str.contains(_INTEGER)
        v = c.str.replace(r"\.0*$", "").str.strip_prefix("+").cast(pl.Int64, strict=False)
        error = (
            pl.when(~ok | v.is_null())
            .then(pl.lit("not a whole number"))
            .when(v.abs() > settings.max_int)
            .then(pl.lit(f"whole number beyond ±{settings.max_int}"))
            .otherwise(None)
        )
        return v, error

    return _from_text(expr, settings, parse)


def _mapped(t: pl.Expr, mapping: dict, return_dtype: pl.DataType) -> pl.Expr:
    return t.replace_strict(mapping, default=None, return_dtype=return_dtype)


def normalize_gender(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Gender ``M``/``F`` from ``M``/``F``, ``男``/``女`` or ``1``/``2``."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        v = _mapped(t.str.to_uppercase(), GENDER_MAP, pl.String)
        return v, pl.when(v.is_null()).then(pl.lit("not a gender (expected M/F, 男/女 or 1/2)"))

    return _from_text(expr, settings, parse)


def normalize_bool(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Boolean from ``true``/``false``, ``1``/``0``, ``是``/``否``, ``Y``/``N``."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        v = _mapped(t.str.to_lowercase(), BOOL_MAP, pl.Boolean)
        return v, pl.when(v.is_null()).then(
            pl.lit("not a yes/no value (expected true/false, 1/0, 是/否 or Y/N)")
        )

    return _from_text(expr, settings, parse)


def enum_mapping(column: contract.Column) -> dict[str, str]:
    """Every accepted spelling of an enumeration column -> its code."""
    mapping: dict[str, str] = {}
    for code, label in column.enum.items():
        mapping[code] = code
        mapping[code.lower()] = code
        mapping[label] = code
    mapping.update(contract.ENUM_SYNONYMS.get(column.name, {}))
    return mapping


def normalize_enum(expr: pl.Expr, settings: LoadSettings, column: contract.Column) -> Normalized:
    """Enumeration code from the code (any case), the Chinese label or a known synonym."""
    mapping = enum_mapping(column)
    expected = ", ".join(f"{k} {v}" for k, v in column.enum.items())

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        v = pl.coalesce(_mapped(t, mapping, pl.String), _mapped(t.str.to_lowercase(), mapping, pl.String))
        return v, pl.when(v.is_null()).then(pl.lit(f"not one of {expected}"))

    return _from_text(expr, settings, parse)


# ---------------------------------------------------------------------------- dispatch
def _typed(
    expr: pl.Expr, dtype: pl.DataType, kind: str, settings: LoadSettings
) -> Normalized | None:
    """Fast paths for already-typed columns (parquet, Excel); None = go through text."""
    empty = expr.is_null()
    is_dt = dtype == pl.Date or isinstance(dtype, pl.Datetime)
    if kind == "date" and is_dt:
        v = expr if dtype == pl.Date else expr.dt.date()
    elif kind == "date" and dtype.is_numeric() and settings.accept_excel_serial_dates:
        v = (
            pl.when(expr.is_finite() & (expr.abs() < 3e6))
            .then(expr.cast(pl.Float64).floor().cast(pl.Int64) - _EXCEL_EPOCH_OFFSET)
            .otherwise(None)
            .cast(pl.Date)
        )
        err = pl.when(v.is_null() & ~empty).then(pl.lit("not an Excel date serial number"))
        err = pl.coalesce(err, _year_error(v.dt.year(), settings))
        return Normalized(pl.when(err.is_null()).then(v), empty, err)
    elif kind == "period" and is_dt:
        err = _year_error(expr.dt.year(), settings)
        return Normalized(pl.when(err.is_null()).then(expr.dt.strftime("%Y-%m")), empty, err)
    elif kind in ("money", "float") and dtype.is_numeric():
        v = expr.cast(pl.Float64)
        limit = settings.max_money if kind == "money" else settings.max_float
        err = _magnitude_error(v, limit, "amount" if kind == "money" else "number")
        return Normalized(pl.when(err.is_null()).then(v), empty, err)
    elif kind == "int" and dtype.is_integer():
        v = expr.cast(pl.Int64, strict=False)
        err = (
            pl.when(v.is_null() & ~empty)
            .then(pl.lit("whole number out of range"))
            .when(v.abs() > settings.max_int)
            .then(pl.lit(f"whole number beyond ±{settings.max_int}"))
            .otherwise(None)
        )
        return Normalized(pl.when(err.is_null()).then(v), empty, err)
    elif kind == "bool" and dtype == pl.Boolean:
        return Normalized(expr, empty, pl.lit(None, pl.String))
    else:
        return None
    err = _year_error(v.dt.year(), settings)
    return Normalized(pl.when(err.is_null()).then(v), empty, err)


def normalize(
    expr: pl.Expr,
    column: contract.Column,
    settings: LoadSettings,
    dtype: pl.DataType | None = None,
    strict_person: bool = False,
) -> Normalized:
    """Normalise ``expr`` (of input dtype ``dtype``, default text) as ``column``'s kind.

    Parameters
    ----------
    expr : the raw cell.
    column : the contract column (its ``kind`` chooses the builder, ``enum`` its codes).
    settings : windows and limits.
    dtype : dtype of ``expr`` in the source (parquet/Excel may be typed); ``None`` = text.
    strict_person : validate identity numbers (GB 11643); only the ``persons`` dataset does.

    Returns
    -------
    Normalized
        ``value`` cast to ``column.dtype``; ``empty``; ``error``.
    """
    kind = column.kind
    if dtype is not None and dtype != pl.String:
        fast = _typed(expr, dtype, kind, settings)
        if fast is not None:
            return Normalized(fast.value.cast(column.dtype), fast.empty, fast.error.cast(pl.String))
        expr = as_text(expr, dtype)
    if kind == "person":
        n = normalize_person(expr, settings, strict=strict_person)
    elif kind == "enum":
        n = normalize_enum(expr, settings, column)
    else:
        n = _BUILDERS[kind](expr, settings)
    return Normalized(n.value.cast(column.dtype), n.empty, n.error.cast(pl.String))


_BUILDERS: dict[str, Callable[[pl.Expr, LoadSettings], Normalized]] = {
    "str": normalize_str,
    "person": normalize_person,
    "region": normalize_region,
    "date": normalize_date,
    "period": normalize_period,
    "money": normalize_money,
    "gender": normalize_gender,
    "bool": normalize_bool,
    "int": normalize_int,
    "float": normalize_float,
}
