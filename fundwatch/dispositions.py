"""Reviewers' decisions (处置) and what they do to the next run's leads.

* ``confirmed`` (已确认) leads stay in the list, marked confirmed;
* ``in_review`` (核查中) leads stay, marked in review;
* ``dismissed`` (已排除) leads are NOT raised again — unless their evidence grew since the
  decision (more records, or more money than ``amount_at_decision`` beyond
  ``settings.store.regrowth_tolerance_cny``): then they come back as ``open`` with a note
  saying so, so that nobody re-dismisses them unseen;
* a lead without a decision is ``new`` when the previous run did not have it, else ``open``.

Decisions are recorded with :func:`review` (one lead, the CLI's ``fundwatch review``) or
:func:`import_workbook` (the 处置状态 column of the Excel workbook, filled in by reviewers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from .contract import LEADS_SCHEMA
from .errors import InputError
from .leads import fmt_money
from .privacy import FORMULA_PREFIXES
from .settings import DEFAULT_SETTINGS, Settings
from .store import DISPOSITIONS_SCHEMA, LeadStore

#: The status frame returned beside the leads. ``suppressed`` rows are dismissed leads that
#: were dropped from the leads (they are listed so the run can report how many).
STATUS_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "status": pl.String(),  # new | open | confirmed | dismissed | in_review
        "note": pl.String(),
        "is_new": pl.Boolean(),
        "suppressed": pl.Boolean(),
    }
)

#: Accepted headers of the workbook's columns (first match wins).
LEAD_ID_HEADERS = ("线索编号", "lead_id")
STATUS_HEADERS = ("处置状态", "disposition")
NOTE_HEADERS = ("备注", "note")
#: The workbook dropdown's values, exactly (Chinese labels or English codes): an import takes
#: nothing else (``确认`` or ``Confirmed`` are typing slips to fix, not guesses to make).
WORKBOOK_STATUSES = {
    "已确认": "confirmed", "已排除": "dismissed", "核查中": "in_review",
    "confirmed": "confirmed", "dismissed": "dismissed", "in_review": "in_review",
}
#: Sheets searched for the lead list, in order (then every other sheet).
SHEET_NAMES = ("Leads", "线索", "线索清单")


def apply_dispositions(
    leads: pl.DataFrame,
    previous_leads: pl.DataFrame | None = None,
    dispositions: pl.DataFrame | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    lang: str = "zh",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply recorded decisions to this run's leads.

    Parameters
    ----------
    leads : this run's leads (LEADS_SCHEMA, ranked).
    previous_leads : the previous run's leads (``LeadStore.previous_leads()``), or None.
    dispositions : ``LeadStore.dispositions()`` (:data:`fundwatch.store.DISPOSITIONS_SCHEMA`), or None.

    Returns
    -------
    (leads, status)
        ``leads`` without the suppressed dismissed leads, re-ranked 1..n in the same order;
        ``status`` (:data:`STATUS_SCHEMA`) one row per input lead, in the input's rank order.
        ``suppressed_count(status)`` is the number of dismissed leads not raised again.
    """
    tol = settings.store.regrowth_tolerance_cny
    prev_ids = (
        previous_leads.select("lead_id").unique()
        if previous_leads is not None and previous_leads.height
        else pl.DataFrame(schema={"lead_id": pl.String()})
    )
    disp = dispositions if dispositions is not None else pl.DataFrame(schema=DISPOSITIONS_SCHEMA)
    disp = disp.select([pl.col(c).cast(t) for c, t in DISPOSITIONS_SCHEMA.items()]).unique("lead_id", keep="last")
    d = disp.rename({c: f"d_{c}" for c in disp.columns if c != "lead_id"})

    j = (
        leads.join(d, on="lead_id", how="left")
        .join(prev_ids.with_columns(pl.lit(True).alias("_seen")), on="lead_id", how="left")
        .with_columns((~pl.col("_seen").fill_null(False)).alias("is_new"))
    )
    n_now = pl.col("record_ids").list.len()
    grew = (n_now > pl.col("d_n_records_at_decision").fill_null(0)) | (
        pl.col("amount_at_risk") > pl.col("d_amount_at_decision").fill_null(0.0) + tol
    )
    dismissed = pl.col("d_status") == "dismissed"
    day = pl.col("d_decided_at").str.slice(0, 10).fill_null("")
    if lang == "zh":
        regrown_note = (
            pl.lit("曾于 ") + day + pl.lit(" 排除")
            + pl.when(pl.col("d_note").is_not_null()).then(pl.lit("(") + pl.col("d_note") + pl.lit(")")).otherwise(pl.lit(""))
            + pl.lit(",证据增加后重新提出:记录 ") + pl.col("d_n_records_at_decision").cast(pl.String).fill_null("?")
            + pl.lit("→") + n_now.cast(pl.String) + pl.lit(" 笔,金额 ")
            + fmt_money(pl.col("d_amount_at_decision").fill_null(0.0)) + pl.lit("→") + fmt_money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
    else:
        regrown_note = (
            pl.lit("dismissed on ") + day
            + pl.when(pl.col("d_note").is_not_null()).then(pl.lit(" (") + pl.col("d_note") + pl.lit(")")).otherwise(pl.lit(""))
            + pl.lit("; raised again because the evidence grew: records ") + pl.col("d_n_records_at_decision").cast(pl.String).fill_null("?")
            + pl.lit(" -> ") + n_now.cast(pl.String) + pl.lit(", CNY ")
            + fmt_money(pl.col("d_amount_at_decision").fill_null(0.0)) + pl.lit(" -> ") + fmt_money(pl.col("amount_at_risk"))
        )
    status = j.select(
        "lead_id",
        pl.when(dismissed & grew)
        .then(pl.lit("open"))
        .when(pl.col("d_status").is_in(["confirmed", "dismissed", "in_review"]))
        .then(pl.col("d_status"))
        .when(pl.col("is_new"))
        .then(pl.lit("new"))
        .otherwise(pl.lit("open"))
        .alias("status"),
        pl.when(dismissed & grew).then(regrown_note).otherwise(pl.col("d_note")).alias("note"),
        "is_new",
        (dismissed & ~grew).fill_null(False).alias("suppressed"),
        "rank",
    ).sort("rank").drop("rank")
    status = status.select([pl.col(c).cast(t) for c, t in STATUS_SCHEMA.items()])
    keep = status.filter(~pl.col("suppressed")).select("lead_id")
    kept = (
        leads.join(keep, on="lead_id", how="semi")
        .sort("rank")
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
        .select([pl.col(c).cast(t) for c, t in LEADS_SCHEMA.items()])
    )
    return kept, status


#: The name the architecture's pipeline table uses.
apply = apply_dispositions


def suppressed_count(status: pl.DataFrame) -> int:
    """How many dismissed leads :func:`apply_dispositions` did not raise again."""
    return int(status.select(pl.col("suppressed").sum()).item() or 0)


def review(
    store_url: str | Path, lead_id: str, status: str, note: str | None = None, settings: Settings = DEFAULT_SETTINGS
) -> dict[str, Any]:
    """Record one decision in the store at ``store_url`` and return it.

    ``status``: confirmed/dismissed/in_review or 已确认/已排除/核查中 (``open`` clears the
    decision). Unknown lead id or status -> InputError.
    """
    with LeadStore(store_url, settings) as store:
        stored = store.set_disposition(lead_id, status, note)
    return stored or {"lead_id": lead_id, "status": "open"}


def _unformula(value: Any) -> Any:
    # undo privacy.formula_safe: "'=x" was written for "=x"
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _find_columns(ws, path: Path) -> tuple[int, dict[str, int]] | None:
    for r_idx, row in enumerate(ws.iter_rows(min_row=1, max_row=20, values_only=True), start=1):
        headers = {str(v).strip(): i for i, v in enumerate(row) if v is not None and str(v).strip()}
        lower = {k.lower(): i for k, i in headers.items()}

        def pick(names):
            for n in names:
                if n in headers:
                    return headers[n]
                if n.lower() in lower:
                    return lower[n.lower()]
            return None

        lid = pick(LEAD_ID_HEADERS)
        if lid is None:
            continue
        st = pick(STATUS_HEADERS)
        if st is None:
            raise InputError(
                f"{path}: the lead sheet has no disposition column: add a column headed 处置状态 (or disposition)",
                path=str(path),
            )
        cols = {"lead_id": lid, "status": st}
        note = pick(NOTE_HEADERS)
        if note is not None:
            cols["note"] = note
        return r_idx, cols
    return None


def read_workbook_decisions(xlsx_path: str | Path) -> list[dict[str, Any]]:
    """The decisions filled in on the workbook's Leads sheet (rows with an empty status skipped).

    Raises InputError when the file cannot be read as .xlsx, no sheet has a lead id column
    (线索编号 / lead_id), or a status is not one of 已确认/已排除/核查中 (confirmed/dismissed/in_review).
    """
    import openpyxl

    path = Path(xlsx_path)
    if not path.is_file():
        raise InputError(f"{path}: workbook not found: give the path of the leads.xlsx you filled in", path=str(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(e).__name__}): save it from Excel/WPS as .xlsx", path=str(path)) from e
    try:
        names = [n for n in SHEET_NAMES if n in wb.sheetnames] + [n for n in wb.sheetnames if n not in SHEET_NAMES]
        for name in names:
            ws = wb[name]
            found = _find_columns(ws, path)
            if found is None:
                continue
            header_row, cols = found
            decisions = []
            bad: list[str] = []  # every bad row, reported at once
            for r_idx, row in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
                cell = lambda k: (row[cols[k]] if k in cols and cols[k] < len(row) else None)  # noqa: E731
                lead_id, status = cell("lead_id"), _unformula(cell("status"))
                if lead_id is None or str(lead_id).strip() == "":
                    continue
                if status is None or str(status).strip() == "":
                    continue
                code = WORKBOOK_STATUSES.get(str(status).strip())
                if code is None:
                    bad.append(f"row {r_idx} {str(status).strip()!r}")
                    continue
                note = _unformula(cell("note"))
                decisions.append(
                    {"lead_id": str(_unformula(lead_id)).strip(), "status": code, "note": None if note is None else str(note).strip() or None}
                )
            if bad:
                shown = ", ".join(bad[:20]) + (f" and {len(bad) - 20} more" if len(bad) > 20 else "")
                raise InputError(
                    f"{path}: sheet {name}: {len(bad)} disposition(s) not one of 已确认/已排除/核查中 "
                    f"(confirmed/dismissed/in_review): {shown}; pick the values from the dropdown (nothing was imported)",
                    path=str(path),
                )
            return decisions
        raise InputError(
            f"{path}: no sheet has a lead id column (线索编号 or lead_id): use the Leads sheet of the workbook fundwatch wrote",
            path=str(path),
        )
    finally:
        wb.close()


def import_workbook(store_url: str | Path, xlsx_path: str | Path, settings: Settings = DEFAULT_SETTINGS) -> dict[str, int]:
    """Record every decision filled in on the workbook's Leads sheet, in one transaction.

    Returns ``{"decisions": n, "confirmed": …, "dismissed": …, "in_review": …, "cleared": …}``.
    A bad file, an unknown status or an unknown lead id -> InputError and nothing is recorded.
    """
    decisions = read_workbook_decisions(xlsx_path)
    with LeadStore(store_url, settings) as store:
        if decisions:
            store.set_dispositions(decisions)
    counts = {"decisions": len(decisions), "confirmed": 0, "dismissed": 0, "in_review": 0, "cleared": 0}
    for d in decisions:
        counts["cleared" if d["status"] == "open" else d["status"]] += 1
    return counts
