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
