"""Auditor outputs: validation.json (masked) and the offline Data Docs site."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import polars as pl
import pytest
from validation_frames import MUTATIONS, mutated_frames

from fundwatch.expectations import validate
from fundwatch.idnumber import PERSON_ID_PATTERN


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    frames, where = mutated_frames(MUTATIONS)
    out = tmp_path_factory.mktemp("run")
    return frames, out, validate({k: frames[k] for k in ("persons", "disbursements", "claims")}, out)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("script", "img", "link") and (a.get("src") or a.get("href")):
            self.srcs.append(a.get("src") or a.get("href"))


def test_docs_index_exists_parses_and_works_offline(run):
    _, out, res = run
    assert res.docs_index is not None and res.docs_index.is_file()
    assert res.docs_index.is_relative_to(out / "validation")
    p = _Collect()
    p.feed(res.docs_index.read_text(encoding="utf-8"))
    assert "html" in p.tags and "body" in p.tags
    assert not [s for s in p.srcs if s.startswith("http")]
    pages = [h for h in p.hrefs if h.startswith("validations/")]
    assert len(pages) == 3  # one validation page per dataset, linked without JavaScript
    for h in pages:
        assert (res.docs_index.parent / h).is_file()


def test_validation_json_has_every_expectation_and_no_full_ids(run):
    frames, out, res = run
    text = (out / "validation" / "validation.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    names = {e["expectation"] for e in doc["datasets"]["persons"]["expectations"]}
    assert {"person_id_valid_gb11643", "person_id_unique", "birth_date_agrees_with_person_id"} <= names
    for e in doc["datasets"]["persons"]["expectations"]:
        assert e["severity"] in ("critical", "warning") and "unexpected_count" in e
    assert not re.search(PERSON_ID_PATTERN, text)
    assert "********" in text  # failing ids are shown masked
    failed = [e for e in doc["datasets"]["disbursements"]["expectations"] if e["expectation"] == "person_id_valid_gb11643"]
    assert failed[0]["success"] is False and failed[0]["examples"]


def test_data_docs_have_no_full_ids_or_names(run):
    frames, out, res = run
    ids = set(frames["persons"].get_column("person_id").drop_nulls().to_list())
    ids |= set(frames["disbursements"].get_column("person_id").drop_nulls().to_list())
    long_ids = {i for i in ids if len(i) >= 15}
    for page in (out / "validation").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not [i for i in long_ids if i in html], page
        assert "张三丰" not in html


def test_summary_matches_contract_columns(run):
    _, _, res = run
    for col in ("dataset", "expectation", "severity", "success", "unexpected_count", "unexpected_percent",
                "examples", "element_count"):
        assert col in res.summary.columns
    assert set(res.rows_per_second) == {"persons", "disbursements", "claims"}
    assert res.summary.filter(pl.col("dataset") == "claims").height > 10


def test_data_docs_are_readable(run):
    """No internal helper column, no raw call of a custom expectation, no newsletter; every
    CDN asset is bundled (an unmapped URL would be replaced by nothing)."""
    _, out, res = run
    site = out / "validation" / "data_docs"
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fw__" not in html, page
        assert "**{" not in html and "expect_column_values_to_be_valid_gb11643(" not in html, page
        assert "newsletter" not in html.lower(), page
        assert not re.search(r"""(?:src|href)=["']https?://""", html), page
        assert 'src="data:,"' not in html, f"{page}: a CDN asset that is not bundled"
    assert (site / "static" / "fundwatch-vendor" / "jquery-3.7.1.min.js").exists()
    assert (site / "static" / "fundwatch-vendor" / "licenses" / "jquery.txt").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "audit.html" in index  # the auditors' page is linked from the index
    page = next(p for p in (site / "validations").rglob("persons.html"))
    assert "身份证号" in page.read_text(encoding="utf-8")  # Chinese descriptions of the checks


def test_auditors_pages_zh_and_en(run):
    _, out, res = run
    zh = (out / "validation" / "audit.html").read_text(encoding="utf-8")
    en = (out / "validation" / "audit.en.html").read_text(encoding="utf-8")
    assert "数据校验说明" in zh and "读取行数" in zh and "人员基础信息" in zh
    assert "Data validation for auditors" in en and "Rows read" in en
    for html in (zh, en):
        assert not re.search(r"(?<![0-9])\d{17}[\dX](?![0-9])", html)  # identity numbers masked
        assert "<script" not in html
    assert res.audit_pages == {"zh": out / "validation" / "audit.html", "en": out / "validation" / "audit.en.html"}
