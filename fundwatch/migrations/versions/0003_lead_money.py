"""Honest money, places and related leads on every stored lead (schema version 3).

``leads`` gains the data contract v2 columns

* ``amount_involved``: money of all the evidence records (>= ``amount_at_risk``);
* ``region_name``: the place's name from ``regions`` (empty where unknown);
* ``related_lead_ids``: JSON list of the run's other leads sharing evidence records;
* ``record_amounts``: JSON list, money in doubt per listed record (parallel to
  ``record_ids``), so that totals over stored leads count a record's money once.

Leads stored before keep null there (read back as 0 / empty / empty lists).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fundwatch.migrations import schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    s = schema()
    op.add_column("leads", sa.Column("amount_involved", sa.Float(precision=53)), schema=s)
    op.add_column("leads", sa.Column("region_name", sa.Text), schema=s)
    op.add_column("leads", sa.Column("related_lead_ids", sa.Text), schema=s)
    op.add_column("leads", sa.Column("record_amounts", sa.Text), schema=s)
    sv = sa.Table("schema_version", sa.MetaData(schema=s), autoload_with=conn)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    conn.execute(sa.insert(sv), [{"version": 3, "applied_at": now}])

