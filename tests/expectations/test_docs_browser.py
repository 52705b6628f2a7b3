"""Data Docs and the auditors' page in Debian's chromium with the network blocked.

Every request that is not a file of the site is aborted; the pages must still show their
status icons and "Failed Only" must filter the results. Screenshots go to
``tests/reports/artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from validation_frames import MUTATIONS, mutated_frames

from fundwatch.expectations import validate

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "reports" / "artifacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    frames, _ = mutated_frames(MUTATIONS)
    out = tmp_path_factory.mktemp("docs")
    res = validate({k: frames[k] for k in ("persons", "disbursements", "claims")}, out)
    return res


@pytest.fixture(scope="module")
def context():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.blocked = []

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                ctx.blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        yield ctx
        browser.close()


def test_failed_only_works_with_the_network_blocked(site, context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site.docs_index.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data-docs-index.png"))
    target = next(p for p in (site.docs_index.parent / "validations").rglob("persons.html"))
    page.goto(target.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.jQuery") == "function"  # the bundled jQuery ran
    rows = page.locator("table tbody tr")
    shown_before = sum(1 for i in range(rows.count()) if rows.nth(i).is_visible())
    page.get_by_text("Failed Only").first.click()
    # the filter hides rows from a click handler: wait until it has (a busy machine is slow),
    # up to 10 s, instead of a fixed pause
    visible_rows = "[...document.querySelectorAll('table tbody tr')].filter(r => r.offsetParent !== null).length"
    try:
        page.wait_for_function(f"{visible_rows} < {shown_before}", timeout=10_000)
    except Exception:  # the assertion below says what was seen
        pass
    shown_after = sum(1 for i in range(rows.count()) if rows.nth(i).is_visible())
    assert 0 < shown_after < shown_before, (shown_before, shown_after)
    page.screenshot(path=str(ARTIFACTS / "data-docs-failed-only.png"), full_page=False)
    page.get_by_text("Show more info").first.click()
    assert errors == [] and context.blocked == []
    page.close()


def test_auditors_page_screenshot(site, context):
    page = context.new_page()
    page.goto(site.audit_pages["zh"].as_uri())
    assert page.locator("#audit-counts tbody tr").count() == 3
    page.screenshot(path=str(ARTIFACTS / "audit-page-zh.png"), full_page=True)
    assert context.blocked == []
    page.close()
