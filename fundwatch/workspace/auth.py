"""Users, passwords, sign-in throttling and who may open which page.

Passwords are hashed with Argon2id (argon2-cffi); sessions are Flask's signed cookies, the user
is kept by Flask-Login as ``"<id>:<token>"`` so that changing a user's password, role or
active flag ends their sessions at once (a new token). Failed sign-ins are rows in the store
(``login_failures``): the lockout survives a restart and holds across server processes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_login import UserMixin

from fundwatch.errors import InputError
from fundwatch.store import ROLES, LeadStore

_HASHER = PasswordHasher()
#: Verified against when the user name is unknown, so that the answer takes as long.
_DUMMY_HASH = _HASHER.hash("fundwatch: no such user")
MIN_PASSWORD_CHARS = 8

ALL_ROLES = frozenset(ROLES)
READERS = frozenset(ROLES)
DECIDERS = frozenset({"reviewer", "leader"})
REVEALERS = frozenset({"leader", "admin"})

#: Endpoint -> roles allowed. Endpoints not listed are refused to everyone signed in (fail
#: closed); ``None`` marks the pages an anonymous visitor may open.
ROUTE_ROLES: dict[str, frozenset[str] | None] = {
    "ws.login": None,
    "static": None,
    "ws.logout": ALL_ROLES,
    "ws.set_lang": ALL_ROLES,
    "ws.index": ALL_ROLES,
    "ws.queue": READERS,
    "ws.export": READERS,
    "ws.import_decisions": DECIDERS,
    "ws.lead": READERS,
    "ws.act": DECIDERS,
    "ws.reveal": REVEALERS,
    "ws.print_lead": READERS,
    "ws.handover": frozenset({"leader", "auditor", "admin"}),
    "ws.trends": READERS,
    "ws.audit_history": frozenset({"leader", "auditor", "admin"}),
    "ws.access_log": frozenset({"auditor", "admin"}),
    "ws.users": frozenset({"admin"}),
    "ws.add_user": frozenset({"admin"}),
    "ws.change_user": frozenset({"admin"}),
}


class User(UserMixin):
    """A signed-in user (what Flask-Login keeps)."""

    def __init__(self, row: dict[str, Any]):
        self.id_ = row["id"]
        self.name = row["name"]
        self.role = row["role"]
        self.token = row["token"]
        self.active_ = bool(row["active"])

    def get_id(self) -> str:
        return f"{self.id_}:{self.token}"

    @property
    def is_active(self) -> bool:
        return self.active_


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (InputError when it is too short)."""
    if password is None or len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"a password needs at least {MIN_PASSWORD_CHARS} characters", zh=f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def load_user(store: LeadStore, user_id: str) -> User | None:
    """The user of a session id ``"<id>:<token>"``; None when unknown, inactive or the token changed."""
    try:
        uid, token = user_id.split(":", 1)
        row = store.user(user_id=int(uid))
    except (ValueError, AttributeError):
        return None
    if row is None or not row["active"] or row["token"] != token:
        return None
    return User(row)


def throttle_keys(name: str) -> list[str]:
    """Failed sign-ins are counted per user name. Not per address: on an intranet behind one
    proxy every user shares an address, and a guesser would lock everyone out."""
    return [f"user:{name.strip().lower()}"]


def is_locked(store: LeadStore, keys: list[str], failures: int, minutes: float) -> bool:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).replace(microsecond=0).isoformat()
    return any(store.login_failures_since(k, since) >= failures for k in keys)


def add_user(store: LeadStore, name: str, role: str, password: str, created_by: str | None = None) -> dict[str, Any]:
    """Create a user with a hashed password (InputError: taken name, unknown role, short password)."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: use one of {'/'.join(ROLES)}",
                         zh=f"未知的角色 {role!r}:可用 {'/'.join(ROLES)}(核查员/负责人/审计/管理员)")
    return store.add_user(name, role, hash_password(password), created_by=created_by)
