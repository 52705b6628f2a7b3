"""The HTML report in a real browser: Debian's chromium driven by Playwright (no download).

Loads the report from file://, records every request and console message, and drives the
table: sorting, filtering, search, the detail view, paging with 10,000 leads. A hostile name
must render as text and never run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fundwatch import reports

from report_samples import HOSTILE_NAME, make_inputs

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"


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


def _write(out: Path, n: int, **kw) -> Path:
    d = make_inputs(n, hostile=kw.pop("hostile", True))
    return reports.write_report(
        out, leads=d["leads"], status=d["status"], findings=d["findings"], evidence=d["evidence"],
        run_info=d["run_info"], validation_summary=d["validation_summary"], docs_link="validation/index.html",
        quarantine=d["quarantine"], **kw,
    )


class Page:
    """A loaded report with its recorded requests and console errors."""

    def __init__(self, browser, path: Path):
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.ctx.new_page()
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready='1']")

    def ids(self) -> list[str]:
        return self.page.eval_on_selector_all("#leads-body tr[data-lead-id]", "rs => rs.map(r => r.dataset.leadId)")

    def column(self, key: str) -> list[str]:
        idx = self.page.eval_on_selector_all("#leads-head th", f"ths => ths.findIndex(t => t.dataset.key === '{key}')")
        return self.page.eval_on_selector_all(
            "#leads-body tr[data-lead-id]", f"rs => rs.map(r => r.children[{idx}].textContent)"
        )

    def close(self):
        self.ctx.close()


@pytest.fixture
def small(browser, tmp_path):
    pg = Page(browser, _write(tmp_path / "small", 12))
    yield pg
    pg.close()


def test_loads_offline_without_errors_or_requests(small, tmp_path):
    assert small.errors == []
    # masked by default: no whole identity number anywhere on the rendered page
    assert not re.search(r"(?<![0-9])\d{17}[\dX](?![0-9])", small.page.inner_text("body"))
    # the only request is the file itself (no CDN, font, image, favicon or fetch)
    assert small.requests == [small.url]
    assert len(small.ids()) == 12
    shot = tmp_path / "report.png"
    small.page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "report.png")
    assert shot.stat().st_size > 10_000


def test_hostile_name_renders_as_text_and_never_runs(small):
    assert small.page.evaluate("typeof window.__pwned") == "undefined"
    small.page.click("#leads-body tr[data-lead-id='L00001']")
    small.page.wait_for_selector("#detail:not([hidden])")
    cells = small.page.eval_on_selector_all("#detail-evidence td", "tds => tds.map(t => t.textContent)")
    assert HOSTILE_NAME in cells  # as the institution/subsidy column, which is not personal
    assert "<" + "*" * 8 in cells  # the same string as a name: masked
    # text, not markup: no element was made from it
    assert small.page.eval_on_selector_all("#detail-body script, #detail-body img", "els => els.length") == 0
    assert small.page.eval_on_selector_all("img", "els => els.length") == 0
    assert small.page.evaluate("typeof window.__pwned") == "undefined"
    small.page.click("#detail-close")
    small.page.click("#leads-body tr[data-lead-id='L00002']")
    assert small.page.text_content("#detail-explanation") == "</script><script>window.__pwned=3</script>"
    assert small.page.evaluate("typeof window.__pwned") == "undefined"
    assert small.errors == []


def _yuan(text: str) -> float:
    """``2.22万元`` / ``1,640.00元`` / ``1,640.00`` as yuan."""
    text = text.replace(",", "")
    if text.endswith("万元"):
        return float(text[:-2]) * 1e4
    return float(text.removesuffix("元"))


def test_sorting_changes_the_visible_order(small):
    assert small.ids()[:3] == ["L00000", "L00001", "L00002"]
    small.page.click("#leads-head th[data-key='amount']")
    amounts = [_yuan(a) for a in small.column("amount")]
    assert amounts == sorted(amounts, reverse=True)
    small.page.click("#leads-head th[data-key='amount']")
    amounts = [_yuan(a) for a in small.column("amount")]
    assert amounts == sorted(amounts)
    small.page.click("#leads-head th[data-key='rank']")
    ranks = [int(r) for r in small.column("rank")]
    assert ranks == sorted(ranks)


def test_filters_and_search_change_the_visible_rows(small):
    small.page.select_option("#f-domain", "medical")
    assert 0 < len(small.ids()) < 12
    small.page.select_option("#f-domain", "")
    small.page.select_option("#f-rule", "VILLAGE_OUTLIER")
    assert small.ids() == ["L00003", "L00009"]
    small.page.select_option("#f-rule", "")
    small.page.select_option("#f-severity", "high")
    sev = set(small.column("severity"))
    assert sev == {"高"}
    small.page.select_option("#f-severity", "")
    small.page.select_option("#f-status", "confirmed")
    assert small.ids() == ["L00002", "L00007"]
    small.page.select_option("#f-status", "")
    small.page.select_option("#f-region", "510303")
    assert all(r.startswith("510303") for r in small.column("region")) and small.ids()
    small.page.select_option("#f-region", "")
    small.page.fill("#f-search", "L00011")
    assert small.ids() == ["L00011"]
    small.page.fill("#f-search", "D000007-1")  # a record id finds the lead citing it
    assert small.ids() == ["L00007"]
    small.page.fill("#f-search", "no such lead anywhere")
    assert small.ids() == []
    small.page.click("#f-reset")
    assert len(small.ids()) == 12


def test_detail_view_shows_rules_evidence_and_peers(small):
    small.page.click("#leads-body tr[data-lead-id='L00003']")  # a village outlier (model lead)
    small.page.wait_for_selector("#detail:not([hidden])")
    body = small.page.text_content("#detail-body")
    assert "村(社区)发放异常" in body
    assert not re.search(r"[A-Z]{3,}_[A-Z_]+", body), "no rule code inside the Chinese detail"
    assert "同县(区)" in body  # the peer group "county 510302" in words
    # the rule's policy basis (依据) and what to check (核查要点)
    from fundwatch.rules_catalog import RULES

    assert "依据" in body and RULES["VILLAGE_OUTLIER"].basis_zh in body
    assert "核查要点" in body and small.page.eval_on_selector_all("#detail-body ol.checklist li", "c => c.length") >= 1
    assert small.page.eval_on_selector_all("#detail-body svg.peer-chart circle", "c => c.length") > 10
    assert small.page.eval_on_selector_all("#detail-body svg.peer-chart .peer-value", "c => c.length") == 1
    assert small.page.eval_on_selector_all("#detail-evidence tbody tr", "r => r.length") == 1
    small.page.click("#detail-close")
    assert small.page.is_hidden("#detail")


def test_paging_with_10000_leads(browser, tmp_path):
    pg = Page(browser, _write(tmp_path / "big", 10_000, hostile=False, lang="en"))
    try:
        assert pg.errors == [] and pg.requests == [pg.url]
        assert len(pg.ids()) == 50
        assert pg.ids()[0] == "L00000"
        assert "10000" in pg.page.text_content("#page-info").replace(",", "")
        pg.page.click("#btn-next")
        assert pg.ids()[0] == "L00050"
        pg.page.click("#btn-last")
        assert pg.ids()[-1] == "L09999"
        pg.page.select_option("#page-size", "200")
        assert len(pg.ids()) == 200 and pg.ids()[0] == "L00000"
        pg.page.click("#leads-head th[data-key='amount']")
        amounts = [_yuan(a) for a in pg.column("amount")]
        assert amounts == sorted(amounts, reverse=True)
        pg.page.select_option("#f-status", "dismissed")
        assert "2000" in pg.page.text_content("#page-info").replace(",", "")
        pg.page.screenshot(path=str(tmp_path / "report-10k.png"))
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "report-10k.png", ARTIFACTS / "report-10k.png")
    finally:
        pg.close()


def _artifact(page, name: str, **kw) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **kw)
    return path


def test_first_screen_is_the_lead_list(browser, tmp_path):
    """At 1024 px the cards and the lead list are on the first screen, every column visible."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    try:
        page.goto(_write(tmp_path / "first", 12).as_uri())
        page.wait_for_selector("body[data-ready='1']")
        first_row = page.locator("#leads-body tr").first.bounding_box()
        assert first_row["y"] + first_row["height"] < 768, "the first lead is below the first screen"
        for key in ("region", "status", "amount"):
            box = page.locator(f"#leads-head th[data-key='{key}']").bounding_box()
            assert box["x"] + box["width"] <= 1024, f"column {key} is cut off at 1024 px"
        assert page.is_hidden("#overview") and page.is_hidden("#validation")  # on their own tabs
        page.click("#tab-validation")
        assert page.is_visible("#validation") and page.is_hidden("#leads")
        text = page.inner_text("#validation")
        assert "人员基础信息" in text  # dataset names in Chinese
        assert "不是有效" in text or "身份证号" in text  # quarantine reasons in Chinese
        page.click("#tab-leads")
        header = page.inner_text("header")
        assert "北京时间" in header and "UTC" not in header
        assert "万元" in header or "元" in header
        _artifact(page, "report-first-screen.png")
    finally:
        ctx.close()


def test_detail_panel_link_keyboard_and_print(browser, tmp_path):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    try:
        path = _write(tmp_path / "detail", 12, hostile=False)
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        # keyboard: focus the first row, arrow down, Enter opens the second lead
        page.focus("#leads-body tr[data-lead-id='L00000']")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail:not([hidden])")
        assert page.evaluate("location.hash") == "#lead=L00001"
        # the panel's bar does not cover the title or the close button
        title, close = page.locator("#detail-title").bounding_box(), page.locator("#detail-close").bounding_box()
        assert title["y"] >= 0 and close["y"] >= 0 and title["width"] > 200
        # scrolled down, closed with Escape (focus back on the row), the next lead opens at its top
        page.evaluate("document.getElementById('detail').scrollTop = 400")
        page.keyboard.press("Escape")
        assert page.is_hidden("#detail")
        assert page.evaluate("document.activeElement.dataset.leadId") == "L00001"
        page.click("#leads-body tr[data-lead-id='L00004']")
        assert page.evaluate("document.getElementById('detail').scrollTop") == 0
        _artifact(page, "report-lead-detail.png")
        # print view: only the lead
        page.evaluate("window.print = function () {}")
        page.click("#detail-print")
        page.emulate_media(media="print")
        assert page.is_hidden("#leads-table") and page.is_visible("#detail-title")
        _artifact(page, "report-print-view.png", full_page=True)
        page.emulate_media(media="screen")
        # a link to one lead opens it in a fresh page
        other = ctx.new_page()
        other.goto(path.as_uri() + "#lead=L00009")
        other.wait_for_selector("#detail:not([hidden])")
        assert "L00009" in other.text_content("#detail-facts")
    finally:
        ctx.close()
