"""The supervisors' workspace: ``fundwatch serve --store URL``.

A Flask application on the lead store: a login form, the queue (filters, search, paging,
export), each lead's page (money, explanation, evidence, peers, related leads, history and the
workflow's buttons), the handover form for printing, trends and data quality, the decision
history and access log for auditors, and user management for admins. Served by waitress.

Built on maintained libraries, none of this hand-written: Flask (Jinja2 templates with
auto-escaping, signed session cookies), Flask-WTF (CSRF on every POST), Flask-Login (the
signed-in user), argon2-cffi (password hashes), Alembic (the store's migrations), waitress
(the HTTP server). Every asset is served from this package: it works on an offline intranet.
"""

from __future__ import annotations

from .app import create_app, serve

__all__ = ["create_app", "serve"]
