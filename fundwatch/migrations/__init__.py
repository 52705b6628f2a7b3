"""Alembic migrations of the lead store, shipped inside the package (``pip install`` carries them).

:meth:`fundwatch.store.LeadStore.migrate` runs them on open; nobody needs an ``alembic.ini``.
``env.py`` takes the connection (already inside the store's write lock) and the PostgreSQL
schema from ``config.attributes``; each revision reads the schema with :func:`schema`.
"""

from __future__ import annotations


def schema() -> str | None:
    """The PostgreSQL schema the store lives in (None: the default one, and always on SQLite)."""
    from alembic import context

    return context.config.attributes.get("schema")
