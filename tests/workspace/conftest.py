"""Fixtures of the workspace tests: a small store (SQLite, or PostgreSQL in a schema of its own,
dropped afterwards) with hostile names, one user per role, signed-in test clients."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from fundwatch.settings import Settings
from fundwatch.store import LeadStore
from fundwatch.workspace import create_app
from ws_support import PG, Client, seed


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Argon2id with its smallest cost: the tests sign in hundreds of times (the server keeps
    argon2-cffi's defaults; a hash carries its own parameters, so verifying stays correct)."""
    from argon2 import PasswordHasher

    from fundwatch.workspace import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_HASHER", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("no such user"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    """(url, schema) of an empty store; PostgreSQL gets a unique schema, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leads.sqlite'}", None
        return
    if PG is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432 (users postgres/root, database test)")
    schema = f"fw_ws_{uuid.uuid4().hex[:12]}"
    yield PG, schema
    eng = sa.create_engine(PG)
    with eng.begin() as c:
        c.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    eng.dispose()


@pytest.fixture
def sqlite_backend(tmp_path):
    return f"sqlite:///{tmp_path / 'leads.sqlite'}", None


@pytest.fixture
def store(backend):
    st = seed(backend)
    yield st
    st.close()


@pytest.fixture
def make_app():
    def make(st: LeadStore, settings: Settings | None = None):
        return create_app(st, settings or Settings(), testing=True)
    return make


@pytest.fixture
def app(store, make_app):
    return make_app(store)


@pytest.fixture
def client(app):
    return lambda name: Client(app, name)
