"""Privacy and injection safety for everything meant to be read by people.

* :func:`mask_frame` masks identity numbers, account numbers and names in a frame
  (used for leads.csv, the HTML report, the Excel workbook, logs and Prefect artifacts);
* :func:`formula_safe` neutralises spreadsheet formula injection in text cells;
* ``--unmask`` is the only switch that turns masking off, and it is recorded in ``run.json``.

leads.parquet and the lead store keep identifiers whole (investigators join on them).
"""

from __future__ import annotations

import polars as pl

from .idnumber import mask_id, mask_ids_in_text, mask_name

#: Columns masked as identity/account numbers wherever they appear in a readable output.
ID_COLUMNS = ("person_id", "account_holder_id", "proxy_id", "account_no", "holder_id", "beneficiary_id")
#: Columns masked as personal names (institution names are not personal and are not masked).
NAME_COLUMNS = ("name", "person_name", "holder_name", "beneficiary_name")
#: Entity types whose ``entity_id`` is personal.
PERSONAL_ENTITY_TYPES = ("person", "account")

#: A cell starting with one of these is interpreted as a formula by Excel/LibreOffice/WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_frame(frame: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """Mask the personal columns of ``frame`` (unless ``unmask``).

    Masks the :data:`ID_COLUMNS` and :data:`NAME_COLUMNS` present, ``entity_id`` where
    ``entity_type`` is personal, list columns of ids named ``*person_ids``, and identity
    numbers appearing inside the free-text columns ``title``, ``explanation``,
    ``evidence_zh``/``evidence_en``.
    """
    if unmask:
        return frame
    exprs: list[pl.Expr] = []
    for col, dtype in frame.schema.items():
        if col in ID_COLUMNS and dtype == pl.String:
            exprs.append(mask_id(pl.col(col)).alias(col))
        elif col in NAME_COLUMNS and dtype == pl.String:
            exprs.append(mask_name(pl.col(col)).alias(col))
        elif col.endswith("person_ids") and dtype == pl.List(pl.String):
            exprs.append(pl.col(col).list.eval(mask_id(pl.element())).alias(col))
        elif col in ("title", "explanation", "evidence_zh", "evidence_en", "description") and dtype == pl.String:
            exprs.append(mask_ids_in_text(pl.col(col)).alias(col))
    if "entity_id" in frame.columns and "entity_type" in frame.columns:
        exprs.append(
            pl.when(pl.col("entity_type").is_in(PERSONAL_ENTITY_TYPES))
            .then(mask_id(pl.col("entity_id")))
            .otherwise(pl.col("entity_id"))
            .alias("entity_id")
        )
    return frame.with_columns(exprs) if exprs else frame


def formula_safe(expr: pl.Expr) -> pl.Expr:
    """Prefix a text cell that Excel would run as a formula with an apostrophe.

    ``=HYPERLINK("http://x")`` -> ``'=HYPERLINK("http://x")``. Numbers are not text and are
    not touched; apply to String columns only.
    """
    starts = pl.lit(False)
    for p in FORMULA_PREFIXES:
        starts = starts | expr.str.starts_with(p)
    return pl.when(starts).then(pl.lit("'") + expr).otherwise(expr)


def formula_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`formula_safe` on every String column; list-of-string columns are joined by ``;`` first."""
    exprs = []
    for col, dtype in frame.schema.items():
        if dtype == pl.String:
            exprs.append(formula_safe(pl.col(col)).alias(col))
        elif dtype == pl.List(pl.String):
            exprs.append(formula_safe(pl.col(col).list.join(";")).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def formula_safe_str(value: object) -> object:
    """Scalar :func:`formula_safe` for cell writers that go value by value (openpyxl)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
