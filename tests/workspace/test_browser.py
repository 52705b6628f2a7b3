"""The workspace in a real browser, through the real server: waitress on a free port, Debian's
chromium driven by Playwright. A reviewer signs in, filters, opens a lead, records a decision
and sees it in the history; a leader assigns, confirms, hands over and prints the handover form;
an auditor can read everything and change nothing. Hostile names never run. Screenshots are
kept under tests/workspace/artifacts/ (git-ignored)."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from fundwatch.settings import Settings

from ws_support import PASSWORD, XSS, seed

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"
LEAD0 = "FW-0000000000000000"
LEAD5 = "FW-0000000000000005"


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright for Python is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(sqlite_backend):
    """The workspace served by waitress on a free port of 127.0.0.1, as `fundwatch serve` does."""
    from waitress.server import create_server

    from fundwatch.workspace import create_app

    st = seed(sqlite_backend)
    app = create_app(st, Settings())
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", st
    srv.close()
    thread.join(timeout=10)
    st.close()


class Session:
    """One browser context: its own cookies, every dialog and outside request recorded."""

    def __init__(self, browser, base: str, name: str):
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.base = base
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: None if r.url.startswith(base) else self.outside.append(r.url))
        self.page.goto(base + "/")
        assert "/login" in self.page.url  # an anonymous visitor lands on the login form
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit].primary")
        self.page.wait_for_url(re.compile(r".*/queue.*"))

    def shot(self, name: str, full: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def act(self, action_label: str, note: str, **fields) -> None:
        self.page.fill("form#decide textarea[name=note]", note)
        for name, value in fields.items():
            if name == "assignee":
                self.page.select_option("form#decide select[name=assignee]", value)
            else:
                self.page.fill(f"form#decide input[name={name}]", value)
        self.page.click(f"form#decide button:has-text('{action_label}')")
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        assert self.dialogs == [], f"a script ran: {self.dialogs}"
        assert self.outside == [], f"requests left the machine: {self.outside}"
        self.ctx.close()


def test_reviewer_filters_opens_a_lead_decides_and_sees_the_history(browser, server):
    base, store = server
    s = Session(browser, base, "reviewer")
    p = s.page
    p.select_option("select[name=domain]", "subsidy")
    p.click("button:has-text('筛选')")
    p.wait_for_url(re.compile(r".*domain=subsidy.*"))
    rows = p.locator("table.queue tbody tr")
    assert rows.count() == 3
    first_title = rows.nth(0).locator("a").inner_text()
    assert "<script>" in first_title  # the hostile title is shown as text
    assert "110105194912310000" not in p.content()  # masked
    s.shot("reviewer-queue")
    p.click(f"a[href^='/leads/{LEAD0}']")
    p.wait_for_url(re.compile(f".*/leads/{LEAD0}.*"))
    assert p.locator("h1").inner_text().endswith('<img src=x onerror=alert(1)>')
    s.shot("reviewer-lead")
    s.act("领取", "本人领取核查")
    assert "已保存" in p.locator(".flash").inner_text()
    s.act("开始核查", "已调取户籍与发放记录")
    s.act("排除", f"监护人代领,已核实 {XSS}")
    assert p.locator(".status").first.inner_text() == "已排除"
    history = p.locator("#history table tbody tr")
    assert history.count() == 3
    assert "监护人代领" in history.nth(2).inner_text() and "<script>" in history.nth(2).inner_text()
    s.shot("reviewer-history")
    assert [h["actor"] for h in store.history(LEAD0)] == ["reviewer"] * 3
    s.close()


def test_leader_assigns_hands_over_and_prints_the_handover_form(browser, server):
    base, store = server
    s = Session(browser, base, "leader")
    p = s.page
    p.goto(f"{base}/leads/{LEAD5}")
    s.act("分派", "请于三日内核查", assignee="reviewer")
    assert "reviewer" in p.locator("p.meta").inner_text()
    s.act("核实属实", "经核查属实", confirmed_amount="800.50")
    s.act("批准移交", "移交区纪委监委第二室")
    assert p.locator(".status").first.inner_text() == "已移交"
    s.shot("leader-lead-handed-over")
    p.click("a:has-text('打印移交登记表')")
    p.wait_for_url(re.compile(".*/print$"))
    form = p.locator("article.form-page")
    assert form.count() == 1 and "问题线索移交登记表" in form.inner_text() and "审批人签字" in form.inner_text()
    assert "800.50" in form.inner_text() and "移交区纪委监委第二室" in form.inner_text()
    s.shot("leader-handover-form")
    # two leads: one printed page each
    p.goto(f"{base}/handover?ids={LEAD5},{LEAD0}")
    pdf = p.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    (ARTIFACTS / "handover-two-leads.pdf").write_bytes(pdf)
    assert [h["to_status"] for h in store.history(LEAD5)] == ["assigned", "confirmed", "handed_over"]
    s.close()


def test_auditor_reads_everything_and_changes_nothing(browser, server):
    base, store = server
    before = store.history()
    s = Session(browser, base, "auditor")
    p = s.page
    p.goto(f"{base}/leads/{LEAD0}")
    assert p.locator("form#decide").count() == 0 and p.locator("button:has-text('显示完整身份信息')").count() == 0
    token = p.locator("input[name=csrf_token]").first.get_attribute("value")
    for path, data in ((f"/leads/{LEAD0}/act", {"action": "claim", "note": "x", "version": "0"}),
                       (f"/leads/{LEAD0}/reveal", {}), ("/users", {"name": "x", "role": "admin", "password": "xxxxxxxxxx"})):
        r = p.request.post(base + path, form={**data, "csrf_token": token})
        assert r.status == 403, path
    p.goto(f"{base}/audit/history")
    assert p.locator("h2").first.inner_text() == "处置记录"
    p.goto(f"{base}/audit/access")
    s.shot("auditor-access-log")
    p.goto(f"{base}/trends")
    assert p.locator("#quality table tbody tr").count() == 2
    s.shot("auditor-trends")
    assert store.history() == before and store.users()[0]["name"] != "x"
    s.close()
