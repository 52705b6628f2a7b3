"""The workspace as its users see it: the queue's filters, search and paging; a lead's page with
masked identifiers, peers, related leads and history; reveal (logged); decisions and the
message when two reviewers decide one lead at once; the handover form; trends; the workbook
export (formula-safe) and its re-import as the importing user."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from ws_support import FORMULA, HOSTILE_NAME, PERSON, XSS, Client, seed, sql_statements

LEAD0 = "FW-0000000000000000"
LEAD5 = "FW-0000000000000005"


@pytest.fixture
def sq_store(sqlite_backend):
    st = seed(sqlite_backend)
    yield st
    st.close()


@pytest.fixture
def sq_app(sq_store, make_app):
    return make_app(sq_store)


def ids_on(html: str) -> list[str]:
    return re.findall(r'href="/leads/(FW-[0-9a-f]{16})', html)


def test_queue_filters_search_sort_and_paging(sq_app, sq_store):
    c = Client(sq_app, "leader")
    assert ids_on(c.get("/queue").text) == [f"FW-{i:016x}" for i in range(6)]  # latest run, by rank
    assert ids_on(c.get("/queue?run=run-1").text) == [f"FW-{i:016x}" for i in range(5)]
    assert ids_on(c.get("/queue?new=1").text) == [LEAD5]  # new since the previous run
    assert ids_on(c.get("/queue?domain=medical").text) == ["FW-0000000000000001", "FW-0000000000000003", "FW-0000000000000005"]
    assert ids_on(c.get("/queue?rule=CLAIM_AFTER_DEATH&severity=medium").text) == ["FW-0000000000000001"]
    assert ids_on(c.get("/queue?place=110106").text) == ["FW-0000000000000003", "FW-0000000000000004", "FW-0000000000000005"]
    assert ids_on(c.get("/queue?sort=amount&size=2").text) == [LEAD0, "FW-0000000000000001"]
    page2 = c.get("/queue?size=2&page=2").text
    assert ids_on(page2) == ["FW-0000000000000002", "FW-0000000000000003"] and "共 6 条" in page2
    # search: whole identity number, its prefix, a name, a record id, a lead id; displayed masked
    pid3 = PERSON[:-2] + "03"
    r = c.get(f"/queue?q={pid3}").text
    table = r.split('<table class="queue">')[1]  # the search box echoes what was typed; the results are masked
    assert ids_on(r) == ["FW-0000000000000003"] and pid3 not in table and pid3[:6] + "********" + pid3[-4:] in table
    assert len(ids_on(c.get(f"/queue?q={PERSON[:10]}").text)) == 6
    assert ids_on(c.get("/queue?q=张").text) == [LEAD0]
    assert ids_on(c.get("/queue?q=d2b").text) == ["FW-0000000000000002"]  # record ids, any case
    assert ids_on(c.get(f"/queue?q={LEAD5}").text) == [LEAD5]
    # status and assignee filters follow decisions
    c.post(f"/leads/{LEAD5}/act", {"action": "assign", "note": "请核查", "version": "0", "assignee": "reviewer"})
    assert ids_on(c.get("/queue?status=assigned").text) == [LEAD5]
    assert ids_on(c.get("/queue?assignee=reviewer").text) == [LEAD5]
    assert LEAD5 not in ids_on(c.get("/queue?assignee=-").text)


def test_queue_counts_up_to_a_cap(sq_store, make_app):
    from fundwatch.settings import Settings, WorkspaceSettings

    app = make_app(sq_store, Settings(workspace=WorkspaceSettings(count_cap=4)))
    c = Client(app, "leader")
    html = c.get("/queue?size=2").text
    assert "共 4+ 条" in html and ids_on(html) == [LEAD0, "FW-0000000000000001"]
    assert ids_on(c.get("/queue?size=2&page=3").text) == ["FW-0000000000000004", LEAD5]  # paging goes on past the cap
    assert "共 3 条" in c.get("/queue?domain=medical").text  # under the cap: exact


def test_lead_page_masks_identifiers_and_leader_reveal_is_logged(sq_app, sq_store):
    c = Client(sq_app, "leader")
    html = c.get(f"/leads/{LEAD0}").text
    assert PERSON[:-2] + "00" not in html and HOSTILE_NAME not in html and "张**" in html
    assert "月均发放金额" in html and "<circle" in html  # the peer chart from the findings' details
    assert "同级医疗机构(1 级)" in html and "care_level" not in html  # the peer group in the reader's words
    n = len(sq_store.access_log())
    html = c.post(f"/leads/{LEAD0}/reveal", {}).text
    assert PERSON[:-2] + "00" in html and "已显示完整身份信息" in html
    log = sq_store.access_log()
    assert len(log) == n + 1 and (log[0]["actor"], log[0]["action"], log[0]["lead_id"]) == ("leader", "reveal", LEAD0)
    assert PERSON[:-2] + "00" not in c.get(f"/leads/{LEAD0}").text  # one click, one response
    auditor = Client(sq_app, "auditor")
    assert "查看完整身份信息" in auditor.get("/audit/access").text and auditor.post(f"/leads/{LEAD0}/reveal", {}).status_code == 403


def test_hostile_text_is_escaped_on_every_page(sq_app, sq_store):
    c = Client(sq_app, "leader")
    c.post(f"/leads/{LEAD0}/act", {"action": "claim", "note": XSS, "version": "0"})
    for path in ("/queue", f"/leads/{LEAD0}", f"/leads/{LEAD0}/print", "/audit/history", "/trends"):
        html = c.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert" in c.get(f"/leads/{LEAD0}").text


def test_decision_appears_in_history_and_second_reviewer_is_told(backend, make_app):
    st = seed(backend)
    app = make_app(st)
    a, b = Client(app, "reviewer"), Client(app, "reviewer2")
    version = st.case(LEAD5)["version"]
    assert a.get(f"/leads/{LEAD5}").status_code == b.get(f"/leads/{LEAD5}").status_code == 200
    r1 = a.post(f"/leads/{LEAD5}/act", {"action": "claim", "note": "我来核查", "version": version})
    r2 = b.post(f"/leads/{LEAD5}/act", {"action": "claim", "note": "我也来", "version": version})
    assert r1.status_code == r2.status_code == 303
    assert "已保存" in a.get(f"/leads/{LEAD5}").text
    assert "该线索已被他人修改" in b.get("/queue").text or "该线索已被他人修改" in b.get(f"/leads/{LEAD5}").text
    hist = st.history(LEAD5)
    assert [(h["actor"], h["note"]) for h in hist] == [("reviewer", "我来核查")]
    # the reviewer goes on: review, confirm with an amount; the page shows it all
    for action, extra in (("start_review", {}), ("confirm", {"confirmed_amount": "800.50"})):
        a.post(f"/leads/{LEAD5}/act", {"action": action, "note": f"{action} note", "version": st.case(LEAD5)["version"], **extra})
    html = a.get(f"/leads/{LEAD5}").text
    assert "confirm note" in html and "800.50" in html and "核实属实" not in re.sub(r"<button[^>]*>[^<]*</button>", "", html).split("处置记录")[0][-50:]
    assert st.case(LEAD5)["status"] == "confirmed" and st.case(LEAD5)["confirmed_amount"] == 800.5
    st.close()


def test_decision_refused_without_note_or_amount(sq_app, sq_store):
    c = Client(sq_app, "leader")
    c.post(f"/leads/{LEAD5}/act", {"action": "claim", "note": " ", "version": "0"})
    assert sq_store.history(LEAD5) == [] and "必填" in c.get(f"/leads/{LEAD5}").text
    c.post(f"/leads/{LEAD5}/act", {"action": "claim", "note": "ok", "version": "0"})
    c.post(f"/leads/{LEAD5}/act", {"action": "confirm", "note": "ok", "version": "1", "confirmed_amount": "abc"})
    assert sq_store.case(LEAD5)["status"] == "assigned"


def test_handover_form_prints_one_lead_per_page_with_signature_lines(sq_app, sq_store):
    c = Client(sq_app, "leader")
    html = c.get(f"/handover?ids={LEAD0},{LEAD5}").text
    assert html.count('class="form-page"') == 2 and html.count("问题线索移交登记表") >= 2
    assert "审批人签字" in html and "接收人签字" in html and PERSON[:-2] + "00" not in html
    css = c.get("/static/app.css").text
    assert "break-after: page" in css


def test_trends_per_run_and_data_quality(sq_app, sq_store):
    c = Client(sq_app, "auditor")
    lead = Client(sq_app, "leader")
    for action, extra in (("claim", {}), ("confirm", {"confirmed_amount": "500"}), ("hand_over", {}), ("close", {"recovered_amount": "300"})):
        lead.post(f"/leads/{LEAD5}/act", {"action": action, "note": action, "version": sq_store.case(LEAD5)["version"], **extra})
    assert sq_store.case(LEAD5)["status"] == "closed"
    html = c.get("/trends").text
    row = re.search(r"run-2</td>.*?</tr>", html, re.S).group(0)
    assert [int(x) for x in re.findall(r'class="num">(\d+)</td>', row)[:4]] == [6, 1, 5, 0]  # leads, new, recurring, resolved
    assert "98.00%" in html and "100.00%" in html  # rows accepted / read per dataset and run
    assert "500.00" in html and "300.00" in html  # confirmed and recovered money
    # a lead with money in several months counts in each month: the chart says so
    assert "各月线索数之和可能大于线索总数" in html


def test_export_is_formula_safe_and_reimport_records_the_importing_user(sq_app, sq_store, tmp_path):
    c = Client(sq_app, "leader")
    r = c.get("/queue/export?domain=subsidy")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    cells = [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]
    assert not [x for x in cells if x.data_type == "f"]
    texts = [x.value for x in cells if isinstance(x.value, str)]
    assert "'" + FORMULA in texts and FORMULA not in texts
    assert not [t for t in texts if PERSON[:-2] in t]  # masked
    ws = wb["线索"]  # the workbook names its sheets in the reader's language
    header = [x.value for x in ws[1]]
    ids = [row[header.index("线索编号")].value for row in ws.iter_rows(min_row=2)]
    assert ids == [LEAD0, "FW-0000000000000002", "FW-0000000000000004"]
    ws.cell(row=3, column=header.index("处置状态") + 1, value="已排除")
    ws.cell(row=3, column=header.index("备注") + 1, value="监护人代领,已核实")
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    with open(path, "rb") as fh:
        r = c.post("/queue/import", {"workbook": (fh, "filled.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 302
    h = sq_store.history("FW-0000000000000002")
    assert [(x["actor"], x["source"], x["to_status"], x["note"]) for x in h] == [("leader", "import", "dismissed", "监护人代领,已核实")]
    # a reviewer may not import decisions on a lead assigned to someone else
    c.post(f"/leads/{LEAD0}/act", {"action": "assign", "note": "x", "version": "0", "assignee": "reviewer2"})
    ws.cell(row=2, column=header.index("处置状态") + 1, value="已确认")
    wb.save(path)
    rev = Client(sq_app, "reviewer")
    with open(path, "rb") as fh:
        rev.post("/queue/import", {"workbook": (fh, "filled.xlsx")}, content_type="multipart/form-data")
    assert sq_store.case(LEAD0)["status"] == "assigned"


def test_english_is_one_click_away(sq_app):
    c = Client(sq_app, "leader")
    assert "线索队列" in c.get("/queue").text
    c.post("/lang", {"lang": "en", "next": "/queue"})
    html = c.get("/queue").text
    assert "Queue" in html and "Money at risk" in html
    r = c.post("/lang", {"lang": "zh", "next": "//evil.example/"})
    assert r.headers["Location"].endswith("/queue")  # no open redirect


def test_a_rule_of_the_other_domain_matches_nothing_without_asking_the_database(sq_app, sq_store):
    # CLAIM_AFTER_DEATH is a medical rule: among the subsidy leads nothing can match, and on
    # 100,000 leads the database scanned the whole run to prove it
    c = Client(sq_app, "leader")
    medical = ["FW-0000000000000001", "FW-0000000000000003", "FW-0000000000000005"]
    assert ids_on(c.get("/queue?rule=CLAIM_AFTER_DEATH&domain=medical").text) == medical
    with sql_statements(sq_store.engine) as statements:
        html = c.get("/queue?rule=CLAIM_AFTER_DEATH&domain=subsidy").text
    assert ids_on(html) == [] and "共 0 条" in html
    assert statements and not any("lead_terms" in s for s in statements)  # the page ran, the filter did not
