"""Numbers as text in evidence, titles and explanations, vectorised (polars expressions).

One place for it, so that a supervisor reads ``1,640.00`` the same way in every detector's
evidence and every lead's title.
"""

from __future__ import annotations

import polars as pl


def money(expr: pl.Expr) -> pl.Expr:
    """CNY text with thousands separators and two decimals: ``1640`` -> ``1,640.00``."""
    cents = (expr.abs() * 100).round(0).cast(pl.Int64)
    integer = (cents // 100).cast(pl.String)
    grouped = integer.str.reverse().str.replace_all(r"(\d{3})", "${1},").str.strip_suffix(",").str.reverse()
    frac = (cents % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + grouped + pl.lit(".") + frac


def num(expr: pl.Expr) -> pl.Expr:
    """A quantity as short text: ``3.0`` -> ``3``, ``2.5`` -> ``2.5``, ``2.345`` -> ``2.35``."""
    r = expr.round(2)
    return pl.when(r == r.floor()).then(r.cast(pl.Int64).cast(pl.String)).otherwise(r.cast(pl.String))


def age_on(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Age in whole years on ``day`` of a person born on ``birth`` (birthday counts on the day)."""
    before_birthday = (day.dt.month() < birth.dt.month()) | (
        (day.dt.month() == birth.dt.month()) & (day.dt.day() < birth.dt.day())
    )
    return (day.dt.year().cast(pl.Int64) - birth.dt.year().cast(pl.Int64)) - before_birthday.cast(pl.Int64)
