"""What the workspace reads from the lead store: the queue, a lead, related leads, trends.

SQLAlchemy Core on the store's tables, values only through bound parameters. The queue is
paged on the server (``LIMIT``/``OFFSET`` over the indexes ``ix_leads_run_rank``,
``ix_leads_run_amount``, ``ix_leads_run_score``); search goes through ``lead_terms``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from fundwatch.store import LeadStore, search_term

#: Sort orders of the queue: name -> (label key, columns).
SORTS = ("rank", "amount", "score", "updated")
#: Term kinds that tie two leads to the same person, account or entity (related leads).
LINK_KINDS = ("id", "entity", "subject")


@dataclass
class QueueFilter:
    """The queue's filters, as the query string gives them (all optional)."""

    run: str | None = None
    domain: str | None = None
    entity_type: str | None = None
    rule: str | None = None
    place: str | None = None
    severity: str | None = None
    status: str | None = None
    assignee: str | None = None
    new_only: bool = False
    q: str | None = None
    sort: str = "rank"
    page: int = 1
    size: int = 50

    @classmethod
    def from_args(cls, args, default_size: int, max_size: int) -> "QueueFilter":
        def text(name: str) -> str | None:
            v = (args.get(name) or "").strip()
            return v[:200] or None

        def number(name: str, default: int, lo: int, hi: int) -> int:
            try:
                return max(lo, min(hi, int(args.get(name, default))))
            except (TypeError, ValueError):
                return default

        sort = text("sort") or "rank"
        return cls(
            run=text("run"), domain=text("domain"), entity_type=text("entity_type"), rule=text("rule"),
            place=text("place"), severity=text("severity"), status=text("status"), assignee=text("assignee"),
            new_only=args.get("new") in ("1", "on", "true"), q=text("q"),
            sort=sort if sort in SORTS else "rank",
            page=number("page", 1, 1, 10**6), size=number("size", default_size, 1, max_size),
        )

    def as_args(self, **override: Any) -> dict[str, Any]:
        """Query-string arguments that reproduce this filter (for links and the export)."""
        d = {
            "run": self.run, "domain": self.domain, "entity_type": self.entity_type, "rule": self.rule,
            "place": self.place, "severity": self.severity, "status": self.status, "assignee": self.assignee,
            "new": "1" if self.new_only else None, "q": self.q, "sort": self.sort if self.sort != "rank" else None,
            "page": self.page if self.page != 1 else None, "size": None,
        }
        d.update(override)
        return {k: v for k, v in d.items() if v not in (None, "")}


def _money_once(row: dict[str, Any], once: dict[str, float] | None) -> dict[str, Any]:
    """A group's row with its money counted once per record, where the run recorded it."""
    if once is not None and row["k"] is not None:
        row["m"] = float(once.get(str(row["k"]), 0.0))
    return row


def _contradicts(f: QueueFilter) -> bool:
    """The filter asks for a rule of one domain among the leads of the other."""
    from fundwatch.rules_catalog import RULES

    spec = RULES.get(f.rule or "")
    return bool(f.domain and spec is not None and spec.domain != f.domain)


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    total: int  # capped at ``count_cap`` (then ``capped`` is True)
    run_id: str | None
    capped: bool = False


class Reader:
    """Read-side queries of the workspace over one :class:`LeadStore`."""

    def __init__(self, store: LeadStore):
        self.store = store
        t = store._tbl
        self.runs, self.leads, self.ev, self.cases = t("runs"), t("leads"), t("evidence"), t("lead_cases")
        self.terms, self.history, self.qs = t("lead_terms"), t("lead_history"), t("quarantine_summary")
        self.lead_columns = set(self.leads.columns.keys())

    def _read(self, fn):
        return self.store._read(fn)

    # -- runs ---------------------------------------------------------------------------------
    def run_ids(self) -> list[str]:
        """Run ids, newest first."""
        r = self.runs
        return [x for (x,) in self._read(lambda c: c.execute(sa.select(r.c.run_id).order_by(r.c.seq.desc())).all())]

    def previous_run(self, run_id: str) -> str | None:
        r = self.runs
        seq = sa.select(r.c.seq).where(r.c.run_id == sa.bindparam("r", run_id)).scalar_subquery()
        q = sa.select(r.c.run_id).where(r.c.seq < seq).order_by(r.c.seq.desc()).limit(1)
        return self._read(lambda c: c.execute(q).scalar())

    # -- the queue ------------------------------------------------------------------------
    def queue(
        self, f: QueueFilter, *, restrict_to: str | None = None, count_cap: int | None = None,
        cases_first_max: int = 0,
    ) -> QueuePage:
        """One page of the queue. ``restrict_to``: a reviewer's name — only unassigned leads
        and theirs. ``count_cap``: count the matching leads up to this many only.
        ``cases_first_max``: when the conditions on the cases match at most this many, read
        those cases first (a materialised CTE) and join their leads — the database otherwise
        walks the run's leads in page order looking for a rare status (the same page either
        way)."""
        runs = self.run_ids()
        run_id = f.run if f.run in runs else (runs[0] if runs else None)
        if run_id is None:
            return QueuePage([], 0, None)
        if _contradicts(f):
            # a rule of the other domain: nothing can match, and the database would scan every
            # lead of the run to prove it (on 100,000 leads the slowest queue pages were these)
            return QueuePage([], 0, run_id)
        prev = self.previous_run(run_id)
        L, C = self.leads, self.cases
        conds = [L.c.run_id == sa.bindparam("run", run_id)]
        if f.domain:
            conds.append(L.c.domain == sa.bindparam("domain", f.domain))
        if f.entity_type:
            conds.append(L.c.entity_type == sa.bindparam("etype", f.entity_type))
        if f.severity:
            conds.append(L.c.severity == sa.bindparam("sev", f.severity))
        if f.place:
            # plain strings: SQLAlchemy binds them as parameters (and escapes % and _ for LIKE)
            place = L.c.region_code.startswith(f.place.strip(), autoescape=True)
            if "region_name" in self.lead_columns:
                place = place | L.c.region_name.contains(f.place.strip(), autoescape=True)
            conds.append(place)
        case_conds = []
        if f.status:
            case_conds.append(C.c.status == sa.bindparam("status", f.status))
        if f.assignee:
            case_conds.append(C.c.assignee.is_(None) if f.assignee == "-" else C.c.assignee == sa.bindparam("assignee", f.assignee))
        if restrict_to is not None:
            case_conds.append(sa.or_(C.c.assignee.is_(None), C.c.assignee == sa.bindparam("me", restrict_to)))
        if f.rule:
            T = self.terms
            conds.append(
                sa.exists().where(T.c.lead_id == L.c.lead_id, T.c.kind == "rule", T.c.term == sa.bindparam("rule", search_term(f.rule)))
            )
        if f.new_only and prev is not None:
            # new = in the store for the first time with this run (an index on the case)
            case_conds.append(C.c.first_run_id == sa.bindparam("first", run_id))
        if f.q:
            conds.append(L.c.lead_id.in_(self._search(f.q)))
        if case_conds and self._few_cases(case_conds, cases_first_max):
            C = sa.select(C).where(*case_conds).cte("picked_cases").prefix_with("MATERIALIZED")
            case_conds = []  # applied in the CTE
        conds = conds + case_conds
        base = sa.select().select_from(L.join(C, C.c.lead_id == L.c.lead_id)).where(*conds)
        order = {
            "rank": [L.c.rank.asc()],
            "amount": [L.c.amount_at_risk.desc(), L.c.rank.asc()],
            "score": [L.c.score.desc(), L.c.rank.asc()],
            "updated": [C.c.updated_at.desc(), C.c.lead_id.desc()],
        }[f.sort]
        extra = [L.c[c] for c in ("region_name", "amount_involved") if c in self.lead_columns]
        page_q = base.add_columns(
            L.c.lead_id, L.c.rank, L.c.score, L.c.severity, L.c.domain, L.c.entity_type, L.c.entity_id, L.c.rule_codes,
            L.c.title, L.c.amount_at_risk, L.c.period_start, L.c.period_end, L.c.region_code, *extra,
            C.c.status, C.c.assignee, C.c.version, C.c.confirmed_amount, C.c.recovered_amount, C.c.updated_at, C.c.first_run_id,
        ).order_by(*order).limit(f.size).offset((f.page - 1) * f.size)
        # counting needs the cases only when a condition is on them
        counted = base if (case_conds or C is not self.cases) else sa.select().select_from(L).where(*conds)
        if count_cap is None:
            count_q = counted.add_columns(sa.func.count())
        else:
            limited = counted.add_columns(L.c.lead_id).limit(count_cap + 1).subquery()
            count_q = sa.select(sa.func.count()).select_from(limited)

        def run(c):
            return [dict(r) for r in c.execute(page_q).mappings()], int(c.execute(count_q).scalar() or 0)

        rows, total = self._read(run)
        capped = count_cap is not None and total > count_cap
        total = min(total, count_cap) if capped else total
        for r in rows:
            r["rule_codes"] = json.loads(r["rule_codes"] or "[]")
            r["is_new"] = prev is not None and r["first_run_id"] == run_id
        if prev is None:
            for r in rows:
                r["is_new"] = True
        return QueuePage(rows, total, run_id, capped)

    def _few_cases(self, case_conds: list, most: int) -> bool:
        """Do the case conditions match at most ``most`` cases (counted no further)?"""
        if most <= 0:
            return False
        C = self.cases
        q = sa.select(sa.func.count()).select_from(sa.select(C.c.lead_id).where(*case_conds).limit(most + 1).subquery())
        return int(self._read(lambda c: c.execute(q).scalar()) or 0) <= most

    def _search(self, text: str):
        """Lead ids whose id, identity number, name, account or record id is or starts with ``text``."""
        T = self.terms
        term = search_term(text)
        hi = term + "\uffff"
        by_term = sa.select(T.c.lead_id).where(T.c.term >= sa.bindparam("q_lo", term), T.c.term < sa.bindparam("q_hi", hi))
        by_id = sa.select(self.cases.c.lead_id).where(self.cases.c.lead_id == sa.bindparam("q_id", text.strip()))
        return by_term.union(by_id)

    def facets(self, run_id: str | None) -> dict[str, list[str]]:
        """Values the filter drop-downs offer: the rule codes of the catalogue and the users a
        lead can be assigned to (both small; no scan of the leads)."""
        from fundwatch.rules_catalog import RULES

        users = [u["name"] for u in self.store.users() if u["role"] in ("reviewer", "leader")]
        return {"rule": list(RULES), "assignee": users}

    def export_leads(self, f: QueueFilter, limit: int, restrict_to: str | None = None) -> list[str]:
        """Lead ids of every page of the filtered queue (at most ``limit``), in order."""
        g = QueueFilter(**{**f.__dict__, "page": 1, "size": limit})
        return [r["lead_id"] for r in self.queue(g, restrict_to=restrict_to).rows]

    # -- one lead -----------------------------------------------------------------------------
    def lead(self, lead_id: str, run_id: str | None = None) -> dict[str, Any] | None:
        """The lead in ``run_id`` (default: the latest run that has it) with its case."""
        case = self.store.case(lead_id)
        if case is None:
            return None
        run_id = run_id or case["last_run_id"]
        L = self.leads
        row = self._read(lambda c: c.execute(
            sa.select(L).where(L.c.run_id == sa.bindparam("r", run_id), L.c.lead_id == sa.bindparam("l", lead_id))
        ).mappings().first())
        if row is None:
            return None
        lead = dict(row)
        for col in ("rule_codes", "record_ids", "related_lead_ids"):
            if col in lead and isinstance(lead[col], str):
                try:
                    lead[col] = json.loads(lead[col])
                except ValueError:
                    lead[col] = [lead[col]]
        lead["case"] = case
        return lead

    def evidence(self, lead_id: str, run_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        E = self.ev
        cond = (E.c.run_id == sa.bindparam("r", run_id), E.c.lead_id == sa.bindparam("l", lead_id))

        def run(c):
            rows = [dict(r) for r in c.execute(sa.select(E).where(*cond).order_by(E.c.date, E.c.record_id).limit(limit)).mappings()]
            n = c.execute(sa.select(sa.func.count()).select_from(E).where(*cond)).scalar()
            return rows, int(n or 0)

        return self._read(run)

    def related(self, lead_id: str, limit: int, extra_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Other leads about the same person, account or entity (shared identity terms), and
        any the lead names itself (``related_lead_ids``), with their latest title and status."""
        T = self.terms
        t2 = T.alias("t2")
        # Two leads are about the same person when one of them is *about* that person (its
        # ``subject``) and the other is about or cites them: a village's and a clinic's leads
        # that merely cite one villager among hundreds are not related.
        linked = sa.or_(
            sa.and_(T.c.kind == "entity", t2.c.kind == "entity"),
            sa.and_(T.c.kind == "subject", t2.c.kind.in_(("id", "subject"))),
            sa.and_(T.c.kind == "id", t2.c.kind == "subject"),
        )
        ids_q = (
            sa.select(t2.c.lead_id)
            .select_from(T.join(t2, sa.and_(T.c.term == t2.c.term, linked)))
            .where(T.c.lead_id == sa.bindparam("l", lead_id), T.c.kind.in_(LINK_KINDS), t2.c.lead_id != sa.bindparam("l2", lead_id))
            .distinct()
            .order_by(t2.c.lead_id)
            .limit(limit)
        )
        ids = [x for (x,) in self._read(lambda c: c.execute(ids_q).all())]
        for x in extra_ids or []:
            if x not in ids and x != lead_id:
                ids.append(x)
        if not ids:
            return []
        L, C = self.leads, self.cases
        q = (
            sa.select(L.c.lead_id, L.c.title, L.c.entity_type, L.c.entity_id, L.c.amount_at_risk, L.c.severity, C.c.status, C.c.assignee)
            .select_from(C.join(L, sa.and_(L.c.lead_id == C.c.lead_id, L.c.run_id == C.c.last_run_id)))
            .where(C.c.lead_id.in_(sa.bindparam("ids", ids[: limit * 2], expanding=True)))
            .order_by(L.c.amount_at_risk.desc())
        )
        return [dict(r) for r in self._read(lambda c: c.execute(q).mappings().all())]

    def evidence_names(self, lead_id: str, run_id: str) -> list[str]:
        E = self.ev
        q = sa.select(E.c.name).where(E.c.run_id == sa.bindparam("r", run_id), E.c.lead_id == sa.bindparam("l", lead_id), E.c.name.is_not(None)).distinct()
        return [x for (x,) in self._read(lambda c: c.execute(q).all())]

    # -- trends ---------------------------------------------------------------------------------
    def trends(self) -> dict[str, Any]:
        """Per run: leads, new, recurring, resolved (in the previous run, not in this one), money
        at risk; across runs: money at risk by month (each record's own month, a model's excess
        spread over its period; period end for a run recorded before that), type and place of the
        latest run, confirmed and recovered money by month of decision, type and place;
        per dataset and run: rows accepted / read (the validation pass rate)."""
        R, L, C, H, Q = self.runs, self.leads, self.cases, self.history, self.qs

        def run(c):
            runs = [dict(r) for r in c.execute(sa.select(R.c.seq, R.c.run_id, R.c.started_at, R.c.n_leads, R.c.run_json).order_by(R.c.seq)).mappings()]
            per_run = []
            prev_id = None
            for r in runs:
                # the run's money in doubt counts each record once (run.json); a store written
                # before that figure existed falls back to the sum over its leads
                money = (json.loads(r["run_json"] or "{}").get("leads") or {}).get("amount_at_risk")
                if money is None:
                    money = c.execute(sa.select(sa.func.coalesce(sa.func.sum(L.c.amount_at_risk), 0.0)).where(L.c.run_id == sa.bindparam("r", r["run_id"]))).scalar()
                row = {"run_id": r["run_id"], "started_at": r["started_at"], "leads": r["n_leads"] or 0, "money": float(money or 0.0)}
                if prev_id is None:
                    row.update(new=row["leads"], recurring=0, resolved=0)
                else:
                    L2 = L.alias("p")
                    recurring = c.execute(
                        sa.select(sa.func.count()).select_from(L.join(L2, sa.and_(L2.c.lead_id == L.c.lead_id, L2.c.run_id == sa.bindparam("p", prev_id))))
                        .where(L.c.run_id == sa.bindparam("r", r["run_id"]))
                    ).scalar()
                    prev_n = next(x["n_leads"] for x in runs if x["run_id"] == prev_id) or 0
                    row.update(new=row["leads"] - recurring, recurring=recurring, resolved=prev_n - recurring)
                per_run.append(row)
                prev_id = r["run_id"]
            latest = runs[-1]["run_id"] if runs else None
            by = {}
            names: dict[str, str] = {}  # county code -> name, as the latest run knew them
            if latest:
                # money per group counts each record once: the run recorded it (run.json
                # leads.money_by); a store written before then falls back to lead sums
                run_leads = json.loads(runs[-1]["run_json"] or "{}").get("leads") or {}
                money_by = run_leads.get("money_by") or {}
                names = run_leads.get("place_names") or {}
                for key, col in (("month", L.c.period_end), ("type", L.c.domain), ("place", sa.func.substr(L.c.region_code, 1, 6))):
                    q = (
                        sa.select(col.label("k"), sa.func.count().label("n"), sa.func.coalesce(sa.func.sum(L.c.amount_at_risk), 0.0).label("m"))
                        .where(L.c.run_id == sa.bindparam("r", latest)).group_by(col).order_by(col)
                    )
                    by[key] = [_money_once(dict(x), money_by.get(key)) for x in c.execute(q).mappings()]
                months = run_leads.get("leads_by_month")
                if months is not None and money_by.get("month") is not None:
                    # the run dated each record's money (leads.money_by_month): its months, not period ends
                    by["month"] = [{"k": k, "n": int(months.get(k, 0)), "m": float(m)} for k, m in sorted(money_by["month"].items())]
                # places named as name(code) where the run knew the name
                by["place"] = [{**r, "label": f"{names[r['k']]}({r['k']})" if r["k"] in names else r["k"]} for r in by["place"]]
                rq = sa.select(L.c.rule_codes, L.c.amount_at_risk).where(L.c.run_id == sa.bindparam("r", latest))
                rules: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
                for codes, amount in c.execute(rq):
                    first = (json.loads(codes or "[]") or ["?"])[0]
                    rules[first][0] += 1
                    rules[first][1] += amount or 0.0
                by["rule"] = sorted((_money_once({"k": k, "n": v[0], "m": v[1]}, money_by.get("rule")) for k, v in rules.items()),
                                    key=lambda row: (-row["m"], row["k"]))
            # confirmed and recovered money: the latest amount recorded per lead, by month of that decision
            money_rows = c.execute(
                sa.select(H.c.lead_id, H.c.at, H.c.confirmed_amount, H.c.recovered_amount)
                .where(sa.or_(H.c.confirmed_amount.is_not(None), H.c.recovered_amount.is_not(None))).order_by(H.c.id)
            ).all()
            last: dict[tuple[str, str], tuple[str, float]] = {}
            for lid, at, conf, rec in money_rows:
                if conf is not None:
                    last[(lid, "confirmed")] = (at, conf)
                if rec is not None:
                    last[(lid, "recovered")] = (at, rec)
            facts = {}
            if last:
                ids = sorted({lid for lid, _ in last})
                q = (
                    sa.select(L.c.lead_id, L.c.domain, L.c.rule_codes, L.c.region_code)
                    .select_from(C.join(L, sa.and_(L.c.lead_id == C.c.lead_id, L.c.run_id == C.c.last_run_id)))
                    .where(C.c.lead_id.in_(sa.bindparam("ids", ids, expanding=True)))
                )
                facts = {lid: (dom, (json.loads(codes or "[]") or ["?"])[0], (reg or "")[:6]) for lid, dom, codes, reg in c.execute(q)}
            outcome: dict[str, dict[str, list[float]]] = {k: defaultdict(lambda: [0.0, 0.0]) for k in ("month", "type", "place")}
            for (lid, kind), (at, amount) in last.items():
                dom, rule, place = facts.get(lid, ("?", "?", "?"))
                i = 0 if kind == "confirmed" else 1
                for key, value in (("month", (at or "")[:7]), ("type", dom), ("place", place)):
                    outcome[key][value][i] += amount
            outcomes = {k: [{"k": kk, "label": f"{names[kk]}({kk})" if k == "place" and kk in names else kk,
                             "confirmed": v[0], "recovered": v[1]} for kk, v in sorted(d.items())] for k, d in outcome.items()}
            status = [dict(x) for x in c.execute(sa.select(C.c.status.label("k"), sa.func.count().label("n")).group_by(C.c.status).order_by(C.c.status)).mappings()]
            quality = [dict(x) for x in c.execute(
                sa.select(Q.c.run_id, Q.c.dataset, Q.c.rows_read, Q.c.rows_accepted, Q.c.rows_quarantined, R.c.seq)
                .join(R, R.c.run_id == Q.c.run_id).order_by(R.c.seq, Q.c.dataset)
            ).mappings()]
            validation = {}
            for r in runs:
                try:
                    info = json.loads(r["run_json"] or "{}")
                except ValueError:
                    info = {}
                v = info.get("validation") or {}
                validation[r["run_id"]] = {"failed": v.get("failed_expectations"), "unusable": sorted((v.get("unusable") or {}).keys())}
            return {"per_run": per_run, "by": by, "outcomes": outcomes, "status": status, "quality": quality, "validation": validation}

        return self._read(run)
