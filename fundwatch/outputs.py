"""Writing leads and findings to the run's output directory.

* ``leads.parquet`` — whole identifiers (investigators and programs join on them), fixed row
  order and fixed writer settings, so the same leads give byte-identical files;
* ``leads.csv`` — UTF-8 with BOM (Excel opens Chinese text correctly), list columns joined
  with ``;`` (``record_amounts``, for programs, only in the parquet), personal identifiers masked unless ``unmask``, every text cell formula-safe, and
  all-digit identifiers and codes led by a tab so spreadsheets keep them as text;
* ``findings.parquet`` — the detectors' raw findings, whole identifiers.

Files are written to a temporary name and renamed into place, so a crash never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from .contract import LEADS_SCHEMA, conform_findings
from .idnumber import mask_id
from .privacy import PERSONAL_ENTITY_TYPES, formula_safe_frame, mask_frame

#: Parquet writer settings fixed for byte-identical reruns.
PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, statistics=True, row_group_size=100_000)


def _replace_atomically(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_parquet_deterministic(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as parquet with :data:`PARQUET_OPTIONS` (same frame -> same bytes)."""
    return _replace_atomically(Path(path), lambda p: frame.write_parquet(p, **PARQUET_OPTIONS))


def _conform_leads(leads: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in LEADS_SCHEMA if c not in leads.columns]
    if missing:
        raise ValueError(f"leads lack column(s) {', '.join(missing)}")
    return leads.select([pl.col(c).cast(t) for c, t in LEADS_SCHEMA.items()]).sort("rank")


def mask_leads(leads: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """Leads as people should read them: personal ``entity_id`` masked, also where it appears
    inside ``title``/``explanation`` (account numbers are not identity-number shaped, so the
    generic in-text masking would miss them), then :func:`fundwatch.privacy.mask_frame`."""
    if unmask:
        return leads
    personal = pl.col("entity_type").is_in(PERSONAL_ENTITY_TYPES) & pl.col("entity_id").is_not_null() & (
        pl.col("entity_id").str.len_chars() > 0
    )
    masked_id = mask_id(pl.col("entity_id"))
    text_cols = [c for c in ("title", "explanation") if c in leads.columns]
    leads = leads.with_columns(
        [
            pl.when(personal)
            .then(pl.col(c).str.split(pl.col("entity_id")).list.join(masked_id))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text_cols
        ]
    )
    return mask_frame(leads)


#: Leads columns left out of leads.csv: per-record money, parallel to record_ids, for programs.
CSV_OMITTED = ("record_amounts",)
#: Columns of leads.csv holding identifiers and codes: text, never numbers.
CSV_TEXT_COLUMNS = ("lead_id", "entity_id", "region_code", "record_ids")
#: A cell a spreadsheet would turn into a number (and so lose leading zeros or, past 15
#: digits, the last digits of an identity number, or show a region code as 5.10304E+11).
_NUMBER_LIKE = r"^[0-9]+$"


def as_spreadsheet_text(expr: pl.Expr) -> pl.Expr:
    """``510302001001`` -> ``<TAB>510302001001``: a leading tab makes Excel and WPS read the
    cell as text (the usual trick of Chinese government and bank CSV exports), so a region
    code is not shown as ``5.10304E+11`` and an 18-digit identity number keeps its last
    digits. Only all-digit values get it: a tab before digits can start no formula, whereas
    ``="…"`` would itself be one. Programs read ``leads.parquet`` (or strip the tab)."""
    return pl.when(expr.str.contains(_NUMBER_LIKE)).then(pl.lit("\t") + expr).otherwise(expr)


def leads_csv_frame(leads: pl.DataFrame, unmask: bool = False) -> pl.DataFrame:
    """The frame written to ``leads.csv``: masked (unless ``unmask``), lists joined by ``;``,
    formula-safe, and identifiers and codes kept as text for spreadsheets
    (:func:`as_spreadsheet_text`)."""
    # record_amounts is for programs (totals counting a record once): parquet keeps it
    frame = formula_safe_frame(mask_leads(_conform_leads(leads).drop(CSV_OMITTED), unmask=unmask))
    return frame.with_columns(as_spreadsheet_text(pl.col(c)).alias(c) for c in CSV_TEXT_COLUMNS if c in frame.columns)


def write_leads(out_dir: str | Path, leads: pl.DataFrame, unmask: bool = False) -> dict[str, Path]:
    """Write ``leads.parquet`` (whole ids) and ``leads.csv`` (masked unless ``unmask``).

    Parameters
    ----------
    out_dir : the run's output directory (created if missing).
    leads : :data:`fundwatch.contract.LEADS_SCHEMA` rows (as :func:`fundwatch.leads.build_leads`
        returns them); written in rank order.
    unmask : show personal identifiers whole in the CSV (the run's ``--unmask``).

    Returns
    -------
    dict
        ``{"leads_parquet": Path, "leads_csv": Path}``.
    """
    out = Path(out_dir)
    frame = _conform_leads(leads)
    pq = write_parquet_deterministic(frame, out / "leads.parquet")
    csv_frame = leads_csv_frame(frame, unmask=unmask)
    csv = _replace_atomically(
        out / "leads.csv",
        lambda p: csv_frame.write_csv(p, include_bom=True, float_precision=None),
    )
    return {"leads_parquet": pq, "leads_csv": csv}


def write_findings(out_dir: str | Path, findings: pl.DataFrame) -> Path:
    """Write ``findings.parquet`` (whole ids), rows in a fixed order so reruns give the same bytes."""
    frame = conform_findings(findings)
    frame = frame.sort(frame.columns, maintain_order=True)  # total order: ties cannot swap
    return write_parquet_deterministic(frame, Path(out_dir) / "findings.parquet")
