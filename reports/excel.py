"""The Excel workbook ``OUT_DIR/leads.xlsx`` and reading reviewers' dispositions back.

Sheets: Summary, Leads (frozen header, auto-filter, money formats, a disposition dropdown
and a note column), Evidence, Quarantine, Validation. Headers are Chinese by default and
English with ``lang="en"``. Text cells that a spreadsheet would run as a formula are
neutralised (:func:`fundwatch.privacy.formula_safe_str`) and personal data is masked unless
``unmask``. :func:`read_dispositions` reads either language back.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from fundwatch.errors import InputError
from fundwatch.privacy import FORMULA_PREFIXES, formula_safe_str
from fundwatch.settings import DEFAULT_SETTINGS, Settings
from fundwatch.textfmt import tidy_en, tidy_zh

from .html import _dataset_counts, _period
from .i18n import (
    DISPOSITIONS,
    column_label,
    dataset_label,
    reason_label,
    VALUES,
    WORKBOOK_EVIDENCE_COLUMNS,
    WORKBOOK_LEADS_COLUMNS,
    WORKBOOK_QUARANTINE_COLUMNS,
    WORKBOOK_VALIDATION_COLUMNS,
    check_lang,
    t,
    value_label,
)
from .prepare import (
    evidence_frame,
    examples_as_text,
    known_names,
    leads_frame,
    localise_leads,
    mask_all,
    mask_quarantine,
    match_findings,
    quarantine_frame,
    status_frame,
    validation_failures,
    validation_frame,
)

WORKBOOK_NAME = "leads.xlsx"
#: Sheet key -> name per language (Chinese by default, English with ``lang="en"``).
SHEET_NAMES = {
    "summary": {"zh": "概要", "en": "Summary"},
    "leads": {"zh": "线索", "en": "Leads"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "quarantine": {"zh": "隔离数据", "en": "Quarantine"},
    "validation": {"zh": "数据校验", "en": "Validation"},
}
#: Columns holding identifiers and codes: stored as text with the text format "@", so that
#: an edit in Excel cannot turn them into numbers.
TEXT_COLUMNS = {"lead_id", "entity_id", "region_code", "record_ids", "record_id", "person_id", "source_file", "raw_value"}

#: Characters XML (and so .xlsx) cannot hold; removed before writing.
_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
_INPUT_FILL = PatternFill("solid", fgColor="FFF7D6")


# --------------------------------------------------------------------------- writing
def _safe_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Illegal XML characters removed, then formula prefixes neutralised, on every text column.

    Removal comes first: ``"\\x01=cmd"`` must not become a live ``"=cmd"``.
    """
    exprs = []
    for col, dtype in frame.schema.items():
        if dtype == pl.List(pl.String):
            expr = pl.col(col).list.join(";")
        elif dtype == pl.String:
            expr = pl.col(col)
        else:
            continue
        expr = expr.str.replace_all(_ILLEGAL, "")
        starts = pl.lit(False)
        for p in FORMULA_PREFIXES:
            starts = starts | expr.str.starts_with(p)
        exprs.append(pl.when(starts).then(pl.lit("'") + expr).otherwise(expr).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def _widths(frame: pl.DataFrame, headers: list[str], cap: int) -> list[float]:
    """Display width per column: CJK characters count double (UTF-8 bytes + chars) / 2."""
    out = []
    for col, head in zip(frame.columns, headers):
        s = frame.get_column(col).cast(pl.String, strict=False).head(2000)
        data = s.str.len_bytes().cast(pl.Int64) + s.str.len_chars().cast(pl.Int64)
        data_w = (data.max() or 0) / 2
        head_w = (len(head.encode("utf-8")) + len(head)) / 2
        out.append(float(min(cap, max(8, data_w, head_w) + 2)))
    return out


class _Sheet:
    """A write-only sheet with a styled, frozen, filtered header row."""

    def __init__(self, wb: Workbook, name: str, headers: list[str], widths: list[float], *, filter_rows: int):
        self.ws = wb.create_sheet(name)
        self.ws.freeze_panes = "A2"
        # printed as reviewers hand it round: landscape, all columns on one page width, the
        # header row repeated on every page
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = "9"  # A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_title_rows = "1:1"
        for i, w in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        if headers:
            self.ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(2, filter_rows + 1)}"
        row = []
        for h in headers:
            c = WriteOnlyCell(self.ws, value=h)
            c.font, c.fill = _HEADER_FONT, _HEADER_FILL
            row.append(c)
        self.ws.append(row)

    def cell(self, value: object, fmt: str | None = None, wrap: bool = False, fill: PatternFill | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(self.ws, value=value)
        if fmt:
            c.number_format = fmt
        if wrap:
            c.alignment = Alignment(wrap_text=True, vertical="top")
        if fill is not None:
            c.fill = fill
        return c


def _write_frame(
    wb: Workbook,
    name: str,
    frame: pl.DataFrame,
    headers: list[str],
    *,
    formats: Mapping[str, str],
    settings: Settings,
    lang: str,
) -> None:
    """One plain sheet from a frame (already masked and text-safe)."""
    limit = settings.report.excel_max_rows
    dropped = max(0, frame.height - limit)
    frame = frame.head(limit)
    sheet = _Sheet(wb, name, headers, _widths(frame, headers, settings.report.excel_max_col_width), filter_rows=frame.height)
    formats = {**{c: "@" for c in frame.columns if c in TEXT_COLUMNS}, **formats}
    fmt_idx = {i: formats[c] for i, c in enumerate(frame.columns) if c in formats}
    for row in frame.iter_rows():
        sheet.ws.append([sheet.cell(v, fmt_idx[i]) if i in fmt_idx and v is not None else v for i, v in enumerate(row)])
    if dropped:
        sheet.ws.append([t("wb_truncated", lang, n=dropped)])


def _summary(wb: Workbook, run_info: Mapping, leads: pl.DataFrame, validation: pl.DataFrame, quarantine: pl.DataFrame, lang: str, unmask: bool, settings: Settings) -> None:
    money_fmt = settings.report.excel_money_format
    failures = validation_failures(run_info, validation)
    facts: list[tuple[str, object]] = [
        (t("report_title", lang), ""),
        (t("run_id", lang), str(run_info.get("run_id") or "")),
        (t("fingerprint", lang), str(run_info.get("fingerprint") or run_info.get("input_fingerprint") or "")),
        (t("period_range", lang), _period(run_info, leads, lang)),
        (t("n_leads", lang), leads.height),
        (t("high_leads", lang), int(leads.filter(pl.col("severity") == "high").height)),
        (t("money_total_wb", lang), float(leads["amount_at_risk"].fill_null(0).sum()) if leads.height else 0.0),
        (t("validation_failures", lang), int(failures)),
        (t("rows_quarantined", lang), quarantine.height),
        (t("wb_masking", lang), t("wb_unmasked" if unmask else "wb_masked", lang)),
        ("", t("wb_how", lang)),
    ]
    sheet = _Sheet(wb, SHEET_NAMES["summary"][lang], [t("wb_item", lang), t("wb_value", lang)], [28, 70], filter_rows=0)
    sheet.ws.auto_filter.ref = None
    for k, v in facts:
        fmt = money_fmt if k == t("money_total_wb", lang) else None
        sheet.ws.append([formula_safe_str(k), sheet.cell(formula_safe_str(v), fmt, wrap=isinstance(v, str) and len(v) > 40)])
    counts = _dataset_counts(run_info)
    if counts:
        sheet.ws.append([])
        sheet.ws.append([sheet.cell(h) for h in (t("dataset", lang), t("rows_read", lang), t("rows_accepted", lang), t("rows_quarantined", lang))])
        for n, r, a, q in counts:
            sheet.ws.append([formula_safe_str(dataset_label(n, lang)), r, a, q])
    by = (
        leads.group_by(["domain", "severity"])
        .agg(pl.len().alias("n"), pl.col("amount_at_risk").fill_null(0).sum().alias("m"))
        .sort(["domain", "severity"])
    )
    if by.height:
        sheet.ws.append([])
        sheet.ws.append([t("col_domain", lang), t("col_severity", lang), t("n_leads", lang), t("money_total_wb", lang)])
        for d, s, n, m in by.iter_rows():
            sheet.ws.append([value_label("domain", d, lang), value_label("severity", s, lang), n, sheet.cell(m, money_fmt)])


def _leads_sheet(wb: Workbook, leads: pl.DataFrame, status: pl.DataFrame, lang: str, settings: Settings) -> None:
    rs = settings.report
    disp_labels = [VALUES["status"][d][lang] for d in DISPOSITIONS]
    frame = (
        leads.join(status, on="lead_id", how="left")
        .sort("rank", nulls_last=True)
        .with_columns(
            pl.col("severity").replace(VALUES_LABELS("severity", lang)),
            pl.col("domain").replace(VALUES_LABELS("domain", lang)),
            pl.col("entity_type").replace(VALUES_LABELS("entity_type", lang)),
            pl.col("status").fill_null("new").replace(VALUES_LABELS("status", lang)).alias("current_status"),
            pl.when(pl.col("status").is_in(list(DISPOSITIONS)))
            .then(pl.col("status").replace(VALUES_LABELS("status", lang)))
            .alias("disposition"),
        )
        .select(list(WORKBOOK_LEADS_COLUMNS))
    )
    frame = _safe_text(frame)
    limit = rs.excel_max_rows
    dropped = max(0, frame.height - limit)
    frame = frame.head(limit)
    headers = [v[lang] for v in WORKBOOK_LEADS_COLUMNS.values()]
    widths = _widths(frame, headers, rs.excel_max_col_width)
    cols = list(WORKBOOK_LEADS_COLUMNS)
    for c in ("disposition", "note"):
        widths[cols.index(c)] = max(widths[cols.index(c)], 16 if c == "disposition" else 30)
    sheet = _Sheet(wb, SHEET_NAMES["leads"][lang], headers, widths, filter_rows=frame.height)
    i_disp, i_note = cols.index("disposition"), cols.index("note")
    letter = get_column_letter(i_disp + 1)
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(disp_labels) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=t("f_status", lang),
        error=" / ".join(disp_labels),
        promptTitle=t("f_status", lang),
        prompt=" / ".join(disp_labels),
        showInputMessage=True,
    )
    dv.add(f"{letter}2:{letter}{max(2, frame.height + 1)}")
    sheet.ws.data_validations.append(dv)
    fmts = {
        cols.index("amount_at_risk"): rs.excel_money_format,
        cols.index("score"): rs.excel_score_format,
        **{cols.index(c): "@" for c in cols if c in TEXT_COLUMNS},
    }
    wrap = {cols.index("title"), cols.index("explanation")}
    for row in frame.iter_rows():
        out = []
        for i, v in enumerate(row):
            if i in fmts and v is not None:
                out.append(sheet.cell(v, fmts[i]))
            elif i in (i_disp, i_note):
                out.append(sheet.cell(v, fill=_INPUT_FILL))
            elif i in wrap:
                out.append(sheet.cell(v, wrap=True))
            else:
                out.append(v)
        sheet.ws.append(out)
    if dropped:
        sheet.ws.append([t("wb_truncated", lang, n=dropped)])


def _readable_quarantine(q: pl.DataFrame, lang: str, checks_zh: dict[str, str]) -> pl.DataFrame:
    """Dataset, column and reason in the reader's language (distinct values only are looked up)."""
    if lang != "zh" or q.is_empty():
        return q
    ds = {d: dataset_label(d, lang) for d in q["dataset"].drop_nulls().unique().to_list()}
    pairs = q.select("dataset", "column").unique().drop_nulls()
    cols = pairs.with_columns(
        pl.Series("_col", [column_label(d, c, lang) for d, c in pairs.iter_rows()], dtype=pl.String)
    )
    reasons = {r: reason_label(r, lang, checks_zh) for r in q["reason"].drop_nulls().unique().to_list()}
    return (
        q.join(cols, on=["dataset", "column"], how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_col", "column").alias("column"),
            pl.col("dataset").replace(ds),
            pl.col("reason").replace(reasons),
        )
        .drop("_col")
    )


def _readable_validation(v: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The validation sheet in ``lang``: dataset names, the check's description, severity and
    pass/fail as words."""
    if v.is_empty():
        return v
    out = v.with_columns(
        pl.col("dataset").replace({d: dataset_label(d, lang) for d in v["dataset"].drop_nulls().unique().to_list()}),
        pl.col("severity").replace(VALUES_LABELS("vseverity", lang)),
        pl.col("success").replace_strict({True: t("v_pass", lang), False: t("v_fail", lang)}, default=None, return_dtype=pl.String),
    )
    text = "description_zh" if lang == "zh" and "description_zh" in v.columns else "description"
    if text in v.columns:
        out = out.with_columns(pl.coalesce(pl.col(text), pl.col("expectation")).alias("expectation"))
    return out


def VALUES_LABELS(kind: str, lang: str) -> dict[str, str]:  # noqa: N802 - reads like the table it returns
    return {code: labels[lang] for code, labels in VALUES[kind].items()}


def write_workbook(
    out_dir: str | os.PathLike,
    *,
    leads: pl.DataFrame,
    status: pl.DataFrame | None,
    evidence: pl.DataFrame | None,
    quarantine: pl.DataFrame | None,
    validation_summary: pl.DataFrame | None,
    run_info: Mapping | None,
    lang: str = "zh",
    unmask: bool = False,
    findings: pl.DataFrame | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write ``OUT_DIR/leads.xlsx`` and return its path.

    Parameters
    ----------
    out_dir : the run's output directory (created if missing).
    leads : :data:`fundwatch.contract.LEADS_SCHEMA`, whole ids.
    status : ``lead_id, status, note, is_new`` from the lead store, or None. Existing
        ``confirmed``/``dismissed``/``in_review`` dispositions and notes are pre-filled.
    evidence : the evidence table (``fundwatch.leads.evidence_table``), or None.
    quarantine : :data:`fundwatch.contract.QUARANTINE_SCHEMA`, or None.
    validation_summary : the validation summary frame, or None.
    run_info : as for :func:`reports.write_report`.
    lang : ``"zh"`` (Chinese headers, default) or ``"en"``.
    unmask : write identity numbers and names whole (default: masked).
    findings : optional findings; with ``lang="en"`` they give English explanations.
    settings : :class:`fundwatch.settings.Settings`; ``settings.report`` is used.
    """
    lang = check_lang(lang)
    settings = settings or DEFAULT_SETTINGS
    rs = settings.report
    run_info = dict(run_info or {})
    L = leads_frame(leads)
    S = status_frame(status)
    E = evidence_frame(evidence)
    names, masked = known_names(E, L)
    L = localise_leads(L, match_findings(L, findings), lang)
    L = mask_all(L, names, masked, unmask)
    S = mask_all(S, names, masked, unmask)
    E = mask_all(E, names, masked, unmask)
    tidy = tidy_zh if lang == "zh" else tidy_en  # the same sentences as the HTML report
    L = L.with_columns(tidy(pl.col("title")), tidy(pl.col("explanation")))
    E = E.with_columns(tidy(pl.col("description")))
    Q = mask_quarantine(quarantine_frame(quarantine), unmask)
    V = validation_frame(validation_summary)

    wb = Workbook(write_only=True)
    _summary(wb, run_info, L, V, Q, lang, unmask, settings)
    _leads_sheet(wb, L, S, lang, settings)

    ev = _safe_text(E.with_columns(pl.col("record_type").replace(VALUES_LABELS("record_type", lang))))
    _write_frame(
        wb, SHEET_NAMES["evidence"][lang], ev, [v[lang] for v in WORKBOOK_EVIDENCE_COLUMNS.values()],
        formats={"amount": rs.excel_money_format, "date": "yyyy-mm-dd"}, settings=settings, lang=lang,
    )
    checks_zh = (
        dict(V.select("expectation", "description_zh").drop_nulls().iter_rows()) if "description_zh" in V.columns else {}
    )
    Q = _readable_quarantine(Q, lang, checks_zh)
    _write_frame(
        wb, SHEET_NAMES["quarantine"][lang], _safe_text(Q), [v[lang] for v in WORKBOOK_QUARANTINE_COLUMNS.values()],
        formats={}, settings=settings, lang=lang,
    )
    V = _readable_validation(V, lang)
    vcols = [c for c in WORKBOOK_VALIDATION_COLUMNS if c in V.columns]
    V = V.select(vcols)
    V = examples_as_text(V)
    V = _safe_text(mask_all(V, names, masked, unmask))
    _write_frame(
        wb, SHEET_NAMES["validation"][lang], V, [WORKBOOK_VALIDATION_COLUMNS[c][lang] for c in vcols],
        formats={"unexpected_percent": "0.00"}, settings=settings, lang=lang,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / WORKBOOK_NAME
    tmp = out / (WORKBOOK_NAME + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- reading
_LEAD_HEADERS = {WORKBOOK_LEADS_COLUMNS["lead_id"][k] for k in ("zh", "en")}
_DISP_HEADERS = {WORKBOOK_LEADS_COLUMNS["disposition"][k] for k in ("zh", "en")}
_NOTE_HEADERS = {WORKBOOK_LEADS_COLUMNS["note"][k] for k in ("zh", "en")}
#: The dropdown's values, exactly: the Chinese labels and the English codes (what the
#: workbook offers in either language). Nothing else is guessed (``确认`` is not ``已确认``).
_STATUS_IN = {
    **{VALUES["status"][d]["zh"]: d for d in DISPOSITIONS},
    **{VALUES["status"][d]["en"]: d for d in DISPOSITIONS},
    **{d: d for d in DISPOSITIONS},
}
#: Bad rows named in the one-line error at most (then "and N more").
_BAD_ROWS_SHOWN = 20


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    text = str(value).strip()
    # Undo our own neutralisation: "'=x" was written for "=x".
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text or None


def read_dispositions(xlsx_path: str | os.PathLike) -> pl.DataFrame:
    """Reviewers' dispositions from a workbook written by :func:`write_workbook`.

    Reads the sheet with the lead-id and disposition columns (``线索编号``/``lead_id``,
    ``处置状态``/``disposition``, ``备注``/``note``; either language; other columns ignored).

    Returns
    -------
    ``lead_id, status, note`` (all String): one row per lead with a disposition or a note;
    ``status`` is ``confirmed``/``dismissed``/``in_review``, null where only a note was
    written. A lead listed twice keeps its last row. Only the dropdown's values are taken,
    exactly (已确认/已排除/核查中 or confirmed/dismissed/in_review); every other value is listed
    in one error, row by row, and nothing is read.

    Raises
    ------
    fundwatch.errors.InputError
        The file is missing, not an .xlsx workbook, has no such columns, or holds a
        disposition that is not one of the allowed values.
    """
    path = Path(xlsx_path)
    if not path.is_file():
        raise InputError(f"{path}: no such dispositions workbook; give the path of the leads.xlsx you edited", path=str(path))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: not an Excel .xlsx workbook ({type(exc).__name__}); give the leads.xlsx written by fundwatch",
            path=str(path),
        ) from None
    try:
        lead_sheets = {v for v in SHEET_NAMES["leads"].values()}
        sheets = sorted(wb.worksheets, key=lambda s: s.title not in lead_sheets)
        for ws in sheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            names = [(_cell_text(h) or "") for h in header]
            i_lead = next((i for i, h in enumerate(names) if h in _LEAD_HEADERS), None)
            i_disp = next((i for i, h in enumerate(names) if h in _DISP_HEADERS), None)
            if i_lead is None or i_disp is None:
                continue
            i_note = next((i for i, h in enumerate(names) if h in _NOTE_HEADERS), None)
            out: dict[str, tuple[str | None, str | None]] = {}
            bad: list[str] = []  # every bad row, reported at once
            for n, row in enumerate(rows, start=2):
                def get(i: int | None) -> str | None:
                    return _cell_text(row[i]) if i is not None and i < len(row) else None

                lead, disp, note = get(i_lead), get(i_disp), get(i_note)
                if not lead or (disp is None and note is None):
                    continue
                status = None
                if disp is not None:
                    status = _STATUS_IN.get(disp)
                    if status is None:
                        bad.append(f"row {n} {disp!r}")
                        continue
                out.pop(lead, None)
                out[lead] = (status, note)
            if bad:
                allowed = "/".join(VALUES["status"][d]["zh"] for d in DISPOSITIONS)
                shown = ", ".join(bad[:_BAD_ROWS_SHOWN]) + (f" and {len(bad) - _BAD_ROWS_SHOWN} more" if len(bad) > _BAD_ROWS_SHOWN else "")
                raise InputError(
                    f"{path}: sheet {ws.title}: {len(bad)} disposition(s) not one of {allowed} "
                    f"({'/'.join(DISPOSITIONS)}): {shown}; pick the values from the dropdown (nothing was imported)",
                    path=str(path),
                )
            return pl.DataFrame(
                {
                    "lead_id": list(out),
                    "status": [v[0] for v in out.values()],
                    "note": [v[1] for v in out.values()],
                },
                schema={"lead_id": pl.String(), "status": pl.String(), "note": pl.String()},
            )
    finally:
        wb.close()
    raise InputError(
        f"{path}: no sheet has the columns 线索编号/lead_id and 处置状态/disposition; "
        "give the leads.xlsx written by fundwatch",
        path=str(path),
    )
