"""Supervisors' decisions (处置): the workflow of a lead, and what decisions do to the next run.

Workflow (a lead's *case*, kept in the store across runs; every step a new history row)::

    new -> assigned -> in_review -> confirmed -> handed_over (移交) -> closed (办结)
                              \-> dismissed  (-> reopened by a leader, or by a later run
                                              whose evidence grew)

:data:`ACTIONS` says which step each button of the workspace takes, from which statuses, for
which roles, and what it needs (a note always; an amount for 核实 and 办结). ``fundwatch review``
and the workbook import record ``confirmed``/``dismissed``/``in_review`` from any status before
handover, as the user who ran them.

What the next scan shows (:func:`apply_dispositions`): every lead stays in the list under its
case status — dismissed ones too (已排除), so that a reader can see what was ruled out — and a
dismissed lead whose evidence grew since the decision (more records, or more money than
``amount_at_decision`` beyond ``settings.store.regrowth_tolerance_cny``) comes back as
``reopened`` with a note saying so. A lead without a decision is ``new`` when the previous run
did not have it, else ``open``.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .contract import LEADS_SCHEMA
from .errors import InputError
from .leads import fmt_money
from .privacy import FORMULA_PREFIXES
from .settings import DEFAULT_SETTINGS, Settings
from .store import DISPOSITIONS_SCHEMA, LeadStore, WorkflowError, regrowth

#: The status frame returned beside the leads (the report and workbook read it).
STATUS_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "status": pl.String(),  # new | open | assigned | in_review | confirmed | dismissed | handed_over | closed | reopened
        "note": pl.String(),
        "is_new": pl.Boolean(),
        "assignee": pl.String(),
        "confirmed_amount": pl.Float64(),
        "recovered_amount": pl.Float64(),
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


@dataclass(frozen=True)
class Action:
    """One step of the workflow, as a button of the workspace.

    ``from_statuses``: where it may start; ``to_status``: where it leads (None: keep the
    status, e.g. re-assigning); ``roles``: who may take it; ``own_only``: a reviewer only on a
    lead assigned to them (``claim``: only on an unassigned one); ``needs``: ``assignee``,
    ``confirmed_amount`` or ``recovered_amount`` besides the note every step requires.
    """

    name: str
    from_statuses: tuple[str, ...]
    to_status: str | None
    roles: tuple[str, ...]
    needs: tuple[str, ...] = ()
    own_only: bool = True


OPEN_STATUSES = ("new", "reopened")
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("claim", OPEN_STATUSES, "assigned", ("reviewer", "leader")),
        Action("assign", ("new", "reopened", "assigned", "in_review", "confirmed", "dismissed"), None, ("leader",), ("assignee",), False),
        Action("start_review", ("assigned", "reopened"), "in_review", ("reviewer", "leader")),
        Action("confirm", ("assigned", "in_review", "reopened"), "confirmed", ("reviewer", "leader"), ("confirmed_amount",)),
        Action("dismiss", ("assigned", "in_review", "reopened"), "dismissed", ("reviewer", "leader")),
        Action("hand_over", ("confirmed",), "handed_over", ("leader",), (), False),
        Action("close", ("handed_over",), "closed", ("leader",), ("recovered_amount",), False),
        Action("reopen", ("dismissed", "confirmed"), "reopened", ("leader",), (), False),
    )
}


def allowed_actions(case: dict[str, Any], user_name: str, role: str) -> list[str]:
    """The actions ``user_name`` (with ``role``) may take on ``case`` now, in :data:`ACTIONS` order."""
    out = []
    for a in ACTIONS.values():
        if role not in a.roles or case["status"] not in a.from_statuses:
            continue
        if role == "reviewer" and a.own_only:
            if a.name == "claim":
                if case.get("assignee") not in (None, user_name):
                    continue
            elif case.get("assignee") != user_name:
                continue
        if a.name == "claim" and case.get("assignee") == user_name and case["status"] != "reopened":
            continue
        out.append(a.name)
    return out


def take_action(
    store: LeadStore,
    lead_id: str,
    action: str,
    *,
    user_name: str,
    role: str,
    note: str,
    expected_version: int,
    assignee: str | None = None,
    confirmed_amount: float | None = None,
    recovered_amount: float | None = None,
) -> dict[str, Any]:
    """Take one workflow step on a lead (checked again inside the store's transaction).

    Raises :class:`fundwatch.store.WorkflowError` (not allowed now, or a required field
    missing), :class:`fundwatch.store.StaleCaseError` (someone changed the lead meanwhile).
    """
    a = ACTIONS.get(action)
    if a is None:
        raise WorkflowError(f"unknown action {action!r}")
    if not note or not str(note).strip():
        raise WorkflowError("a note is required for every step (处置意见必填)")
    if "assignee" in a.needs and not assignee:
        raise WorkflowError("choose whom to assign the lead to")
    for field, value in (("confirmed_amount", confirmed_amount), ("recovered_amount", recovered_amount)):
        if field in a.needs and (value is None or value < 0):
            raise WorkflowError(f"{field.replace('_', ' ')} must be a number of yuan, 0 or more")

    def check(case: dict[str, Any]) -> None:
        if action not in allowed_actions(case, user_name, role):
            raise WorkflowError(
                f"lead {lead_id}: '{action}' is not possible now (status {case['status']}, assigned to {case['assignee'] or 'nobody'})"
            )

    to_status = a.to_status
    new_assignee: Any = ...
    if action == "claim":
        new_assignee = user_name
    elif action == "assign":
        new_assignee = assignee
    if to_status is None:  # re-assigning: a lead nobody had becomes assigned
        current = store.case(lead_id)
        if current is None:
            raise InputError(f"unknown lead id {lead_id}", zh=f"没有编号为 {lead_id} 的线索")
        to_status = "assigned" if current["status"] in OPEN_STATUSES else current["status"]
    return store.decide(
        lead_id, to_status, actor=user_name, source="web", note=note, expected_version=expected_version,
        assignee=new_assignee, confirmed_amount=confirmed_amount if "confirmed_amount" in a.needs else None,
        recovered_amount=recovered_amount if "recovered_amount" in a.needs else None, check=check,
    )


def apply_dispositions(
    leads: pl.DataFrame,
    previous_leads: pl.DataFrame | None = None,
    dispositions: pl.DataFrame | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    lang: str = "zh",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Earlier decisions applied to this run's leads.

    Parameters
    ----------
    leads : this run's leads (LEADS_SCHEMA, ranked).
    previous_leads : the previous run's leads (``LeadStore.previous_leads()``), or None.
    dispositions : ``LeadStore.dispositions()`` (:data:`fundwatch.store.DISPOSITIONS_SCHEMA`), or None.

    Returns
    -------
    (leads, status)
        ``leads`` unchanged (every lead stays, dismissed ones too, in rank order);
        ``status`` (:data:`STATUS_SCHEMA`) one row per lead, in rank order.
    """
    tol = settings.store.regrowth_tolerance_cny
    prev_ids = (
        previous_leads.select("lead_id").unique()
        if previous_leads is not None and previous_leads.height
        else pl.DataFrame(schema={"lead_id": pl.String()})
    )
    disp = dispositions if dispositions is not None else pl.DataFrame(schema=DISPOSITIONS_SCHEMA)
    disp = disp.select(
        [(pl.col(c) if c in disp.columns else pl.lit(None)).cast(t).alias(c) for c, t in DISPOSITIONS_SCHEMA.items()]
    ).unique("lead_id", keep="last")
    d = disp.rename({c: f"d_{c}" for c in disp.columns if c != "lead_id"})

    j = (
        leads.join(d, on="lead_id", how="left")
        .join(prev_ids.with_columns(pl.lit(True).alias("_seen")), on="lead_id", how="left")
        .with_columns((~pl.col("_seen").fill_null(False)).alias("is_new"))
    )
    n_now = pl.col("record_ids").list.len()
    grew = regrowth(n_now, pl.col("amount_at_risk"), pl.col("d_n_records_at_decision"), pl.col("d_amount_at_decision"), tol)
    regrown = (pl.col("d_status") == "dismissed") & grew
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
    status = (
        j.select(
            "lead_id",
            pl.when(regrown)
            .then(pl.lit("reopened"))
            .when(pl.col("d_status").is_not_null() & (pl.col("d_status") != "new"))
            .then(pl.col("d_status"))
            .when(pl.col("is_new"))
            .then(pl.lit("new"))
            .otherwise(pl.lit("open"))
            .alias("status"),
            pl.when(regrown).then(regrown_note).otherwise(pl.col("d_note")).alias("note"),
            "is_new",
            pl.col("d_assignee").alias("assignee"),
            pl.col("d_confirmed_amount").alias("confirmed_amount"),
            pl.col("d_recovered_amount").alias("recovered_amount"),
            "rank",
        )
        .sort("rank")
        .drop("rank")
        .select([pl.col(c).cast(t) for c, t in STATUS_SCHEMA.items()])
    )
    kept = leads.sort("rank").select([pl.col(c).cast(t) for c, t in LEADS_SCHEMA.items()])
    return kept, status




def cli_user() -> str:
    """Who a decision recorded from the command line is by: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers): still say where it came from
        return "cli"


def review(
    store_url: str | Path, lead_id: str, status: str, note: str | None = None, settings: Settings = DEFAULT_SETTINGS,
    actor: str | None = None,
) -> dict[str, Any]:
    """Record one decision in the store at ``store_url`` (a history row by ``actor``, default
    :func:`cli_user`) and return the lead's case.

    ``status``: confirmed/dismissed/in_review or 已确认/已排除/核查中 (``open`` re-opens the
    lead). Unknown lead id or status, or a lead already handed over -> InputError.
    """
    with LeadStore(store_url, settings) as store:
        return store.set_disposition(lead_id, status, note, actor=actor or cli_user(), source="cli")


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
                zh=f"{path}:线索表没有处置状态列:请加一列,表头写“处置状态”",
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
        raise InputError(f"{path}: workbook not found: give the path of the leads.xlsx you filled in", path=str(path),
                         zh=f"{path}:找不到该工作簿:请给出填写好的 leads.xlsx 的路径")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(e).__name__}): save it from Excel/WPS as .xlsx", path=str(path),
                         zh=f"{path}:不是可读取的 .xlsx 工作簿({type(e).__name__}):请用 Excel/WPS 另存为 .xlsx") from e
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
                    zh=f"{path}:工作表“{name}”中有 {len(bad)} 个处置状态不是 已确认/已排除/核查中 之一:"
                    + "、".join(bad[:20]) + (f" 等(另有 {len(bad) - 20} 个)" if len(bad) > 20 else "")
                    + ";请从下拉列表中选择(本次未导入任何内容)",
                    path=str(path),
                )
            return decisions
        raise InputError(
            f"{path}: no sheet has a lead id column (线索编号 or lead_id): use the Leads sheet of the workbook fundwatch wrote",
            zh=f"{path}:没有任何工作表含“线索编号”列:请使用 fundwatch 导出的工作簿中的线索表",
            path=str(path),
        )
    finally:
        wb.close()


def import_workbook(
    store_url: str | Path | LeadStore, xlsx_path: str | Path, settings: Settings = DEFAULT_SETTINGS,
    actor: str | None = None, source: str = "import",
) -> dict[str, int]:
    """Record every decision filled in on the workbook's Leads sheet, in one transaction, as
    ``actor`` (default :func:`cli_user`; the workspace passes the signed-in user).

    Only rows whose decision differs from the lead's current status are recorded (a workbook
    exported with the current statuses and imported unchanged records nothing).
    Returns ``{"decisions": n, "confirmed": …, "dismissed": …, "in_review": …, "cleared": …}``.
    A bad file, an unknown status, an unknown lead id or a lead already handed over ->
    InputError and nothing is recorded.
    """
    decisions = read_workbook_decisions(xlsx_path)
    own = not isinstance(store_url, LeadStore)
    store = LeadStore(store_url, settings) if own else store_url
    try:
        current = store.dispositions()
        now = dict(zip(current["lead_id"].to_list(), current["status"].to_list()))
        notes = dict(zip(current["lead_id"].to_list(), current["note"].to_list()))
        decisions = [
            d for d in decisions
            if not (now.get(d["lead_id"]) == d["status"] and (d["note"] or None) == (notes.get(d["lead_id"]) or None))
        ]
        if decisions:
            store.set_dispositions(decisions, actor=actor or cli_user(), source=source)
    finally:
        if own:
            store.close()
    counts = {"decisions": len(decisions), "confirmed": 0, "dismissed": 0, "in_review": 0, "cleared": 0}
    for d in decisions:
        counts["cleared" if d["status"] == "open" else d["status"]] += 1
    return counts
