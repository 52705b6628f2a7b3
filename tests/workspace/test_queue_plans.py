"""The queue reads a rare case status from the cases first (a materialised CTE) and shows
exactly the page the ordinary plan shows: same leads, same order, same count."""

from __future__ import annotations

import pytest

from fundwatch.workspace.queries import QueueFilter, Reader
from ws_support import seed, sql_statements


@pytest.fixture
def decided(backend):
    st = seed(backend)
    st.set_disposition("FW-0000000000000001", "confirmed", "核实", actor="test")
    st.set_disposition("FW-0000000000000004", "confirmed", "核实", actor="test")
    st.set_disposition("FW-0000000000000002", "dismissed", "正常", actor="test")
    yield st
    st.close()


FILTERS = [
    dict(status="confirmed"),
    dict(status="confirmed", sort="amount"),
    dict(status="confirmed", sort="updated"),
    dict(status="dismissed", domain="subsidy"),
    dict(status="new", sort="score", size=2, page=2),
    dict(new_only=True),
    dict(assignee="-", sort="amount"),
]


@pytest.mark.parametrize("kw", FILTERS, ids=[",".join(f"{k}={v}" for k, v in kw.items()) for kw in FILTERS])
@pytest.mark.parametrize("restrict_to", [None, "reviewer"])
def test_cases_first_gives_the_same_page(decided, kw, restrict_to):
    reader = Reader(decided)
    f = QueueFilter(**kw)
    ordinary = reader.queue(f, restrict_to=restrict_to, count_cap=1000)
    with sql_statements(decided.engine) as statements:
        first = reader.queue(f, restrict_to=restrict_to, count_cap=1000, cases_first_max=100)
    assert [r["lead_id"] for r in first.rows] == [r["lead_id"] for r in ordinary.rows]
    assert [r["status"] for r in first.rows] == [r["status"] for r in ordinary.rows]
    assert (first.total, first.capped) == (ordinary.total, ordinary.capped)
    if kw.get("status") == "confirmed":
        assert first.total == 2 and any("MATERIALIZED" in s for s in statements)


def test_a_common_condition_keeps_the_ordinary_plan(decided):
    # nearly every case is new: reading them all first would cost more than walking the run
    with sql_statements(decided.engine) as statements:
        page = Reader(decided).queue(QueueFilter(status="new"), count_cap=1000, cases_first_max=2)
    assert page.total == 3 and not any("MATERIALIZED" in s for s in statements)
