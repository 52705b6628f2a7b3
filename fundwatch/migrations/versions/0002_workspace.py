"""The supervisors' workspace (schema version 2).

* ``lead_cases``: one row per lead id across runs — its workflow status, assignee, version
  (optimistic locking), confirmed and recovered amounts, and the amount / number of records at
  the last decision (a dismissed lead comes back when its evidence grows);
* ``lead_history``: every decision as a new row (who, when, from, to, note, amounts) —
  append-only, guarded by triggers that reject UPDATE and DELETE (and TRUNCATE on PostgreSQL);
* ``lead_terms``: the search index (identity numbers, names, accounts, record ids, rule codes);
* ``users``, ``login_failures`` (lockout survives a restart), ``access_log`` (append-only: every
  reveal of identifiers, logins, user changes), ``app_secrets`` (the session signing key);
* ``runs.run_json`` (the run's run.json), ``leads.details`` (peer comparisons of the findings),
  indexes for the queue's sort orders.

The old ``dispositions`` table (one overwritable row per lead) is carried over — each row
becomes the lead's case status and a history row by ``fundwatch-migration`` — and dropped.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fundwatch.migrations import schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Tables no statement may change or delete rows of.
APPEND_ONLY = ("lead_history", "access_log")
MIGRATION_ACTOR = "fundwatch-migration"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _term_type(length: int) -> sa.types.TypeEngine:
    # byte-order collation on PostgreSQL so that a prefix search is a btree range scan
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def create_tables(md: sa.MetaData) -> None:
    """The version-2 tables, frozen."""
    S, T, F, I = sa.String, sa.Text, sa.Float(precision=53), sa.Integer
    sa.Table(
        "lead_cases", md,
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("status", S(20), nullable=False),
        sa.Column("assignee", S(100)),
        sa.Column("version", I, nullable=False),
        sa.Column("confirmed_amount", F),
        sa.Column("recovered_amount", F),
        sa.Column("note", T),
        sa.Column("updated_at", S(40)),
        sa.Column("updated_by", S(100)),
        sa.Column("amount_at_decision", F),
        sa.Column("n_records_at_decision", I),
        sa.Column("first_run_id", S(100)),
        sa.Column("last_run_id", S(100)),
        sa.Index("ix_lead_cases_status", "status"),
        sa.Index("ix_lead_cases_assignee", "assignee"),
        sa.Index("ix_lead_cases_first_run", "first_run_id"),
        sa.Index("ix_lead_cases_updated", "updated_at", "lead_id"),
    )
    sa.Table(
        "lead_history", md,
        sa.Column("id", I, primary_key=True, autoincrement=True),
        sa.Column("lead_id", S(80), nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(100), nullable=False),
        sa.Column("source", S(20), nullable=False),
        sa.Column("from_status", S(20)),
        sa.Column("to_status", S(20), nullable=False),
        sa.Column("from_assignee", S(100)),
        sa.Column("to_assignee", S(100)),
        sa.Column("note", T),
        sa.Column("confirmed_amount", F),
        sa.Column("recovered_amount", F),
        sa.Column("amount_at_risk", F),
        sa.Column("n_records", I),
        sa.Column("run_id", S(100)),
        sa.Column("version", I),
        sa.Index("ix_lead_history_lead", "lead_id", "id"),
        sa.Index("ix_lead_history_at", "at"),
    )
    sa.Table(
        "lead_terms", md,
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("kind", S(10), primary_key=True),
        sa.Column("term", _term_type(200), primary_key=True),
        sa.Index("ix_lead_terms_term", "term", "kind"),
    )
    sa.Table(
        "users", md,
        sa.Column("id", I, primary_key=True, autoincrement=True),
        sa.Column("name", S(100), nullable=False, unique=True),
        sa.Column("role", S(20), nullable=False),
        sa.Column("password_hash", S(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("token", S(64), nullable=False),
        sa.Column("created_at", S(40)),
        sa.Column("created_by", S(100)),
        sa.Column("last_login_at", S(40)),
    )
    sa.Table(
        "login_failures", md,
        sa.Column("id", I, primary_key=True, autoincrement=True),
        sa.Column("key", S(200), nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Index("ix_login_failures_key", "key", "at"),
    )
    sa.Table(
        "access_log", md,
        sa.Column("id", I, primary_key=True, autoincrement=True),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(100)),
        sa.Column("action", S(30), nullable=False),
        sa.Column("lead_id", S(80)),
        sa.Column("detail", T),
        sa.Column("remote_addr", S(64)),
        sa.Index("ix_access_log_at", "at"),
    )
    sa.Table("app_secrets", md, sa.Column("name", S(50), primary_key=True), sa.Column("value", T, nullable=False))


def _append_only_triggers(conn: sa.Connection, s: str | None) -> None:
    q = conn.dialect.identifier_preparer.quote
    prefix = f"{q(s)}." if s else ""
    if conn.dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {prefix}fundwatch_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in APPEND_ONLY:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {prefix}{table} "
            f"FOR EACH ROW EXECUTE FUNCTION {prefix}fundwatch_append_only()"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {prefix}{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}fundwatch_append_only()"
        )


def upgrade() -> None:
    conn = op.get_bind()
    s = schema()
    op.add_column("runs", sa.Column("run_json", sa.Text), schema=s)
    op.add_column("leads", sa.Column("details", sa.Text), schema=s)
    op.create_index("ix_leads_run_rank", "leads", ["run_id", "rank"], schema=s)
    op.create_index("ix_leads_run_amount", "leads", ["run_id", "amount_at_risk"], schema=s)
    op.create_index("ix_leads_run_score", "leads", ["run_id", "score"], schema=s)
    md = sa.MetaData(schema=s)
    create_tables(md)
    md.create_all(conn)
    _append_only_triggers(conn, s)

    # every lead id seen so far gets its case, and the search index its terms
    from fundwatch.store import LeadStore  # the derived tables are filled by today's code

    LeadStore.rebuild_cases_and_terms(conn, s)

    # dispositions -> case status + one history row each (nothing of them is lost), then drop
    old = sa.Table("dispositions", sa.MetaData(schema=s), autoload_with=conn)
    cases = md.tables[f"{s}.lead_cases" if s else "lead_cases"]
    history = md.tables[f"{s}.lead_history" if s else "lead_history"]
    rows = conn.execute(sa.select(old).order_by(old.c.lead_id)).mappings().all()
    for r in rows:
        now = _now()
        case = conn.execute(sa.select(cases.c.status, cases.c.version, cases.c.last_run_id).where(cases.c.lead_id == r["lead_id"])).first()
        if case is None:  # a decision on a lead no stored run has: keep it all the same
            conn.execute(sa.insert(cases), [{"lead_id": r["lead_id"], "status": "new", "version": 0}])
            case = ("new", 0, None)
        conn.execute(
            sa.update(cases)
            .where(cases.c.lead_id == r["lead_id"])
            .values(status=r["status"], version=case[1] + 1, note=r["note"], updated_at=r["decided_at"] or now,
                    updated_by=MIGRATION_ACTOR, amount_at_decision=r["amount_at_decision"],
                    n_records_at_decision=r["n_records_at_decision"])
        )
        conn.execute(sa.insert(history), [{
            "lead_id": r["lead_id"], "at": r["decided_at"] or now, "actor": MIGRATION_ACTOR, "source": "migration",
            "from_status": case[0], "to_status": r["status"], "note": r["note"],
            "amount_at_risk": r["amount_at_decision"], "n_records": r["n_records_at_decision"],
            "run_id": case[2], "version": case[1] + 1,
        }])
    op.drop_table("dispositions", schema=s)
    sv = sa.Table("schema_version", sa.MetaData(schema=s), autoload_with=conn)
    conn.execute(sa.insert(sv), [{"version": 2, "applied_at": _now()}])
