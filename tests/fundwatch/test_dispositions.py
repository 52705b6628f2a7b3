"""Dispositions: every lead stays under its status (dismissed ones too), a dismissed lead whose
evidence grew comes back re-opened, new leads are marked; review and workbook import go through
the store and leave history rows; the workspace's workflow steps."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest

from fundwatch.contract import LEADS_SCHEMA
from fundwatch.dispositions import ACTIONS, STATUS_SCHEMA, allowed_actions, apply_dispositions, import_workbook, review, take_action
from fundwatch.errors import InputError
from fundwatch.store import DISPOSITIONS_SCHEMA, LeadStore, StaleCaseError, WorkflowError


def leads_of(specs) -> pl.DataFrame:
    """specs: (lead_id, n_records, amount) in rank order."""
    rows = [
        {"lead_id": lid, "rank": i + 1, "score": 0.9 - i / 100, "severity": "high", "domain": "subsidy",
         "entity_type": "person", "entity_id": f"P{i}", "rule_codes": ["DECEASED_PAYEE"], "title": lid,
         "amount_at_risk": amount, "period_start": "2025-01", "period_end": "2025-02", "region_code": "110105",
         "record_ids": [f"{lid}-{k}" for k in range(n)], "explanation": ""}
        for i, (lid, n, amount) in enumerate(specs)
    ]
    return pl.DataFrame(rows, schema=LEADS_SCHEMA)


def disp(rows) -> pl.DataFrame:
    return pl.DataFrame(
        [{"lead_id": lead, "status": s, "note": n, "decided_at": "2025-03-01T10:00:00", "amount_at_decision": a,
          "n_records_at_decision": k} for lead, s, n, a, k in rows],
        schema=DISPOSITIONS_SCHEMA,
    )


def test_first_run_everything_is_new():
    leads = leads_of([("A", 2, 100.0), ("B", 1, 50.0)])
    kept, status = apply_dispositions(leads, None, None)
    assert kept.equals(leads)
    assert status.schema == STATUS_SCHEMA
    assert status["status"].to_list() == ["new", "new"] and status["is_new"].all()


def test_statuses_follow_decisions_and_history():
    prev = leads_of([("A", 2, 100.0), ("B", 2, 100.0), ("C", 2, 100.0), ("D", 2, 100.0)])
    now = leads_of([("A", 2, 100.0), ("B", 2, 100.0), ("C", 2, 100.0), ("D", 2, 100.0), ("E", 1, 10.0)])
    d = disp([("A", "confirmed", "已追回", 100.0, 2), ("B", "in_review", None, 100.0, 2), ("C", "dismissed", "正常", 100.0, 2)])
    kept, status = apply_dispositions(now, prev, d)
    st = dict(zip(status["lead_id"], status["status"]))
    assert st == {"A": "confirmed", "B": "in_review", "C": "dismissed", "D": "open", "E": "new"}
    assert dict(zip(status["lead_id"], status["is_new"])) == {"A": False, "B": False, "C": False, "D": False, "E": True}
    # the dismissed lead stays visible under its status, in its place
    assert kept["lead_id"].to_list() == ["A", "B", "C", "D", "E"] and kept["rank"].to_list() == [1, 2, 3, 4, 5]
    assert kept.schema == LEADS_SCHEMA
    assert status.filter(pl.col("lead_id") == "A")["note"].item() == "已追回"


@pytest.mark.parametrize("n_records, amount", [(3, 100.0), (2, 150.0)])
def test_dismissed_lead_comes_back_when_its_evidence_grows(n_records, amount):
    now = leads_of([("C", n_records, amount)])
    kept, status = apply_dispositions(now, now, disp([("C", "dismissed", "正常", 100.0, 2)]))
    assert kept["lead_id"].to_list() == ["C"]
    row = status.row(0, named=True)
    assert row["status"] == "reopened" and "证据增加" in row["note"] and "2025-03-01" in row["note"]


def test_rounding_does_not_re_raise_a_dismissed_lead():
    now = leads_of([("C", 2, 100.004)])
    kept, status = apply_dispositions(now, now, disp([("C", "dismissed", None, 100.0, 2)]))
    assert kept.height == 1 and status["status"].to_list() == ["dismissed"]


@pytest.fixture
def store_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'leads.sqlite'}"
    with LeadStore(url) as st:
        st.write_run({"run_id": "r1"}, leads_of([("FW-A", 2, 100.0), ("FW-B", 1, 50.0), ("FW-C", 1, 5.0)]), None, None)
    return url


def test_review_records_a_decision(store_url):
    row = review(store_url, "FW-A", "已确认", "已追回资金", actor="cli:wang")
    assert row["status"] == "confirmed" and row["n_records_at_decision"] == 2
    with LeadStore(store_url) as st:
        assert st.dispositions()["lead_id"].to_list() == ["FW-A"]
        h = st.history("FW-A")
    assert [(x["actor"], x["source"], x["to_status"], x["note"]) for x in h] == [("cli:wang", "cli", "confirmed", "已追回资金")]
    with pytest.raises(InputError):
        review(store_url, "FW-ZZZ", "confirmed")


def write_book(path, headers, rows, title_row=True, sheet="Leads"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "概览"
    ws2 = wb.create_sheet(sheet)
    if title_row:
        ws2.append(["问题线索清单"])
    ws2.append(headers)
    for r in rows:
        ws2.append(r)
    wb.save(path)
    return path


def test_import_workbook_chinese_headers(store_url, tmp_path):
    book = write_book(tmp_path / "leads.xlsx", ["排名", "线索编号", "标题", "处置状态", "备注"], [
        [1, "FW-A", "t", "已确认", "属实"],
        [2, "FW-B", "t", "已排除", "'=正常发放"],
        [3, "FW-C", "t", None, "无决定"],
    ])
    counts = import_workbook(store_url, book, actor="li")
    assert counts["decisions"] == 2 and counts["confirmed"] == 1 and counts["dismissed"] == 1
    with LeadStore(store_url) as st:
        assert {(h["lead_id"], h["actor"], h["source"]) for h in st.history()} == {("FW-A", "li", "import"), ("FW-B", "li", "import")}
    assert import_workbook(store_url, book, actor="li")["decisions"] == 0  # the same book again: nothing new
    with LeadStore(store_url) as st:
        d = st.dispositions()
    assert dict(zip(d["lead_id"], d["status"])) == {"FW-A": "confirmed", "FW-B": "dismissed"}
    assert d.filter(pl.col("lead_id") == "FW-B")["note"].item() == "=正常发放"  # formula-safety undone


def test_import_workbook_english_headers(store_url, tmp_path):
    book = write_book(tmp_path / "en.xlsx", ["lead_id", "disposition", "note"], [["FW-C", "in_review", None]], title_row=False)
    assert import_workbook(store_url, book)["in_review"] == 1


@pytest.mark.parametrize("case", ["bad_status", "unknown_lead", "no_id_column", "not_xlsx", "missing"])
def test_import_workbook_rejects_bad_files_and_records_nothing(store_url, tmp_path, case):
    path = tmp_path / "bad.xlsx"
    if case == "bad_status":
        write_book(path, ["线索编号", "处置状态"], [["FW-A", "已确认"], ["FW-B", "也许"]])
    elif case == "unknown_lead":
        write_book(path, ["线索编号", "处置状态"], [["FW-A", "已确认"], ["FW-NOPE", "已排除"]])
    elif case == "no_id_column":
        write_book(path, ["编号", "处置状态"], [["FW-A", "已确认"]])
    elif case == "not_xlsx":
        path.write_text("not a workbook")
    with pytest.raises(InputError) as e:
        import_workbook(store_url, path)
    assert "\n" not in str(e.value)
    with LeadStore(store_url) as st:
        assert st.dispositions().height == 0


def test_import_lists_every_bad_row_and_takes_only_the_dropdown_values(store_url, tmp_path):
    path = write_book(tmp_path / "slips.xlsx", ["线索编号", "处置状态"], [
        ["FW-A", "确认"], ["FW-B", "已排除"], ["FW-C", "Confirmed"], ["FW-D", "排除"],
    ])
    with pytest.raises(InputError) as e:
        import_workbook(store_url, path)
    msg = str(e.value)
    assert "\n" not in msg and "3 disposition(s)" in msg
    assert "'确认'" in msg and "'Confirmed'" in msg and "'排除'" in msg and "已排除'" not in msg
    with LeadStore(store_url) as st:
        assert st.dispositions().height == 0  # nothing imported
def _assign_and_confirm(st, leader="boss", reviewer="ann"):
    v = st.case("FW-A")["version"]
    take_action(st, "FW-A", "assign", user_name=leader, role="leader", note="请核查", expected_version=v, assignee=reviewer)
    v = st.case("FW-A")["version"]
    take_action(st, "FW-A", "start_review", user_name=reviewer, role="reviewer", note="开始核查", expected_version=v)
    v = st.case("FW-A")["version"]
    return take_action(st, "FW-A", "confirm", user_name=reviewer, role="reviewer", note="属实", expected_version=v, confirmed_amount=80.0)


def test_workflow_from_new_to_closed_leaves_one_history_row_per_step(store_url):
    with LeadStore(store_url) as st:
        case = _assign_and_confirm(st)
        assert case["status"] == "confirmed" and case["confirmed_amount"] == 80.0 and case["assignee"] == "ann"
        # a reviewer cannot hand over; a leader can, then close with the recovered amount
        assert "hand_over" not in allowed_actions(case, "ann", "reviewer")
        with pytest.raises(WorkflowError):
            take_action(st, "FW-A", "hand_over", user_name="ann", role="reviewer", note="x", expected_version=case["version"])
        case = take_action(st, "FW-A", "hand_over", user_name="boss", role="leader", note="移交区纪委", expected_version=case["version"])
        case = take_action(st, "FW-A", "close", user_name="boss", role="leader", note="已追回", expected_version=case["version"], recovered_amount=60.0)
        assert case["status"] == "closed" and case["recovered_amount"] == 60.0
        steps = [(h["from_status"], h["to_status"], h["actor"]) for h in st.history("FW-A")]
        assert steps == [("new", "assigned", "boss"), ("assigned", "in_review", "ann"), ("in_review", "confirmed", "ann"),
                         ("confirmed", "handed_over", "boss"), ("handed_over", "closed", "boss")]
        # once handed over, the CLI and the workbook cannot change it
        with pytest.raises(WorkflowError, match="only a leader"):
            st.set_disposition("FW-A", "dismissed", "x")


@pytest.mark.parametrize("why", ["no_note", "not_own", "stale", "no_amount", "auditor"])
def test_workflow_refusals_write_nothing(store_url, why):
    with LeadStore(store_url) as st:
        v = st.case("FW-A")["version"]
        take_action(st, "FW-A", "assign", user_name="boss", role="leader", note="请核查", expected_version=v, assignee="ann")
        v = st.case("FW-A")["version"]
        kw = dict(user_name="ann", role="reviewer", note="属实", expected_version=v, confirmed_amount=1.0)
        if why == "no_note":
            kw["note"] = "  "
        elif why == "not_own":
            kw["user_name"] = "bob"
        elif why == "stale":
            kw["expected_version"] = v - 1
        elif why == "no_amount":
            kw["confirmed_amount"] = None
        elif why == "auditor":
            kw["role"] = "auditor"
        with pytest.raises(StaleCaseError if why == "stale" else WorkflowError):
            take_action(st, "FW-A", "confirm", **kw)
        assert st.case("FW-A")["version"] == v and len(st.history("FW-A")) == 1


def test_every_action_names_known_statuses():
    from fundwatch.store import STATUSES

    for a in ACTIONS.values():
        assert set(a.from_statuses) <= set(STATUSES) and (a.to_status is None or a.to_status in STATUSES)
