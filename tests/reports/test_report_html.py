"""The HTML report as a file: escaping, masking, languages, self-containedness."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from report_samples import FORMULA, HOSTILE_NAME, HOSTILE_TITLE, make_inputs, person_id

from fundwatch import reports
from fundwatch.rules_catalog import RULES
from fundwatch.reports.html import json_for_script, relative_link

ID18 = re.compile(r"(?<![0-9])\d{17}[\dX](?![0-9])")


def _write(tmp_path, d=None, **kw):
    d = d or make_inputs()
    return reports.write_report(
        tmp_path, leads=d["leads"], status=d["status"], findings=d["findings"], evidence=d["evidence"],
        run_info=d["run_info"], validation_summary=d["validation_summary"],
        docs_link=kw.pop("docs_link", "validation/site/index.html"), quarantine=d["quarantine"], **kw,
    )


def _payload(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="fw-data">(.*?)</script>', html, re.S)
    assert m, "embedded data block missing"
    return json.loads(m.group(1))


def test_writes_one_file_and_returns_its_path(tmp_path):
    path = _write(tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_json_block_cannot_be_closed_by_data():
    text = json_for_script({"x": "</script><script>alert(1)</script>", "y": "a&b<!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><script>alert(1)</script>", "y": "a&b<!--"}


@pytest.mark.parametrize("unmask", [False, True])
def test_hostile_text_is_escaped_everywhere(tmp_path, unmask):
    html = _write(tmp_path, unmask=unmask).read_text(encoding="utf-8")
    # exactly the two scripts of the report itself: the data block and the renderer
    assert len(re.findall(r"<script\b", html, re.I)) == 2
    assert "<img" not in html.lower()
    assert HOSTILE_NAME not in html and HOSTILE_TITLE not in html
    data = _payload(html)
    assert HOSTILE_TITLE in data["leads"]["title"]
    names = data["evidence"]["name"]
    assert (HOSTILE_NAME in names) == unmask
    assert HOSTILE_NAME in data["evidence"]["counterparty"]  # institutions are not masked
    # the renderer never turns data into markup
    js = html[html.rindex("<script>"):]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write", "new Function"):
        assert sink not in js


def test_identity_numbers_masked_by_default_and_whole_with_unmask(tmp_path):
    d = make_inputs()
    whole = set(d["evidence"]["person_id"].to_list())
    accounts = set(d["leads"].filter(pl.col("entity_type") == "account")["entity_id"].to_list())
    masked_html = _write(tmp_path / "m", d).read_text(encoding="utf-8")
    assert ID18.findall(masked_html) == []
    assert not any(a in masked_html for a in accounts)
    first = sorted(whole)[0]
    assert f"{first[:6]}********{first[-4:]}" in masked_html
    # names: surname kept, rest starred, also inside titles and explanations
    assert "张三0" not in masked_html and "张**" in masked_html
    open_html = _write(tmp_path / "u", d, unmask=True).read_text(encoding="utf-8")
    assert whole <= set(ID18.findall(open_html))
    assert all(a in open_html for a in accounts)
    assert "张三0" in open_html


def test_chinese_by_default_english_on_request(tmp_path):
    zh = _write(tmp_path / "zh").read_text(encoding="utf-8")
    en = _write(tmp_path / "en", lang="en").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and "问题线索报告" in zh and "数据质量校验" in zh
    assert '<html lang="en">' in en and "Leads report" in en and "Data validation" in en
    dz, de = _payload(zh), _payload(en)
    assert dz["labels"]["col_amount"] == "存疑金额" and de["labels"]["col_amount"] == "Amount at risk (CNY)"
    assert dz["rules"]["DECEASED_PAYEE"]["title"] == RULES["DECEASED_PAYEE"].title_zh
    assert de["rules"]["DECEASED_PAYEE"]["title"] == RULES["DECEASED_PAYEE"].title_en
    # English titles and explanations come from the rules catalogue and the findings' evidence_en
    i = de["leads"]["lead_id"].index("L00000")
    assert de["leads"]["title"][i].startswith(RULES["DECEASED_PAYEE"].title_en + ": person ")
    assert de["leads"]["title"][i].endswith("CNY 100.00 at risk")  # entity and money, like the Chinese title
    assert de["leads"]["explanation"][i].startswith("Evidence EN 0:")
    assert de["findings"]["text"][0].startswith("Evidence EN")
    # no Chinese label leaks into the English page's static text
    static_en = re.sub(r"<script.*?</script>", "", en, flags=re.S)
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<svg.*?</svg>", "", static_en, flags=re.S))


def test_self_contained_no_outside_references(tmp_path):
    html = _write(tmp_path).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"<link[^>]+rel=[\"']?stylesheet", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#x27;none&#x27;", html)
    # the validation section links the Data Docs relatively
    assert 'href="validation/site/index.html"' in html


def test_data_docs_link_is_relative_and_never_a_scheme(tmp_path):
    assert relative_link(tmp_path / "validation" / "a b" / "index.html", tmp_path) == "validation/a%20b/index.html"
    assert relative_link("javascript:alert(1)", tmp_path) is None
    assert relative_link("https://example.org/x", tmp_path) is None
    assert relative_link(None, tmp_path) is None


def test_header_shows_the_run_and_validation(tmp_path):
    d = make_inputs()
    html = _write(tmp_path, d, lang="en").read_text(encoding="utf-8")
    assert "run-20250301-0001" in html and "ab12ab12ab12ab12" in html
    assert "2025-01 – 2025-12" in html
    assert re.search(r'<td title="disbursements">disbursements</td><td class=num>1,000</td><td class=num>998</td><td class=num>2</td>', html)
    assert 'data-n="2">2 checks failed' in html
    # failures listed first in the validation table; passing checks folded away below
    table = html[html.index('id="validation-table"'):]
    assert table.index("expect_column_values_to_be_unique") < table.index("expect_column_values_to_not_be_null")
    assert table.index("expect_column_values_to_not_be_null") > table.index('id="validation-passed"')
    assert "identity number check character is wrong" in html
    zh = _write(tmp_path / "zh", d).read_text(encoding="utf-8")
    assert "<td>惠民补贴发放</td>" in zh or "发放" in zh
    assert "身份证号校验位错误(GB 11643)" in zh  # the loader's reason in Chinese
    assert "2025-01 至 2025-12" in zh


def test_validation_failures_counted_from_the_summary_when_run_info_lacks_them(tmp_path):
    d = make_inputs()
    d["run_info"].pop("validation_failures")
    html = _write(tmp_path, d).read_text(encoding="utf-8")
    assert '<b id="kpi-failures" data-n="2">2 项校验未通过' in html


def test_overview_charts_are_inline_svg(tmp_path):
    html = _write(tmp_path).read_text(encoding="utf-8")
    for fid in ("chart-rule", "chart-county", "chart-township", "chart-score", "chart-month"):
        fig = html[html.index(f'id="{fid}"'):]
        assert fig.index("<svg") < fig.index("</figure>")
    month = html[html.index('id="chart-month"'):html.index("</figure>", html.index('id="chart-month"'))]
    assert month.count("<rect") == 2 * 12  # leads and money for each of the twelve months
    county = html[html.index('id="chart-county"'):html.index("</figure>", html.index('id="chart-county"'))]
    assert all(c in county for c in ("510302", "510303", "510304"))


def test_peer_values_embedded_for_model_leads(tmp_path):
    data = _payload(_write(tmp_path).read_text(encoding="utf-8"))
    f = data["findings"]
    i = f["rule_code"].index("VILLAGE_OUTLIER")
    feat = f["details"][i]["features"][0]
    assert feat["value"] == 31.5 and len(feat["peer_values"]) == 40 and feat["n_peers"] == 40
    assert f["details"][f["rule_code"].index("DECEASED_PAYEE")] is None


def test_empty_inputs_still_make_a_report(tmp_path):
    from fundwatch.contract import LEADS_SCHEMA

    path = reports.write_report(
        tmp_path, leads=pl.DataFrame(schema=LEADS_SCHEMA), status=None, findings=None, evidence=None,
        run_info={}, validation_summary=None, docs_link=None,
    )
    html = path.read_text(encoding="utf-8")
    assert _payload(html)["leads"]["lead_id"] == [] and "未生成数据校验文档" in html


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ValueError, match="zh, en"):
        _write(tmp_path, lang="fr")


def test_ids_in_free_text_masked(tmp_path):
    d = make_inputs()
    pid = person_id("110105", "19491231", 2)
    d["leads"] = d["leads"].with_columns(pl.lit(f"见 {pid} 与 {FORMULA}").alias("explanation"))
    html = _write(tmp_path, d).read_text(encoding="utf-8")
    assert pid not in html and f"{pid[:6]}********{pid[-4:]}" in html


def test_non_finite_numbers_do_not_break_the_report(tmp_path):
    d = make_inputs()
    d["leads"] = d["leads"].with_columns(
        pl.when(pl.col("rank") == 1).then(float("nan")).otherwise(pl.col("score")).alias("score"),
        pl.when(pl.col("rank") == 2).then(float("inf")).otherwise(pl.col("amount_at_risk")).alias("amount_at_risk"),
    )
    d["findings"] = d["findings"].with_columns(
        pl.col("details").str.replace('"value": 31.5', '"value": NaN')
    )
    data = _payload(_write(tmp_path, d).read_text(encoding="utf-8"))
    assert data["leads"]["score"][0] is None and data["leads"]["amount_at_risk"][1] is None
    i = data["findings"]["rule_code"].index("VILLAGE_OUTLIER")
    assert data["findings"]["details"][i]["features"][0]["value"] is None


def test_rule_texts_follow_the_run_settings(tmp_path):
    from fundwatch.settings import Settings

    s = Settings.model_validate({"subsidy": {"max_delay_days": 60}})
    rules = _payload(_write(tmp_path, settings=s).read_text(encoding="utf-8"))["rules"]
    assert rules["DELAYED_PAYMENT"]["meaning"] == "正常发放的日期晚于所属期开始超过该补贴的发放时限(未规定的按60天,按年发放的按365天)"
    assert rules["DECEASED_PAYEE"]["basis"] == RULES["DECEASED_PAYEE"].basis_zh
    assert rules["DECEASED_PAYEE"]["checklist"] == list(RULES["DECEASED_PAYEE"].checklist_zh)
