"""Related leads by the person a lead is about (schema version 4).

``lead_terms`` gains the kind ``subject``: the person or account a lead is *about* (its
``entity_id`` when the entity is a person or an account). The workspace links two leads through
an identity number only when one of them is about that person: a village's lead and a clinic's
lead that both cite one villager among their hundreds of records are no longer "related".
This revision adds the ``subject`` terms of every stored lead; runs written afterwards add their
own.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fundwatch.migrations import schema
from fundwatch.store import TERM_MAX

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

def upgrade() -> None:
    conn = op.get_bind()
    s = schema()
    md = sa.MetaData(schema=s)
    leads = sa.Table("leads", md, autoload_with=conn)
    terms = sa.Table("lead_terms", md, autoload_with=conn)
    # as fundwatch.store.search_term: trimmed, upper case, at most the stored length
    term = sa.func.substr(sa.func.upper(sa.func.trim(leads.c.entity_id)), 1, TERM_MAX)
    have = sa.exists().where(terms.c.lead_id == leads.c.lead_id, terms.c.kind == "subject", terms.c.term == term)
    subjects = (
        sa.select(leads.c.lead_id, sa.literal("subject").label("kind"), term.label("term"))
        .where(leads.c.entity_type.in_(("person", "account")), leads.c.entity_id.is_not(None),
               sa.func.trim(leads.c.entity_id) != "", ~have)
        .distinct()
    )
    conn.execute(sa.insert(terms).from_select(["lead_id", "kind", "term"], subjects))
    sv = sa.Table("schema_version", md, autoload_with=conn)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    conn.execute(sa.insert(sv), [{"version": 4, "applied_at": now}])

