"""The lead store as fundwatch wrote it before the workspace (schema version 1).

Idempotent, so that every older store arrives here by the same path: a store from before
versioning (version 0, tables or columns missing) gets the missing tables and nullable
columns; a version-1 store is only marked. Existing rows are kept.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fundwatch.migrations import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _v1(md: sa.MetaData) -> None:
    """The version-1 tables, frozen (later revisions change them, never this one)."""
    S, T, F, I = sa.String, sa.Text, sa.Float(precision=53), sa.Integer
    sa.Table("schema_version", md, sa.Column("version", I, primary_key=True, autoincrement=False), sa.Column("applied_at", S(40)))
    sa.Table(
        "runs", md,
        sa.Column("seq", I, primary_key=True, autoincrement=True),
        sa.Column("run_id", S(100), nullable=False, unique=True),
        sa.Column("started_at", S(40)), sa.Column("finished_at", S(40)), sa.Column("input_fingerprint", S(128)),
        sa.Column("counts_json", T), sa.Column("unmask", sa.Boolean), sa.Column("settings_hash", S(128)),
        sa.Column("n_leads", I), sa.Column("written_at", S(40)),
    )
    sa.Table(
        "leads", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("rank", I), sa.Column("score", F), sa.Column("severity", S(10)), sa.Column("domain", S(20)),
        sa.Column("entity_type", S(20)), sa.Column("entity_id", S(200)), sa.Column("rule_codes", T), sa.Column("title", T),
        sa.Column("amount_at_risk", F), sa.Column("period_start", S(7)), sa.Column("period_end", S(7)),
        sa.Column("region_code", S(20)), sa.Column("record_ids", T), sa.Column("explanation", T),
        sa.Index("ix_leads_lead_id", "lead_id"),
    )
    sa.Table(
        "evidence", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("record_id", S(200), primary_key=True), sa.Column("record_type", S(20)), sa.Column("date", S(10)),
        sa.Column("person_id", S(64)), sa.Column("name", S(200)), sa.Column("counterparty", S(400)),
        sa.Column("amount", F), sa.Column("description", T),
    )
    sa.Table(
        "dispositions", md,
        sa.Column("lead_id", S(80), primary_key=True), sa.Column("status", S(20), nullable=False), sa.Column("note", T),
        sa.Column("decided_at", S(40)), sa.Column("amount_at_decision", F), sa.Column("n_records_at_decision", I),
    )
    sa.Table(
        "quarantine_summary", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("dataset", S(100), primary_key=True),
        sa.Column("rows_read", I), sa.Column("rows_accepted", I), sa.Column("rows_quarantined", I),
    )


def upgrade() -> None:
    conn = op.get_bind()
    md = sa.MetaData(schema=schema())
    _v1(md)
    md.create_all(conn, checkfirst=True)
    insp = sa.inspect(conn)
    prep = conn.dialect.identifier_preparer
    for table in md.sorted_tables:
        have = {c["name"] for c in insp.get_columns(table.name, schema=table.schema)}
        for col in table.columns:
            if col.name not in have:
                # identifiers come from the frozen definitions above, never from input
                conn.exec_driver_sql(
                    f"ALTER TABLE {prep.format_table(table)} ADD COLUMN {prep.format_column(col)} "
                    f"{col.type.compile(dialect=conn.dialect)}"
                )
    sv = md.tables[f"{schema()}.schema_version" if schema() else "schema_version"]
    if conn.execute(sa.select(sv.c.version).where(sv.c.version == 1)).first() is None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        conn.execute(sa.insert(sv), [{"version": 1, "applied_at": now}])
