"""Vectorised normalisation of input values, one expression builder per contract value kind.

Every builder takes a polars expression holding the raw cell (text for CSV and Excel; for
parquet it may already be typed) and returns a :class:`Normalized` triple of expressions:

``value``
    the normalised value in the kind's canonical dtype (``contract.KIND_DTYPES``), null where
    the cell is empty; only meaningful where ``invalid`` is false (:func:`clean` masks it);
``empty``
    True where the raw cell is empty (null, or only white space);
``error``
    a short English reason where the cell is non-empty but could not be normalised, else null;
``invalid``
    the same as a boolean, much cheaper than building the reason strings for 30M rows.

The loader quarantines a row where any ``invalid`` is set, or where ``empty`` is set in a
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
codes     ``E11;E13``, ``e11；E13``, ``E11, E13``, ``E11、E13``, ``E11 E13`` -> ``E11;E13``
========  ===========================================================================

``codes`` (v2: ``item_catalog.indication``, ``claims.secondary_diagnoses``) stay **text**, the
``;``-joined canonical form, not ``List[String]``: the value round-trips CSV, Excel and the
Great Expectations pandas batches unchanged, it costs one string where most rows are empty
(a list column costs an offsets entry per row, ~300 MB on 35M rows), and a detector that needs
the list splits it lazily (:func:`split_codes`). Full-width forms are folded (NFKC), separators
become ``;``, letters are upper-cased; whether each part is an ICD-10 code or prefix is the
validation suite's job (it names the item), not the loader's.

Examples
--------
>>> import polars as pl
>>> from fundwatch.settings import LoadSettings
>>> n = normalize_date(pl.col("d"), LoadSettings())
>>> pl.DataFrame({"d": ["2025年3月7日", "", "2025-02-30"]}).select(
...     clean(n).alias("v"), n.empty.alias("e"), n.bad.alias("bad")
... ).rows()
[(datetime.date(2025, 3, 7), False, False), (None, True, False), (None, False, True)]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from collections.abc import Callable

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
    invalid: pl.Expr | None = None

    @property
    def bad(self) -> pl.Expr:
        """Boolean: non-empty and not normalisable (cheaper than testing ``error``)."""
        return self.error.is_not_null() if self.invalid is None else self.invalid


# ---------------------------------------------------------------------------- helpers
def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars()


def _is_empty_text(t: pl.Expr) -> pl.Expr:
    return t.is_null() | (t.str.len_bytes() == 0)


#: A text parser: trimmed text -> (value, bad where non-empty, reason where bad).
Parser = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr, pl.Expr]]


def _from_text(expr: pl.Expr, settings: LoadSettings, parse: Parser, null_empty: bool = False) -> Normalized:
    """Wrap a text parser with the checks every kind shares (length, NUL bytes, emptiness).

    ``value`` is only meaningful where ``bad`` is false (the loader quarantines the others);
    use :func:`clean` for a value that is null wherever it is not valid.
    """
    t = _text(expr)
    empty = _is_empty_text(t)
    too_long = t.str.len_bytes() > settings.max_field_bytes
    has_nul = t.str.contains("\x00", literal=True)
    value, bad, reason = parse(t)
    invalid = (~empty & (too_long | has_nul | bad.fill_null(True))).fill_null(False)
    error = (
        pl.when(~invalid)
        .then(None)
        .when(too_long)
        .then(pl.lit(f"value longer than {settings.max_field_bytes} bytes"))
        .when(has_nul)
        .then(pl.lit("value contains a NUL byte"))
        .otherwise(reason)
    )
    if null_empty:
        value = pl.when(empty).then(None).otherwise(value)
    return Normalized(value, empty, error, invalid)


def clean(n: Normalized) -> pl.Expr:
    """The normalised value, null wherever the cell is empty or invalid."""
    return pl.when(n.bad).then(None).otherwise(n.value)


def _year_bad(year: pl.Expr, settings: LoadSettings) -> pl.Expr:
    return (year < settings.min_year) | (year > settings.max_year)


def _year_error(year: pl.Expr, settings: LoadSettings) -> pl.Expr:
    return (
        pl.when(_year_bad(year, settings))
        .then(
            pl.lit("year ")
            + year.cast(pl.String)
            + pl.lit(f" outside {settings.min_year}-{settings.max_year}")
        )
        .otherwise(None)
    )


def _magnitude_bad(v: pl.Expr, limit: float) -> pl.Expr:
    return ~v.is_finite() | (v.abs() > limit)


def _magnitude_error(v: pl.Expr, limit: float, what: str) -> pl.Expr:
    return (
        pl.when(~v.is_finite())
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
    if isinstance(dtype, pl.Datetime):
        return expr.dt.strftime("%Y-%m-%d %H:%M:%S")
    return expr.cast(pl.String, strict=False)


_NONE = pl.lit(None, pl.String)


# ---------------------------------------------------------------------------- text kinds
def normalize_str(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Free text: surrounding white space trimmed."""
    return _from_text(expr, settings, lambda t: (t, pl.lit(False), _NONE), null_empty=True)


def normalize_person(expr: pl.Expr, settings: LoadSettings, strict: bool = False) -> Normalized:
    """Identity number: trimmed and upper-cased; with ``strict`` it must be valid GB 11643."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        v = t.str.to_uppercase()
        if not strict:
            return v, pl.lit(False), _NONE
        reason = invalid_person_id_reason(v)
        return v, reason.is_not_null(), reason

    return _from_text(expr, settings, parse, null_empty=True)


def normalize_region(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Statistical area code: exactly ``settings.region_code_digits`` digits."""
    n = settings.region_code_digits

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        bad = ~t.str.contains(f"^[0-9]{{{n}}}$")
        return t, bad, pl.lit(f"region code must be {n} digits")

    return _from_text(expr, settings, parse, null_empty=True)


def normalize_date(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Date (``pl.Date``) from any accepted text format or an Excel serial number."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        # One cheap rewrite to "Y-M-D" (chrono accepts 1-digit months/days), no regex groups:
        # a group extraction referenced several times is re-run per reference (no CSE there).
        s = (
            t.str.replace_all(r"[年月/.]", "-")
            .str.replace_all("日", "", literal=True)
            .str.replace(r"[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$", "")
        )
        iso = s.str.to_date("%Y-%m-%d", strict=False)
        compact = pl.when(s.str.contains(r"^[0-9]{8}$")).then(s.str.to_date("%Y%m%d", strict=False))
        other = compact
        value = pl.coalesce(iso, other)
        if settings.accept_excel_serial_dates:
            serial = (
                pl.when(t.str.contains(_SERIAL))
                .then(t.cast(pl.Float64, strict=False).floor().cast(pl.Int64) - _EXCEL_EPOCH_OFFSET)
                .otherwise(None)
                .cast(pl.Date)
            )
            value = pl.coalesce(value, serial)
        year = value.dt.year()
        bad = value.is_null() | _year_bad(year, settings)
        reason = (
            pl.when(value.is_null())
            .then(pl.lit("not a date (expected 2025-03-07, 20250307, 2025/3/7 or 2025年3月7日)"))
            .otherwise(_year_error(year, settings))
        )
        return value, bad, reason

    return _from_text(expr, settings, parse)


def normalize_period(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Period ``YYYY-MM`` (text) from any accepted format."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        s = t.str.replace_all(r"[年/.]", "-").str.replace_all("月", "", literal=True)
        g = s.str.extract_groups(_PERIOD)
        y = g.struct[0]
        m = pl.coalesce(g.struct[i] for i in (1, 2, 3)).cast(pl.Int64, strict=False)
        shape_bad = y.is_null() | m.is_null() | (m < 1) | (m > 12)
        year = y.cast(pl.Int64, strict=False)
        bad = shape_bad | _year_bad(year, settings)
        reason = (
            pl.when(shape_bad)
            .then(pl.lit("not a period (expected 2025-03, 202503, 2025/03 or 2025年3月)"))
            .otherwise(_year_error(year, settings))
        )
        return y + "-" + m.cast(pl.String).str.zfill(2), bad, reason

    return _from_text(expr, settings, parse)


def _number_parser(currency: bool, limit: float, what: str, shape_reason: str) -> Parser:
    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        c = t
        if currency:
            # the currency sign only in front (after a sign), 元 only at the end
            c = c.str.replace(r"^([+-]?)\s*[¥￥]\s*", "${1}").str.replace(r"\s*元$", "")
        c = c.str.replace_all(r"[,，]", "")
        v = c.cast(pl.Float64, strict=False)
        shape_bad = ~c.str.contains(_NUMBER) | v.is_null()
        bad = shape_bad | _magnitude_bad(v, limit)
        reason = pl.when(shape_bad).then(pl.lit(shape_reason)).otherwise(_magnitude_error(v, limit, what))
        return v, bad, reason

    return parse


def normalize_money(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Money (``Float64`` CNY); thousands separators, ``¥``/``￥`` and ``元`` are dropped."""
    return _from_text(
        expr,
        settings,
        _number_parser(
            True,
            settings.max_money,
            "amount",
            "not an amount (expected 1234.50, 1,234.50, ¥1234.5 or 1234.50元)",
        ),
    )


def normalize_float(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Plain number (``Float64``); thousands separators dropped."""
    return _from_text(expr, settings, _number_parser(False, settings.max_float, "number", "not a number"))


def normalize_int(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Whole number (``Int64``); ``12.0`` and ``1,200`` accepted, ``12.5`` is an error."""

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        c = t.str.replace_all(r"[,，\s]", "")
        v = c.str.replace(r"\.0*$", "").str.strip_prefix("+").cast(pl.Int64, strict=False)
        shape_bad = ~c.str.contains(_INTEGER) | v.is_null()
        bad = shape_bad | (v.abs() > settings.max_int)
        reason = (
            pl.when(shape_bad)
            .then(pl.lit("not a whole number"))
            .otherwise(pl.lit(f"whole number beyond ±{settings.max_int}"))
        )
        return v, bad, reason

    return _from_text(expr, settings, parse)


def _mapped(t: pl.Expr, mapping: dict, return_dtype: pl.DataType) -> pl.Expr:
    return t.replace_strict(mapping, default=None, return_dtype=return_dtype)


def _case_variants(mapping: dict[str, object]) -> dict[str, object]:
    """ASCII keys in lower, upper and title case too (cheaper than lower-casing 30M cells)."""
    out: dict[str, object] = {}
    for k, v in mapping.items():
        for variant in (k, k.lower(), k.upper(), k.title(), k.capitalize()):
            out.setdefault(variant, v)
    return out


_GENDER = _case_variants(GENDER_MAP)
_BOOL = _case_variants(BOOL_MAP)


def _mapping_parser(mapping: dict, dtype: pl.DataType, reason: str) -> Parser:
    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        v = _mapped(t, mapping, dtype)
        return v, v.is_null(), pl.lit(reason)

    return parse


def normalize_gender(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Gender ``M``/``F`` from ``M``/``F``, ``男``/``女`` or ``1``/``2``."""
    return _from_text(
        expr, settings, _mapping_parser(_GENDER, pl.String, "not a gender (expected M/F, 男/女 or 1/2)")
    )


def normalize_bool(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """Boolean from ``true``/``false``, ``1``/``0``, ``是``/``否``, ``Y``/``N``."""
    return _from_text(
        expr,
        settings,
        _mapping_parser(_BOOL, pl.Boolean, "not a yes/no value (expected true/false, 1/0, 是/否 or Y/N)"),
    )


def enum_mapping(column: contract.Column) -> dict[str, str]:
    """Every accepted spelling of an enumeration column -> its code."""
    mapping: dict[str, str] = {}
    for code, label in column.enum.items():
        mapping[code] = code
        mapping[label] = code
    mapping.update(contract.ENUM_SYNONYMS.get(column.name, {}))
    return _case_variants(mapping)


def normalize_enum(expr: pl.Expr, settings: LoadSettings, column: contract.Column) -> Normalized:
    """Enumeration code from the code (any case), the Chinese label or a known synonym."""
    expected = ", ".join(f"{k} {v}" for k, v in column.enum.items())
    return _from_text(expr, settings, _mapping_parser(enum_mapping(column), pl.String, f"not one of {expected}"))


def normalize_codes(expr: pl.Expr, settings: LoadSettings) -> Normalized:
    """A ``;``-joined list of codes (ICD-10): separators and case normalised, never rejected.

    NFKC folds full-width letters, digits, ``；`` and ``，``; any run of ``;``, ``,``, ``、`` or white
    space becomes one ``;``; leading/trailing separators go; letters are upper-cased. A value
    holding only separators is empty.
    """

    def parse(t: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        v = (
            t.str.normalize("NFKC")
            .str.to_uppercase()
            .str.replace_all(r"[;,、\s]+", ";")
            .str.strip_chars(";")
        )
        return pl.when(v.str.len_bytes() > 0).then(v), pl.lit(False), _NONE

    return _from_text(expr, settings, parse, null_empty=True)


def split_codes(expr: pl.Expr) -> pl.Expr:
    """A normalised ``codes`` value (``E11;E13``) as ``List[String]``; null stays null."""
    return expr.str.split(";")


# ---------------------------------------------------------------------------- dispatch
def _typed(
    expr: pl.Expr, dtype: pl.DataType, kind: str, settings: LoadSettings
) -> Normalized | None:
    """Fast paths for already-typed columns (parquet, Excel); None = go through text."""
    empty = expr.is_null()
    is_dt = dtype == pl.Date or isinstance(dtype, pl.Datetime)
    if kind == "date" and (is_dt or (dtype.is_numeric() and settings.accept_excel_serial_dates)):
        if is_dt:
            v = expr if dtype == pl.Date else expr.dt.date()
            shape_bad = pl.lit(False)
        else:
            v = (
                pl.when(expr.is_finite() & (expr.abs() < 3e6))
                .then(expr.cast(pl.Float64).floor().cast(pl.Int64) - _EXCEL_EPOCH_OFFSET)
                .otherwise(None)
                .cast(pl.Date)
            )
            shape_bad = v.is_null()
        year = v.dt.year()
        invalid = ~empty & (shape_bad | _year_bad(year, settings)).fill_null(True)
        err = (
            pl.when(~invalid)
            .then(None)
            .when(shape_bad)
            .then(pl.lit("not an Excel date serial number"))
            .otherwise(_year_error(year, settings))
        )
        return Normalized(v, empty, err, invalid)
    if kind == "period" and is_dt:
        year = expr.dt.year()
        invalid = (~empty & _year_bad(year, settings)).fill_null(False)
        err = pl.when(invalid).then(_year_error(year, settings))
        return Normalized(expr.dt.strftime("%Y-%m"), empty, err, invalid)
    if kind in ("money", "float") and dtype.is_numeric():
        v = expr.cast(pl.Float64)
        limit = settings.max_money if kind == "money" else settings.max_float
        invalid = (~empty & _magnitude_bad(v, limit)).fill_null(False)
        err = pl.when(invalid).then(_magnitude_error(v, limit, "amount" if kind == "money" else "number"))
        return Normalized(v, empty, err, invalid)
    if kind == "int" and dtype.is_integer():
        v = expr.cast(pl.Int64, strict=False)
        invalid = (~empty & (v.is_null() | (v.abs() > settings.max_int))).fill_null(False)
        err = pl.when(invalid).then(pl.lit(f"whole number beyond ±{settings.max_int}"))
        return Normalized(v, empty, err, invalid)
    if kind == "bool" and dtype == pl.Boolean:
        return Normalized(expr, empty, _NONE, pl.lit(False))
    return None


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
        ``value`` cast to ``column.dtype`` (meaningful only where ``bad`` is false; see
        :func:`clean`); ``empty``; ``error``; ``invalid``.
    """
    kind = column.kind
    if dtype is not None and dtype != pl.String:
        fast = _typed(expr, dtype, kind, settings)
        if fast is not None:
            return Normalized(
                fast.value.cast(column.dtype), fast.empty, fast.error.cast(pl.String), fast.invalid
            )
        expr = as_text(expr, dtype)
    if kind == "person":
        n = normalize_person(expr, settings, strict=strict_person)
    elif kind == "enum":
        n = normalize_enum(expr, settings, column)
    else:
        n = _BUILDERS[kind](expr, settings)
    return Normalized(n.value.cast(column.dtype), n.empty, n.error.cast(pl.String), n.invalid)


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
    "codes": normalize_codes,
}
