"""The workspace's pages. Authorisation is checked before every request (``app._before`` with
:data:`fundwatch.workspace.auth.ROUTE_ROLES`); the checks here are the finer ones: a reviewer
sees only the unassigned pool and their own leads."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tempfile
from urllib.parse import quote
from pathlib import Path
from typing import Any

import polars as pl
from flask import (
    Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, session, url_for,
)
from flask_login import current_user, login_user, logout_user

from fundwatch.contract import DATASETS
from fundwatch.dispositions import ACTIONS, allowed_actions, import_workbook, take_action
from fundwatch.errors import InputError
from fundwatch.idnumber import mask_id, mask_id_str, mask_ids_in_text, mask_name
from fundwatch.privacy import PERSONAL_ENTITY_TYPES
from fundwatch.reports.i18n import peer_group_label
from fundwatch.rules_catalog import RULES
from fundwatch.store import ROLES, STATUSES, StaleCaseError, WorkflowError

from . import auth
from .i18n import ACCESS_ACTIONS, DOMAINS, ENTITY_TYPES, LANGS, RECORD_TYPES, SEVERITIES, STATUS_LABELS, label, word
from .queries import SORTS, QueueFilter

bp = Blueprint("ws", __name__)


def _store():
    return current_app.extensions["fundwatch_store"]


def _reader():
    return current_app.extensions["fundwatch_reader"]


def _ws():
    return current_app.extensions["fundwatch_settings"].workspace


def _addr() -> str | None:
    return request.remote_addr


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    lang = g.get("lang", "zh")

    def t(key: str, **kw) -> str:
        return word(key, lang, **kw)

    def money(v) -> str:
        return "" if v is None else f"{v:,.2f}"

    def when(iso: str | None) -> str:
        """A stored UTC time as the server's local time, to the minute."""
        if not iso:
            return ""
        try:
            return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return iso

    return {
        "t": t, "lang": lang, "money": money, "user": current_user, "when": when,
        "status_label": lambda c: label(STATUS_LABELS, c, lang),
        "domain_label": lambda c: label(DOMAINS, c, lang),
        "severity_label": lambda c: label(SEVERITIES, c, lang),
        "etype_label": lambda c: label(ENTITY_TYPES, c, lang),
        "record_type_label": lambda c: label(RECORD_TYPES, c, lang),
        "access_label": lambda c: label(ACCESS_ACTIONS, c, lang),
        "rule_label": lambda c: (RULES[c].title_zh if lang == "zh" else RULES[c].title_en) if c in RULES else c,
        "role_label": lambda r: word(f"role_{r}", lang),
        "source_label": lambda s: word(f"source_{s}", lang),
        "dataset_label": lambda d: (DATASETS[d].zh if lang == "zh" and d in DATASETS else d),
    }


# --------------------------------------------------------------------------------- masking
# One polars expression per column over the whole page: the same masking as leads.csv and the
# report (fundwatch.idnumber), vectorised (value by value it would cost more than the query).
def _masked_entity_expr() -> pl.Expr:
    return (
        pl.when(pl.col("entity_type").is_in(list(PERSONAL_ENTITY_TYPES)))
        .then(mask_id(pl.col("entity_id")))
        .otherwise(pl.col("entity_id"))
    )


def _mask_rows(rows: list[dict[str, Any]], text_cols: tuple[str, ...] = ("title",), tokens: list[tuple[str, str]] | None = None) -> None:
    """In place: ``entity_display`` (persons' and accounts' ids masked) and the text columns
    with identity numbers, the row's own entity id and ``tokens`` masked."""
    if not rows:
        return
    cols = ["entity_type", "entity_id", *text_cols]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in cols}, schema={c: pl.String for c in cols})
    frame = frame.with_columns(_masked_entity_expr().alias("entity_display"))
    # the page's own personal ids, whatever their shape (account numbers are not
    # identity-number shaped), then the given tokens; longest first
    own = frame.filter(pl.col("entity_display") != pl.col("entity_id")).select("entity_id", "entity_display").unique()
    toks = sorted(
        {(w, m) for w, m in [*own.iter_rows(), *(tokens or [])] if w and m and len(w) >= 2 and w != m},
        key=lambda p: (-len(p[0]), p[0]),
    )
    exprs = []
    for c in text_cols:
        out = mask_ids_in_text(pl.col(c))
        if toks:
            out = out.str.replace_many([w for w, _ in toks], [m for _, m in toks])
        exprs.append(out.alias(c))
    frame = frame.with_columns(exprs)
    for r, m in zip(rows, frame.iter_rows(named=True)):
        r["entity_display"] = m["entity_display"]
        for c in text_cols:
            r[c] = m[c]


def _mask_values(rows: list[dict[str, Any]], tokens: list[tuple[str, str]]) -> None:
    """In place, evidence and history rows: ``person_id``, ``name`` masked; ``description`` and
    ``note`` with identity numbers and ``tokens`` masked."""
    if not rows:
        return
    cols = [c for c in ("person_id", "name", "description", "note") if c in rows[0]]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in cols}, schema={c: pl.String for c in cols})
    toks = [(w, m) for w, m in tokens if w and m and len(w) >= 2 and w != m]
    exprs = []
    for c in cols:
        if c == "person_id":
            exprs.append(mask_id(pl.col(c)).alias(c))
        elif c == "name":
            exprs.append(mask_name(pl.col(c)).alias(c))
        else:
            out = mask_ids_in_text(pl.col(c))
            if toks:
                out = out.str.replace_many([w for w, _ in toks], [m for _, m in toks])
            exprs.append(out.alias(c))
    frame = frame.with_columns(exprs)
    for r, m in zip(rows, frame.iter_rows(named=True)):
        r.update(m)


# ---------------------------------------------------------------------------------- sign-in
@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("ws.queue"))
    ws = _ws()
    message = word("session_ended", g.lang) if request.args.get("expired") else None
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()[:100]
        password = request.form.get("password") or ""
        store = _store()
        keys = auth.throttle_keys(name)
        if auth.is_locked(store, keys, ws.lockout_failures, ws.lockout_minutes):
            store.log_access(name or None, "login_locked", remote_addr=_addr())
            return render_template("login.html", message=word("locked", g.lang, minutes=int(ws.lockout_minutes))), 429
        row = store.user(name=name) if name else None
        ok = auth.verify_password(row["password_hash"] if row else None, password) and row is not None and row["active"]
        if not ok:
            store.record_login_failure(keys)
            store.log_access(name or None, "login_failed", remote_addr=_addr())
            return render_template("login.html", message=word("login_failed", g.lang)), 401
        store.clear_login_failures(keys[0])
        session.clear()  # no session fixation: a fresh session for the signed-in user
        session.permanent = True  # expires after settings.workspace.session_idle_minutes unused
        login_user(auth.User(row))
        session["login_at"] = dt.datetime.now(dt.UTC).isoformat()
        session["lang"] = g.lang
        store.touch_login(row["id"])
        store.log_access(name, "login", remote_addr=_addr())
        return redirect(url_for("ws.queue"))
    return render_template("login.html", message=message)


@bp.route("/logout", methods=["POST"])
def logout():
    _store().log_access(current_user.name, "logout", remote_addr=_addr())
    logout_user()
    session.clear()
    return redirect(url_for("ws.login"))


@bp.route("/lang", methods=["POST"])
def set_lang():
    lang = request.form.get("lang")
    if lang in LANGS:
        session["lang"] = lang
    target = request.form.get("next") or ""
    # only a path of this site: never an open redirect
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("ws.queue"))


@bp.route("/")
def index():
    return redirect(url_for("ws.queue"))


# ------------------------------------------------------------------------------------ queue
def _restrict() -> str | None:
    return current_user.name if current_user.role == "reviewer" else None


@bp.route("/queue")
def queue():
    ws = _ws()
    f = QueueFilter.from_args(request.args, ws.page_size, ws.page_size_max)
    reader = _reader()
    page = reader.queue(f, restrict_to=_restrict(), count_cap=ws.count_cap, cases_first_max=ws.cases_first_max)
    _mask_rows(page.rows)
    _decorate(page.rows, page.run_id)
    facets = reader.facets(page.run_id)
    pages = max(1, math.ceil(page.total / f.size))
    lang = g.lang

    def options(values, labeller, current):
        return [(v, labeller(v), v == current) for v in values]

    rule_title = (lambda c: RULES[c].title_zh if c in RULES else c) if lang == "zh" else (lambda c: RULES[c].title_en if c in RULES else c)
    choices = {
        "domain": options(DOMAINS, lambda v: label(DOMAINS, v, lang), f.domain),
        "rule": options(facets["rule"], rule_title, f.rule),
        "entity_type": options(ENTITY_TYPES, lambda v: label(ENTITY_TYPES, v, lang), f.entity_type),
        "severity": options(SEVERITIES, lambda v: label(SEVERITIES, v, lang), f.severity),
        "status": options(STATUSES, lambda v: label(STATUS_LABELS, v, lang), f.status),
        "assignee": [("-", word("unassigned", lang), f.assignee == "-")] + options(facets["assignee"], str, f.assignee),
        "sort": options(SORTS, lambda v: word("sort_" + v, lang), f.sort),
    }
    return render_template(
        "queue.html", page=page, f=f, pages=pages, runs=reader.run_ids(), choices=choices, args=f.as_args(),
    )


def _decorate(rows: list[dict[str, Any]], run_id: str | None) -> None:
    """Labels and links of the queue's rows, computed here once: the page renders 50-200 rows
    and a template call per cell would cost more than the query."""
    lang = g.lang
    run_q = "?run=" + quote(run_id, safe="") if run_id else ""
    rule_title = (lambda c: RULES[c].title_zh if c in RULES else c) if lang == "zh" else (lambda c: RULES[c].title_en if c in RULES else c)
    for r in rows:
        r["href"] = "/leads/" + quote(r["lead_id"], safe="") + run_q
        r["rules_text"] = "、".join(rule_title(c) for c in r["rule_codes"])
        r["etype_text"] = label(ENTITY_TYPES, r["entity_type"], lang)
        r["domain_text"] = label(DOMAINS, r["domain"], lang)
        r["severity_text"] = label(SEVERITIES, r["severity"], lang)
        r["status_text"] = label(STATUS_LABELS, r["status"], lang)
        r["money_text"] = "" if r["amount_at_risk"] is None else f"{r['amount_at_risk']:,.2f}"


@bp.route("/queue/export")
def export():
    """The filtered queue as the workbook the scan writes (masked); its 处置状态 column can be
    filled in and imported back."""
    from fundwatch.reports import write_workbook

    ws = _ws()
    f = QueueFilter.from_args(request.args, ws.page_size, ws.page_size_max)
    reader, store = _reader(), _store()
    ids = reader.export_leads(f, ws.export_max_rows, restrict_to=_restrict())
    runs = reader.run_ids()
    run_id = f.run if f.run in runs else (runs[0] if runs else None)
    if run_id is None:
        abort(404)
    leads = store.leads(run_id)
    order = pl.DataFrame({"lead_id": ids, "_o": list(range(len(ids)))}, schema={"lead_id": pl.String, "_o": pl.Int64})
    leads = leads.join(order, on="lead_id", how="inner").sort("_o").drop("_o")
    ev = store.evidence(run_id).join(order.select("lead_id"), on="lead_id", how="semi").drop("run_id")
    ev = ev.with_columns(pl.col("date").str.to_date(strict=False))
    status = store.dispositions().select("lead_id", "status", "note")
    prev = reader.previous_run(run_id)
    prev_ids = store.leads(prev).select("lead_id") if prev else pl.DataFrame(schema={"lead_id": pl.String})
    status_frame = (
        leads.select("lead_id")
        .join(status, on="lead_id", how="left")
        .with_columns((~pl.col("lead_id").is_in(prev_ids["lead_id"].implode())).alias("is_new"))
        .with_columns(pl.when(pl.col("status").is_null() & ~pl.col("is_new")).then(pl.lit("open")).otherwise(pl.col("status")).alias("status"))
    )
    run_info = {}
    for r in store.runs().to_dicts():
        if r["run_id"] == run_id:
            run_info = {"run_id": run_id, "started_at": r["started_at"]}
    tmp = Path(tempfile.mkdtemp(prefix="fundwatch-export-"))
    path = write_workbook(tmp, leads=leads, status=status_frame, evidence=ev, quarantine=None, validation_summary=None,
                          run_info=run_info, lang=g.lang, unmask=False)
    store.log_access(current_user.name, "export", None, f"{len(ids)} leads of run {run_id}", _addr())
    name = f"leads-{run_id}.xlsx"
    return send_file(path, as_attachment=True, download_name=re.sub(r"[^A-Za-z0-9._-]", "_", name),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/queue/import", methods=["POST"])
def import_decisions():
    """Decisions filled in on an exported workbook, recorded as the signed-in user."""
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        flash(word("bad_request", g.lang), "error")
        return redirect(url_for("ws.queue"))
    tmp = Path(tempfile.mkdtemp(prefix="fundwatch-import-")) / "upload.xlsx"
    upload.save(tmp)
    store = _store()
    try:
        if current_user.role == "reviewer":
            from fundwatch.dispositions import read_workbook_decisions

            for d in read_workbook_decisions(tmp):
                case = store.case(d["lead_id"])
                if case is not None and case["assignee"] not in (None, current_user.name):
                    raise InputError(f"lead {d['lead_id']} is assigned to {case['assignee']}: only they or a leader can decide it",
                                     zh=f"线索 {d['lead_id']} 已分派给 {case['assignee']}:只有本人或负责人可以处置")
        counts = import_workbook(store, tmp, actor=current_user.name, source="import")
        flash(word("import_done", g.lang, n=counts["decisions"]), "ok")
    except InputError as e:
        flash(str(e), "error")
    finally:
        tmp.unlink(missing_ok=True)
    return redirect(url_for("ws.queue"))


# ------------------------------------------------------------------------------------ a lead
def _visible_case(lead_id: str) -> dict[str, Any]:
    case = _store().case(lead_id)
    if case is None:
        abort(404)
    if current_user.role == "reviewer" and case["assignee"] not in (None, current_user.name):
        abort(403)
    return case


def _lead_context(lead_id: str, reveal: bool = False) -> dict[str, Any]:
    _visible_case(lead_id)
    reader, ws = _reader(), _ws()
    run_id = request.args.get("run") or None
    lead = reader.lead(lead_id, run_id) or reader.lead(lead_id)
    if lead is None:
        abort(404)
    run_id = lead["run_id"]
    evidence, n_evidence = reader.evidence(lead_id, run_id, ws.evidence_rows)
    names = reader.evidence_names(lead_id, run_id)
    related = reader.related(lead_id, ws.related_leads, lead.get("related_lead_ids") if isinstance(lead.get("related_lead_ids"), list) else None)
    history = _store().history(lead_id)
    if not reveal:
        whole = lead["entity_id"]
        masked = mask_id_str(whole) if lead["entity_type"] in PERSONAL_ENTITY_TYPES and whole else whole
        ids = sorted({e["person_id"] for e in evidence if e.get("person_id")})
        both = pl.DataFrame({"w": names + ids, "is_name": [True] * len(names) + [False] * len(ids)},
                            schema={"w": pl.String, "is_name": pl.Boolean})
        both = both.with_columns(pl.when(pl.col("is_name")).then(mask_name(pl.col("w"))).otherwise(mask_id(pl.col("w"))).alias("m"))
        tokens = sorted(
            ([(whole, masked)] if masked != whole else []) + list(zip(both["w"].to_list(), both["m"].to_list())),
            key=lambda p: -len(p[0] or ""),
        )
        one = [lead]
        _mask_rows(one, tuple(c for c in ("title", "explanation", "basis", "checklist") if isinstance(lead.get(c), str)), tokens)
        _mask_values(evidence, tokens)
        _mask_values(history, tokens)
        case_note = [{"note": lead["case"].get("note")}]
        _mask_values(case_note, tokens)
        lead["case"]["note"] = case_note[0]["note"]
        _mask_rows(related)
    else:
        lead["entity_display"] = lead["entity_id"]
        for r in related:
            r["entity_display"] = r["entity_id"]
    peers = _peer_charts(lead.get("details"))
    rules = [RULES[c] for c in lead.get("rule_codes") or [] if c in RULES]
    basis = lead.get("basis") if isinstance(lead.get("basis"), str) and lead.get("basis") else None
    checklist = lead.get("checklist")
    if isinstance(checklist, str):
        try:
            checklist = json.loads(checklist)
        except ValueError:
            checklist = [x for x in checklist.splitlines() if x.strip()]
    if not basis:  # rules may declare them (依据 / 核查要点)
        basis = "\n".join(b for b in (getattr(r, f"basis_{g.lang}", None) for r in rules) if b) or None
    if not checklist:
        items = [i for r in rules for i in (getattr(r, f"checklist_{g.lang}", None) or [])]
        checklist = items or None
    case = lead["case"]
    actions = allowed_actions(case, current_user.name, current_user.role)
    reviewers = [u["name"] for u in _store().users() if u["role"] in ("reviewer", "leader") and u["active"]]
    return {
        "lead": lead, "case": case, "evidence": evidence, "n_evidence": n_evidence, "related": related, "history": history,
        "peers": peers, "rules": rules, "basis": basis, "checklist": checklist, "actions": actions, "ACTIONS": ACTIONS,
        "reviewers": reviewers, "revealed": reveal, "can_reveal": current_user.role in auth.REVEALERS,
        "runs_with_lead": None,
    }


def _peer_charts(details: Any) -> list[dict[str, Any]]:
    """Features compared with peers, from the findings' details kept with the lead."""
    if not details:
        return []
    try:
        items = json.loads(details) if isinstance(details, str) else details
    except ValueError:
        return []
    if isinstance(items, dict):
        items = [items]
    charts = []
    for d in items or []:
        if not isinstance(d, dict):
            continue
        for feat in d.get("features") or []:
            vals = [v for v in (feat.get("peer_values") or []) if isinstance(v, (int, float)) and math.isfinite(v)]
            value = feat.get("value")
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            hi = max(vals + [value, feat.get("peer_median") or 0]) or 1.0
            lo = min(vals + [value, 0.0])
            span = (hi - lo) or 1.0
            charts.append({
                "label": feat.get(f"label_{g.lang}") or feat.get("name"), "value": value, "median": feat.get("peer_median"),
                "n": len(vals), "group": peer_group_label(d.get("peer_group"), g.lang),
                "dots": [round(10 + 380 * (v - lo) / span, 1) for v in vals[:300]],
                "x_value": round(10 + 380 * (value - lo) / span, 1),
                "x_median": round(10 + 380 * ((feat.get("peer_median") or 0) - lo) / span, 1) if feat.get("peer_median") is not None else None,
            })
    return charts[:12]


@bp.route("/leads/<lead_id>")
def lead(lead_id: str):
    return render_template("lead.html", **_lead_context(lead_id))


@bp.route("/leads/<lead_id>/reveal", methods=["POST"])
def reveal(lead_id: str):
    """The lead's whole identifiers, for this one response; written to the access log."""
    _visible_case(lead_id)
    printing = request.form.get("print") == "1"
    _store().log_access(current_user.name, "reveal_print" if printing else "reveal", lead_id, None, _addr())
    ctx = _lead_context(lead_id, reveal=True)
    if printing:
        return render_template("print.html", items=[ctx])
    flash(word("revealed", g.lang), "ok")
    return render_template("lead.html", **ctx)


@bp.route("/leads/<lead_id>/act", methods=["POST"])
def act(lead_id: str):
    form = request.form
    case = _store().case(lead_id)
    if case is None:
        abort(404)
    if str(case["version"]) != (form.get("version") or "").strip():
        # someone decided first: say so (even when the lead is now theirs and out of sight)
        flash(word("stale", g.lang), "error")
        visible = current_user.role != "reviewer" or case["assignee"] in (None, current_user.name)
        return redirect(url_for("ws.lead", lead_id=lead_id) if visible else url_for("ws.queue"), code=303)
    _visible_case(lead_id)
    action = form.get("action") or ""

    def amount(name: str) -> float | None:
        raw = (form.get(name) or "").replace(",", "").strip()
        if not raw:
            return None
        try:
            v = float(raw)
        except ValueError:
            return -1.0  # refused below with the field's message
        return v if math.isfinite(v) else -1.0

    try:
        version = int(form.get("version", ""))
    except ValueError:
        abort(400)
    try:
        take_action(
            _store(), lead_id, action, user_name=current_user.name, role=current_user.role,
            note=(form.get("note") or "")[:4000], expected_version=version, assignee=(form.get("assignee") or None),
            confirmed_amount=amount("confirmed_amount"), recovered_amount=amount("recovered_amount"),
        )
        flash(word("saved", g.lang), "ok")
    except StaleCaseError:
        flash(word("stale", g.lang), "error")
        return redirect(url_for("ws.lead", lead_id=lead_id), code=303)
    except (WorkflowError, InputError) as e:
        flash(str(e), "error")
    return redirect(url_for("ws.lead", lead_id=lead_id), code=303)


@bp.route("/leads/<lead_id>/print")
def print_lead(lead_id: str):
    """The handover form (线索移交登记表) of one lead, ready for the printer."""
    return render_template("print.html", items=[_lead_context(lead_id)])


@bp.route("/handover")
def handover():
    """Handover forms of several leads (``?ids=a,b``), one per printed page."""
    ids = [x for x in (request.args.get("ids") or "").split(",") if x.strip()][:200]
    return render_template("print.html", items=[_lead_context(i.strip()) for i in ids])


# ------------------------------------------------------------------------- trends and audit
def _bars(rows: list[dict[str, Any]], value_key: str) -> list[dict[str, Any]]:
    top = max([abs(r.get(value_key) or 0) for r in rows] + [1e-9])
    return [{**r, "w": round(250 * abs(r.get(value_key) or 0) / top, 1)} for r in rows]


@bp.route("/trends")
def trends():
    data = _reader().trends()
    by = {k: _bars(v, "m") for k, v in data["by"].items()}
    outcomes = {k: _bars(_bars(v, "confirmed"), "recovered") for k, v in data["outcomes"].items()}
    for k, v in data["outcomes"].items():
        top = max([max(r["confirmed"], r["recovered"]) for r in v] + [1e-9])
        for r in outcomes[k]:
            r["wc"] = round(300 * r["confirmed"] / top, 1)
            r["wr"] = round(300 * r["recovered"] / top, 1)
    per_run = _bars(data["per_run"], "leads")
    for r in data["quality"]:
        r["rate"] = (r["rows_accepted"] or 0) / r["rows_read"] if r.get("rows_read") else None
    return render_template("trends.html", per_run=per_run, by=by, outcomes=outcomes, status=data["status"],
                           quality=data["quality"], validation=data["validation"])


@bp.route("/audit/history")
def audit_history():
    ws = _ws()
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    rows = _store().history(limit=ws.history_page, offset=(page - 1) * ws.history_page)
    _mask_values(rows, [])
    return render_template("audit.html", rows=rows, page=page, more=len(rows) == ws.history_page)


@bp.route("/audit/access")
def access_log():
    ws = _ws()
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    rows = _store().access_log(limit=ws.history_page, offset=(page - 1) * ws.history_page)
    return render_template("access.html", rows=rows, page=page, more=len(rows) == ws.history_page)


# ------------------------------------------------------------------------------------ users
@bp.route("/users")
def users():
    return render_template("users.html", users=_store().users(), roles=ROLES)


@bp.route("/users", methods=["POST"])
def add_user():
    form = request.form
    try:
        auth.add_user(_store(), form.get("name") or "", form.get("role") or "", form.get("password") or "", created_by=current_user.name)
        flash(word("saved", g.lang), "ok")
    except InputError as e:
        flash(str(e), "error")
    return redirect(url_for("ws.users"), code=303)


@bp.route("/users/<int:user_id>", methods=["POST"])
def change_user(user_id: int):
    form = request.form
    try:
        password = form.get("password") or ""
        _store().update_user(
            user_id, actor=current_user.name, role=form.get("role") or None,
            active=form.get("active") == "1",
            password_hash=auth.hash_password(password) if password else None,
        )
        flash(word("saved", g.lang), "ok")
    except InputError as e:
        flash(str(e), "error")
    return redirect(url_for("ws.users"), code=303)
