"""The Flask application factory and the server."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from fundwatch.settings import DEFAULT_SETTINGS, Settings
from fundwatch.store import LeadStore

from . import auth
from .i18n import LANGS, word
from .queries import Reader

#: Content-Security-Policy: nothing but this server's own files; no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(
    store: LeadStore | str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    schema: str | None = None,
    testing: bool = False,
) -> Flask:
    """The workspace on ``store`` (a :class:`LeadStore` or its URL; migrated on open)."""
    if not isinstance(store, LeadStore):
        store = LeadStore(store, settings, schema=schema)
    ws = settings.workspace
    here = Path(__file__).parent
    app = Flask(__name__, template_folder=str(here / "templates"), static_folder=str(here / "static"))
    app.config.update(
        # one key per store, kept in it: a restarted server (or a second one) signs alike
        SECRET_KEY=store.secret("session_key", lambda: secrets.token_hex(32)),
        SESSION_COOKIE_NAME="fundwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=ws.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=ws.session_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which expires itself
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        TESTING=testing,
    )
    app.extensions["fundwatch_store"] = store
    app.extensions["fundwatch_reader"] = Reader(store)
    app.extensions["fundwatch_settings"] = settings
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "ws.login"
    login.login_message = None
    login.session_protection = "basic"

    @login.user_loader
    def _load(user_id: str):
        return auth.load_user(store, user_id)

    from .views import bp

    app.register_blueprint(bp)

    @app.before_request
    def _open_reads():
        # one database connection for the reads of a request (PostgreSQL), closed at teardown
        g.fundwatch_reading = store.reading()
        g.fundwatch_reading.__enter__()

    @app.teardown_request
    def _close_reads(_exc):
        reading = g.pop("fundwatch_reading", None)
        if reading is not None:
            reading.__exit__(None, None, None)

    @app.before_request
    def _before():
        g.lang = session.get("lang", "zh") if session.get("lang") in LANGS else "zh"
        session.permanent = True
        if current_user.is_authenticated:
            started = session.get("login_at")
            limit = dt.timedelta(hours=ws.session_absolute_hours)
            if not started or dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(started) > limit:
                logout_user()
                session.clear()
                return redirect(url_for("ws.login", expired=1))
        # authorisation, on the server, for every route: fail closed
        endpoint = request.endpoint
        if endpoint is None:
            return None  # 404 follows
        allowed = auth.ROUTE_ROLES.get(endpoint, frozenset())
        if allowed is None:
            return None
        if not current_user.is_authenticated:
            return login.unauthorized()
        if current_user.role not in allowed:
            return _error(403, "forbidden")
        return None

    @app.after_request
    def _headers(resp):
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"  # pages carry personal data
        return resp

    def _error(code: int, key: str):
        return render_template("error.html", code=code, message=word(key, g.get("lang", "zh"))), code

    app.errorhandler(403)(lambda e: _error(403, "forbidden"))
    app.errorhandler(404)(lambda e: _error(404, "not_found"))
    app.errorhandler(400)(lambda e: _error(400, "bad_request"))
    app.errorhandler(CSRFError)(lambda e: _error(400, "bad_request"))
    return app


def serve(store_url: str, host: str = "127.0.0.1", port: int = 8000, settings: Settings = DEFAULT_SETTINGS,
          schema: str | None = None, processes: int | None = None) -> None:
    """Serve the workspace with waitress until interrupted.

    The socket is bound once here; on POSIX ``processes`` (default
    ``settings.workspace.server_processes``) waitress processes are forked to accept on it, as
    a pre-fork server does, each with its own application and database connections.
    """
    import os
    import signal
    import socket

    from waitress import serve as waitress_serve

    ws = settings.workspace
    processes = processes or ws.server_processes
    # open (and migrate) the store once before forking: a bad URL fails here, in one line
    LeadStore(store_url, settings, schema=schema).close()
    sock = socket.create_server((host, port), backlog=1024)
    if processes <= 1 or not hasattr(os, "fork"):
        waitress_serve(create_app(store_url, settings, schema=schema), sockets=[sock], threads=ws.server_threads, ident="fundwatch")
        return
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # a worker: its own app, engine and pool after the fork
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                waitress_serve(create_app(store_url, settings, schema=schema), sockets=[sock], threads=ws.server_threads,
                               ident="fundwatch")
            finally:
                os._exit(0)
        children.append(pid)
    sock.close()

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, lambda *_: (stop(), os._exit(0)))
    try:
        for pid in children:
            os.waitpid(pid, 0)
    except KeyboardInterrupt:
        stop()
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
