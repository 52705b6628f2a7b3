"""Security of the workspace: who may open what (every route, every role), CSRF on every
state-changing request, cookie flags, session expiry, lockout that survives a restart, SQL only
through bound parameters, the history unchangeable through any route."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import event

from fundwatch.settings import Settings, WorkspaceSettings
from fundwatch.workspace import auth

from ws_support import PASSWORD, ROLES, SQLI, Client, csrf_of, seed

LEAD = "FW-0000000000000005"  # in the latest run only: unassigned, new
ANON = None

#: endpoint -> (method, path, form data, roles allowed, status when allowed)
MATRIX = {
    "ws.login": ("GET", "/login", None, None, 200),
    "static": ("GET", "/static/app.css", None, None, 200),
    "ws.index": ("GET", "/", None, set(ROLES), 302),
    "ws.queue": ("GET", "/queue?q=张&status=new&sort=amount", None, set(ROLES), 200),
    "ws.export": ("GET", "/queue/export", None, set(ROLES), 200),
    "ws.import_decisions": ("POST", "/queue/import", {}, {"reviewer", "leader"}, 302),
    "ws.lead": ("GET", f"/leads/{LEAD}", None, set(ROLES), 200),
    "ws.act": ("POST", f"/leads/{LEAD}/act", {"action": "claim", "note": "领取", "version": "0"}, {"reviewer", "leader"}, 303),
    "ws.reveal": ("POST", f"/leads/{LEAD}/reveal", {}, {"leader", "admin"}, 200),
    "ws.print_lead": ("GET", f"/leads/{LEAD}/print", None, set(ROLES), 200),
    "ws.handover": ("GET", f"/handover?ids={LEAD}", None, {"leader", "auditor", "admin"}, 200),
    "ws.trends": ("GET", "/trends", None, set(ROLES), 200),
    "ws.audit_history": ("GET", "/audit/history", None, {"leader", "auditor", "admin"}, 200),
    "ws.access_log": ("GET", "/audit/access", None, {"auditor", "admin"}, 200),
    "ws.users": ("GET", "/users", None, {"admin"}, 200),
    "ws.add_user": ("POST", "/users", {"name": "newbie", "role": "reviewer", "password": PASSWORD}, {"admin"}, 303),
    "ws.change_user": ("POST", "/users/1", {"role": "reviewer", "active": "1"}, {"admin"}, 303),
    "ws.set_lang": ("POST", "/lang", {"lang": "en", "next": "/queue"}, set(ROLES), 302),
    "ws.logout": ("POST", "/logout", {}, set(ROLES), 302),
}


def test_the_matrix_covers_every_route(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints == set(MATRIX), "a route without a row in the role x route matrix"
    assert endpoints <= set(auth.ROUTE_ROLES), "a route the server would refuse to everyone"


def _expected(endpoint: str, role: str | None) -> int:
    method, _, _, allowed, ok = MATRIX[endpoint]
    if allowed is None:  # pages for anonymous visitors
        return 302 if (endpoint == "ws.login" and role) else ok
    if role is None:
        return 302  # to the login form
    return ok if role in allowed else 403


@pytest.mark.parametrize("role", [ANON, *ROLES])
def test_role_by_route_matrix(app, role):
    got = {}
    c = Client(app, role)
    for endpoint, (method, path, data, _, _) in MATRIX.items():  # logout last: it ends the session
        r = c.get(path) if method == "GET" else c.post(path, data=data)
        got[endpoint] = r.status_code
        if role is None and r.status_code == 302 and endpoint not in ("ws.login", "static"):
            assert "/login" in r.headers["Location"]
    assert got == {e: _expected(e, role) for e in MATRIX}


def test_reviewer_sees_the_unassigned_pool_and_their_own_leads_only(app, store):
    boss = Client(app, "leader")
    lead1 = "FW-0000000000000001"
    r = boss.post(f"/leads/{lead1}/act", {"action": "assign", "note": "请核查", "version": store.case(lead1)["version"], "assignee": "reviewer2"})
    assert r.status_code == 303 and store.case(lead1)["assignee"] == "reviewer2"
    me, other = Client(app, "reviewer"), Client(app, "reviewer2")
    assert me.get(f"/leads/{lead1}").status_code == 403
    assert me.post(f"/leads/{lead1}/act", {"action": "dismiss", "note": "x", "version": store.case(lead1)["version"]}).status_code == 403
    assert lead1 not in me.get("/queue").text and "FW-0000000000000002" in me.get("/queue").text
    assert other.get(f"/leads/{lead1}").status_code == 200 and lead1 in other.get("/queue").text


POSTS = [e for e, row in MATRIX.items() if row[0] == "POST"]


@pytest.mark.parametrize("endpoint", POSTS)
def test_every_state_changing_request_needs_the_csrf_token(app, store, endpoint):
    _, path, data, allowed, _ = MATRIX[endpoint]
    role = "admin" if "admin" in allowed else "leader"
    c = Client(app, role)
    before = (store.history(), store.users(), store.case(LEAD))
    n_access = len(store.access_log(limit=10_000))
    r = c.post(path, data=data, csrf=False)
    assert r.status_code == 400
    r = c.post(path, data={**(data or {}), "csrf_token": "forged"}, csrf=False)
    assert r.status_code == 400
    assert (store.history(), store.users(), store.case(LEAD)) == before
    assert len(store.access_log(limit=10_000)) == n_access
    assert c.get("/queue").status_code == 200  # still signed in: the refused logout did nothing


def test_session_cookie_flags(store, make_app):
    for secure in (False, True):
        app = make_app(store, Settings(workspace=WorkspaceSettings(cookie_secure=secure)))
        c = app.test_client()
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"name": "leader", "password": PASSWORD, "csrf_token": token})
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("fundwatch_session=")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie
        assert ("Secure" in cookie) is secure
    r = c.get("/queue")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"] and r.headers["Cache-Control"] == "no-store"


def test_sessions_expire_after_a_working_day_and_when_idle(store, make_app):
    app = make_app(store)
    c = Client(app, "leader")
    assert c.get("/queue").status_code == 200
    with c.c.session_transaction() as s:
        s["login_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)).isoformat()
    r = c.get("/queue")
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert c.get("/queue").status_code == 302  # the session is gone, not just this request

    idle = make_app(store, Settings(workspace=WorkspaceSettings(session_idle_minutes=1 / 60)))
    c = Client(idle, "leader")
    assert c.get("/queue").status_code == 200
    time.sleep(2.5)  # the signed cookie's timestamp is older than the idle limit now
    assert c.get("/queue").status_code == 302


def test_a_changed_password_ends_the_users_sessions(app, store):
    c = Client(app, "reviewer")
    admin = Client(app, "admin")
    uid = store.user(name="reviewer")["id"]
    assert admin.post(f"/users/{uid}", {"role": "reviewer", "active": "1", "password": "another pass 77"}).status_code == 303
    assert c.get("/queue").status_code == 302


def test_lockout_after_repeated_failures_survives_a_restart(backend, make_app):
    st = seed(backend)
    app = make_app(st)
    c = app.test_client()
    n = Settings().workspace.lockout_failures
    for _ in range(n):
        r = c.post("/login", data={"name": "leader", "password": "wrong", "csrf_token": csrf_of(c.get("/login").text)})
        assert r.status_code == 401
    r = c.post("/login", data={"name": "leader", "password": PASSWORD, "csrf_token": csrf_of(c.get("/login").text)})
    assert r.status_code == 429 and "锁定" in r.text
    st.close()
    # a restarted server on the same store: still locked, and the failures are in the access log
    from fundwatch.store import LeadStore

    url, schema = backend
    st2 = LeadStore(url, schema=schema)
    c2 = make_app(st2).test_client()
    r = c2.post("/login", data={"name": "leader", "password": PASSWORD, "csrf_token": csrf_of(c2.get("/login").text)})
    assert r.status_code == 429
    assert [a["action"] for a in st2.access_log()][:2] == ["login_locked", "login_locked"]
    assert sum(a["action"] == "login_failed" for a in st2.access_log()) == n
    # other users are not locked out
    r = c2.post("/login", data={"name": "auditor", "password": PASSWORD, "csrf_token": csrf_of(c2.get("/login").text)})
    assert r.status_code == 302
    st2.close()


def test_sql_only_through_bound_parameters(app, store):
    """Hostile text in every field the routes read never reaches a SQL statement's text."""
    statements: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        leader = Client(app, "leader")
        q = "&".join(f"{k}={SQLI}" for k in ("q", "run", "domain", "rule", "place", "severity", "status", "assignee", "entity_type"))
        r = leader.get(f"/queue?{q}&sort={SQLI}&page={SQLI}")
        assert r.status_code == 200 and "FW-000000000000000" not in r.text  # matches nothing, returns nothing
        assert leader.get(f"/leads/{SQLI}").status_code == 404
        leader.post(f"/leads/{LEAD}/act", {"action": "claim", "note": SQLI, "version": "0"})
        Client(app, "admin").post("/users", {"name": SQLI, "role": "reviewer", "password": SQLI})
        Client(app, "admin").get(f"/handover?ids={SQLI}")
        app.test_client().post("/login", data={"name": SQLI, "password": SQLI})
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    assert statements and not [s for s in statements if "OR '1'='1'" in s or "DROP TABLE" in s]
    assert store.history(LEAD)[-1]["note"] == SQLI  # kept as data
    assert store.user(name=SQLI)["role"] == "reviewer"


def test_no_route_can_change_or_delete_history(app, store):
    """Every route, every role, hostile data: the history only ever grows, rows stay as written."""
    Client(app, "leader").post(f"/leads/{LEAD}/act", {"action": "claim", "note": "first", "version": "0"})
    before = store.history()
    assert len(before) == 1
    hostile = {"note": SQLI, "action": "reopen", "version": "1", "id": str(before[0]["id"]), "lead_id": LEAD,
               "to_status": "closed", "assignee": "x", "confirmed_amount": "1", "recovered_amount": "1"}
    for role in ROLES:
        c = Client(app, role)
        token = c.token("/queue")  # valid for the whole session
        for endpoint, (_method, path, data, _, _) in MATRIX.items():
            if endpoint == "ws.logout":
                continue
            for m in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                c.c.open(path, method=m, data={**(data or {}), **hostile, "csrf_token": token})
        for path in ("/history/1", f"/leads/{LEAD}/history", "/audit/history/1"):
            for m in ("POST", "PUT", "DELETE", "PATCH"):
                assert c.c.open(path, method=m, data={"csrf_token": token}).status_code in (404, 405)
    after = store.history()
    assert after[: len(before)] == before


def test_a_restart_loses_nothing(backend, make_app):
    from fundwatch.store import LeadStore

    st = seed(backend)
    app = make_app(st)
    c = Client(app, "leader")
    c.post(f"/leads/{LEAD}/act", {"action": "assign", "note": "请核查", "version": "0", "assignee": "reviewer"})
    c.post(f"/leads/{LEAD}/reveal", {})
    cookie = c.c.get_cookie("fundwatch_session").value
    state = (st.history(), st.case(LEAD), st.users(), st.access_log())
    st.close()

    st2 = LeadStore(backend[0], schema=backend[1])
    app2 = make_app(st2)
    assert (st2.history(), st2.case(LEAD), st2.users(), st2.access_log()) == state
    c2 = app2.test_client()
    c2.set_cookie("fundwatch_session", cookie)  # the signing key is in the store: still signed in
    r = c2.get(f"/leads/{LEAD}")
    assert r.status_code == 200 and "请核查" in r.text
    st2.close()
