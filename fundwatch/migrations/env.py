"""Alembic environment of the lead store: online only, on the connection the store hands in."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
schema = context.config.attributes.get("schema")
context.configure(
    connection=connection,
    target_metadata=None,  # revisions are written by hand: each one a frozen snapshot
    version_table_schema=schema,
)
with context.begin_transaction():
    context.run_migrations()
