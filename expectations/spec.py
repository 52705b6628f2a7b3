"""How a check is declared: one :class:`Check` per expectation, built by small helpers.

A check has two faces that are declared once, side by side, from the same parameters:

* the **Great Expectations expectation** that appears in the results and the Data Docs. Where
  GE has a native expectation with the same meaning (not null, in set, between, regex, column
  pair A ≥ B, column exists) it runs on the real column; otherwise (uniqueness across chunks,
  money tolerances, agreement with the identity number, cross-dataset joins) polars computes a
  boolean column ``fw__<check>`` and GE validates that it is all ``True``, with the check's
  text as the expectation's description;
* the **polars row mask** (``ok``: True where the row passes) that decides which rows a
  critical check quarantines and supplies masked examples.

Null values pass every check except ``not_null`` (as in GE's map expectations), so that one
missing value is reported once, by the check that is about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal
from collections.abc import Callable

import great_expectations as gx
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.memory import repeated_values
from fundwatch.settings.validation import ValidationSettings

from .texts import col_zh

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"

E = gx.expectations

#: Slack added to money tolerances so that 0.01 itself is inside ±0.01 despite binary floats.
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Ctx:
    """What a check may read besides its own frame."""

    dataset: str
    settings: ValidationSettings
    #: accepted rows of datasets validated earlier in the run, input rows of the others.
    datasets: dict[str, pl.DataFrame]


OkFn = Callable[[pl.DataFrame, Ctx], "pl.Expr | pl.Series"]
ExpectFn = Callable[[dict[str, Any], float], Any]


@dataclass(frozen=True)
class Check:
    """One expectation of one dataset.

    Parameters
    ----------
    name : stable identifier within the dataset (``fund_amount_ge_0``); the quarantine reason
        and validation.json use it.
    text : one short sentence for auditors (English), used in reasons and Data Docs.
    severity : ``critical`` (quarantine failing rows / dataset unusable) or ``warning``.
    columns : the dataset's columns the check reads; they are also the example columns.
    ok : ``(frame, ctx) -> Expr | Series`` of booleans, True where the row passes.
    expect : ``(common_kwargs, mostly) -> Expectation`` for a native GE expectation, or None:
        GE then validates the derived column ``fw__<name>``.
    level : ``row`` or ``table`` (a table-level critical failure makes the dataset unusable).
    needs : other datasets the check reads; the check is skipped when one is absent.
    """

    name: str
    text: str
    severity: Severity
    columns: tuple[str, ...]
    ok: OkFn
    expect: ExpectFn | None = None
    level: Literal["row", "table"] = "row"
    needs: tuple[str, ...] = ()
    example_columns: tuple[str, ...] = field(default=())
    #: the same sentence in Chinese (written by the helpers; :data:`expectations.texts.CHECK_ZH`
    #: for hand-written checks); empty -> the English text.
    text_zh: str = ""

    @property
    def label_zh(self) -> str:
        """What the check verifies, in Chinese."""
        from .texts import CHECK_ZH

        return self.text_zh or CHECK_ZH.get(self.name) or self.text

    @property
    def reason(self) -> str:
        return f"{self.name}: {self.text}"

    @property
    def shown_columns(self) -> tuple[str, ...]:
        return self.example_columns or self.columns


# -- helpers: each returns a Check (or a list) -----------------------------------------------


def schema_checks(dataset: str) -> list[Check]:
    """Table level: every contract column present with its contract type; required non-null."""
    out: list[Check] = []
    for col in DATASETS[dataset].columns:
        if col.required:
            out.append(
                Check(
                    f"{col.name}_exists",
                    f"column {col.name} ({col.zh}) is present",
                    CRITICAL,
                    (col.name,),
                    ok=lambda f, c, n=col.name: pl.lit(n in f.columns),
                    expect=lambda kw, m, n=col.name: E.ExpectColumnToExist(column=n, **kw),
                    level="table",
                    text_zh=f"有“{col.zh}”列",
                )
            )
        out.append(
            Check(
                f"{col.name}_type",
                f"column {col.name} has the contract type {col.dtype} ({col.kind})",
                CRITICAL,
                (col.name,),
                ok=lambda f, c, n=col.name, t=col.dtype: pl.lit(n not in f.columns or f.schema[n] == t),
                level="table",
                text_zh=f"“{col.zh}”列为合同规定的类型",
            )
        )
        if not col.nullable:
            out.append(replace(not_null(col.name), text_zh=f"{col.zh}不为空"))
    return out


def not_null(col: str, severity: Severity = CRITICAL) -> Check:
    return Check(
        f"{col}_not_null",
        f"{col} is not empty",
        severity,
        (col,),
        ok=lambda f, c: pl.col(col).is_not_null(),
        expect=lambda kw, m: E.ExpectColumnValuesToNotBeNull(column=col, mostly=m, **kw),
        text_zh=f"{col_zh(col)}不为空",
    )


def unique(*cols: str, severity: Severity = CRITICAL) -> Check:
    """Unique (compound) key over the whole dataset, not per chunk: a polars-derived check.

    With ``quarantine_duplicates="keep_first"`` the first row of a key passes and later rows
    fail; with ``keep_none`` every row of a duplicated key fails.
    """
    key = "_".join(cols)

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Series:
        k = pl.struct(list(cols)) if len(cols) > 1 else pl.col(cols[0])
        exact = k.is_first_distinct() if c.settings.quarantine_duplicates == "keep_first" else ~k.is_duplicated()
        # Hashing tens of millions of string keys costs gigabytes; a 64-bit hash of each key
        # is small. Keys whose hash is unique are unique; only rows whose hash repeats (true
        # duplicates, or the rare collision) get the exact check on their real key.
        hashes = f.select(k.hash(seed=0)).to_series()
        repeated = repeated_values(hashes)
        passed = pl.repeat(True, f.height, dtype=pl.Boolean, eager=True)
        if repeated.len():
            rows = hashes.is_in(repeated.implode()).arg_true()
            passed = passed.scatter(rows, f[rows].select(exact).to_series())
        return passed

    return Check(
        f"{key}_unique",
        f"({', '.join(cols)}) is unique" if len(cols) > 1 else f"{cols[0]} is unique",
        severity,
        cols,
        ok=ok,
        text_zh=("(" + "、".join(col_zh(c) for c in cols) + ")不重复") if len(cols) > 1 else f"{col_zh(cols[0])}不重复",
    )


def in_set(col: str, values: list[str] | tuple[str, ...], severity: Severity = CRITICAL) -> Check:
    vals = list(values)
    return Check(
        f"{col}_in_set",
        f"{col} is one of {', '.join(vals)}",
        severity,
        (col,),
        ok=lambda f, c: pl.col(col).is_in(vals).fill_null(True),
        expect=lambda kw, m: E.ExpectColumnValuesToBeInSet(column=col, value_set=vals, mostly=m, **kw),
        text_zh=f"{col_zh(col)}为规定的取值之一({'、'.join(vals)})",
    )


def between(
    col: str,
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    strict_min: bool = False,
    severity: Severity = CRITICAL,
    name: str | None = None,
    show: tuple[str, ...] = (),
) -> Check:
    """Numeric range (inclusive unless ``strict_min``); ``show``: columns naming the row in
    examples (e.g. the key), besides ``col``."""
    parts = []
    expr = pl.lit(True)
    if min_value is not None:
        expr = expr & ((pl.col(col) > min_value) if strict_min else (pl.col(col) >= min_value))
        parts.append(f"{'>' if strict_min else '≥'} {min_value:g}")
    if max_value is not None:
        expr = expr & (pl.col(col) <= max_value)
        parts.append(f"≤ {max_value:g}")
    zh = f"{col_zh(col)} " + (" 且 ".join(parts) if parts else "")
    default_name = f"{col}_{'gt' if strict_min else 'ge'}_{min_value:g}" if max_value is None else f"{col}_range"
    return Check(
        name or default_name,
        f"{col} {' and '.join(parts)}",
        severity,
        (col,),
        ok=lambda f, c: expr.fill_null(True),
        expect=lambda kw, m: E.ExpectColumnValuesToBeBetween(
            column=col, min_value=min_value, max_value=max_value, strict_min=strict_min, mostly=m, **kw
        ),
        example_columns=(*show, col) if show else (),
        text_zh=zh,
    )


def matches(
    col: str, regex: str, text: str, name: str, severity: Severity = CRITICAL, show: tuple[str, ...] = (),
    text_zh: str = "",
) -> Check:
    """Values of ``col`` match ``regex``; ``show``: columns naming the row in examples."""
    return Check(
        name,
        f"{col} {text}",
        severity,
        (col,),
        ok=lambda f, c: pl.col(col).str.contains(regex).fill_null(True),
        expect=lambda kw, m: E.ExpectColumnValuesToMatchRegex(column=col, regex=regex, mostly=m, **kw),
        example_columns=(*show, col) if show else (),
        text_zh=f"{col_zh(col)}{text_zh}" if text_zh else "",
    )


REGION_RE = r"^[0-9]{12}$"
PERIOD_RE = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"

#: One ICD-10 code as settlement lists carry it, after the loader's normalisation (upper case):
#: a letter, two digits, optionally a dot and up to 8 letters/digits (``E11``, ``E11.9``, the
#: national insurance edition's ``I10.X00X002``), optionally a dagger/asterisk mark (``M49.0*``).
ICD10_CODE = r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,8}[+*]?)?"
#: One ICD-10 *prefix* (``item_catalog.indication``): a letter and up to two digits (``C``,
#: ``E1``, ``E11``), or a longer code prefix in the shape of :data:`ICD10_CODE` (``E11.9``).
ICD10_PREFIX = r"[A-Z](?:[0-9]{1,2}|[0-9]{2}\.[0-9A-Z]{1,8})?"


def code_list(
    col: str, part: str, what: str, name: str, severity: Severity = CRITICAL, key: tuple[str, ...] = ()
) -> Check:
    """``col`` is a ``;``-joined list whose every part matches the regex ``part``.

    ``key``: columns naming the row (``item_code``); they come first in the examples and in a
    quarantined row's ``raw_value`` (``D015 | E10;糖尿病``), so the failure names the item.
    """
    regex = rf"^{part}(?:;{part})*$"
    return Check(
        name,
        f"{col} is a ;-joined list of {what}",
        severity,
        (*key, col),
        ok=lambda f, c: pl.col(col).str.contains(regex).fill_null(True),
        expect=lambda kw, m: E.ExpectColumnValuesToMatchRegex(column=col, regex=regex, mostly=m, **kw),
    )


def region_code(col: str = "region_code", severity: Severity = CRITICAL) -> Check:
    return matches(col, REGION_RE, "is a 12-digit statistical area code", f"{col}_12_digits", severity,
                   text_zh="为12位统计用区划代码")


def period(col: str, severity: Severity = CRITICAL) -> Check:
    return matches(col, PERIOD_RE, "is a period YYYY-MM", f"{col}_is_period", severity, text_zh="为“年-月”格式的期间(如 2025-03)")


def pair_ge(a: str, b: str, severity: Severity = CRITICAL) -> Check:
    """``a ≥ b`` where both are present (GE's column-pair expectation, missing values ignored)."""
    return Check(
        f"{a}_ge_{b}",
        f"{a} is on or after {b}" if "date" in a else f"{a} ≥ {b}",
        severity,
        (a, b),
        ok=lambda f, c: (pl.col(a) >= pl.col(b)).fill_null(True),
        expect=lambda kw, m: E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing", mostly=m, **kw
        ),
        text_zh=f"{col_zh(a)}不早于{col_zh(b)}" if "date" in a else f"{col_zh(a)} ≥ {col_zh(b)}",
    )


def year_window(col: str, event: bool = False, severity: Severity = WARNING) -> Check:
    """Year of a date (or ``YYYY-MM`` period) within the sane window of the settings."""

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Expr:
        s = c.settings
        lo = s.event_min_year if event else s.min_year
        e = pl.col(col)
        year = e.str.slice(0, 4).cast(pl.Int64, strict=False) if f.schema.get(col) == pl.String else e.dt.year()
        return year.is_between(lo, s.max_year).fill_null(True)

    return Check(
        f"{col}_sane_year",
        f"{col} lies in a sane year window ({'event_min_year' if event else 'min_year'}..max_year)",
        severity,
        (col,),
        ok=ok,
        text_zh=f"{col_zh(col)}的年份在合理范围内",
    )


def valid_person_id(col: str, severity: Severity) -> Check:
    """GB 11643 identity number: the custom expectation :class:`ExpectColumnValuesToBeValidGb11643`."""
    from fundwatch.idnumber import is_valid_person_id

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Expr:
        # A city's ten million claims carry a million people: the checksum runs on the distinct
        # numbers, and rows are matched against the (few) invalid ones.
        distinct = f.select(pl.col(col).unique().drop_nulls())
        invalid = distinct.filter(~is_valid_person_id(pl.col(col))).get_column(col)
        if invalid.len() == 0:
            return pl.lit(True)
        return ~pl.col(col).is_in(invalid.implode()).fill_null(False)

    return Check(
        f"{col}_valid_gb11643",
        f"{col} is a valid GB 11643 identity number",
        severity,
        (col,),
        ok=ok,
        # evaluated as a polars check inside GE (no pandas copy of ten million ids); the pandas
        # expectation expectations.custom.ExpectColumnValuesToBeValidGb11643 remains for
        # analysts' own frames
        text_zh=f"{col_zh(col)}为有效的居民身份证号码(GB 11643)",
    )


def derived(
    name: str,
    text: str,
    severity: Severity,
    columns: tuple[str, ...],
    ok: OkFn,
    needs: tuple[str, ...] = (),
    example_columns: tuple[str, ...] = (),
    text_zh: str = "",
) -> Check:
    """A check computed in polars (cross-field, cross-dataset, whole-dataset keys)."""
    return Check(name, text, severity, columns, ok=ok, needs=needs, example_columns=example_columns, text_zh=text_zh)


def money_sum(total: str, parts: tuple[str, ...], severity: Severity = CRITICAL) -> Check:
    """``total = sum(parts)`` within ``settings.money_tolerance``."""

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Expr:
        diff = pl.col(total) - pl.sum_horizontal([pl.col(p) for p in parts])
        return (diff.abs() <= c.settings.money_tolerance + FLOAT_SLACK).fill_null(True)

    return derived(
        f"{total}_eq_{'_plus_'.join(parts)}",
        f"{total} = {' + '.join(parts)} (± money_tolerance)",
        severity,
        (total, *parts),
        ok,
        text_zh=f"{col_zh(total)} = " + " + ".join(col_zh(p) for p in parts) + "(允差内)",
    )


def money_product(total: str, a: str, b: str, severity: Severity = CRITICAL) -> Check:
    """``total = a × b`` within ``settings.money_tolerance``."""

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Expr:
        diff = pl.col(total) - pl.col(a) * pl.col(b)
        return (diff.abs() <= c.settings.money_tolerance + FLOAT_SLACK).fill_null(True)

    return derived(f"{total}_eq_{a}_times_{b}", f"{total} = {a} × {b} (± money_tolerance)", severity, (total, a, b), ok,
                   text_zh=f"{col_zh(total)} = {col_zh(a)} × {col_zh(b)}(允差内)")
