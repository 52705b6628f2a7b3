"""Outputs for auditors: ``validation.json``, masked examples and an offline Data Docs site.

Personal data: example values of identity/account columns are masked with
:func:`fundwatch.idnumber.mask_id` and personal names with :func:`~fundwatch.idnumber.mask_name`,
both here and in the GE results rendered into the Data Docs (see ``GxSession.merge``).

GE's Data Docs pages load Bootstrap, jQuery, Font Awesome and Vega from CDNs. Supervision
commissions often work on machines without internet, so :func:`make_offline` strips every
remote ``<script>``/``<link>``/``<img>`` and inlines a small stylesheet: the pages are plain,
complete HTML that opens from disk without any network access.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from fundwatch.idnumber import mask_name
from fundwatch.privacy import ID_COLUMNS

from .gxsession import PERSONAL_NAME_DATASETS, mask_id_safe
from .spec import Check

SUMMARY_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "expectation": pl.String(),
        "ge_expectation": pl.String(),
        "severity": pl.String(),
        "level": pl.String(),
        "description": pl.String(),
        "success": pl.Boolean(),
        "unexpected_count": pl.Int64(),
        "unexpected_percent": pl.Float64(),
        "element_count": pl.Int64(),
        "examples": pl.List(pl.String()),
        "skipped": pl.String(),
    }
)


def _masked(dataset: str, col: str) -> pl.Expr:
    e = pl.col(col).cast(pl.String)
    if col in ID_COLUMNS:
        return mask_id_safe(e)
    if col == "name" and dataset in PERSONAL_NAME_DATASETS:
        return mask_name(e)
    return e


def examples_of(dataset: str, frame: pl.DataFrame, check: Check, fail: pl.Series, k: int) -> list[str]:
    """Up to ``k`` failing rows as ``row N: col=value, …`` with personal values masked."""
    if k == 0 or not fail.any():
        return []
    cols = [c for c in check.shown_columns if c in frame.columns]
    # at most k rows: formatted in Python (pl.format on a filtered slice panics in polars 2.1)
    sub = frame.select(cols).with_row_index("__row", offset=1).filter(fail).head(k).rechunk()
    sub = sub.with_columns(_masked(dataset, c).alias(c) for c in cols)
    return [
        f"row {r['__row']}: " + ", ".join(f"{c}={'∅' if r[c] is None else r[c]}" for c in cols)
        for r in sub.to_dicts()
    ]


def write_validation_json(
    path: Path, report: dict, unusable: dict[str, str], unknown: list[str], docs_index: Path | None, base: Path
) -> None:
    """``validation.json``: per dataset and expectation, success, severity, counts, masked examples."""
    doc = {
        "datasets": report,
        "unusable": unusable,
        "ignored_datasets": unknown,
        "data_docs_index": str(docs_index.relative_to(base)) if docs_index is not None else None,
        "severity_meaning": {
            "critical": "row-level: failing rows quarantined; table-level: dataset unusable",
            "warning": "reported only; rows kept",
        },
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I)
_REMOTE_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*>", re.I)
_REMOTE_IMG = re.compile(r"<img[^>]*\bsrc=[\"']https?://[^>]*>", re.I)
_OFFLINE_CSS = """<style>
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:1rem 2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}
.collapse:not(.show){display:block}.d-none{display:none}.text-danger{color:#b00}.text-success{color:#070}
nav,.navbar{margin-bottom:1rem}a{color:#0645ad}
</style>"""


def make_offline(site_dir: Path, status: dict[str, bool] | None = None) -> None:
    """Remove remote assets from every page of the Data Docs site and inline a stylesheet.

    GE's index page fills its tables with JavaScript from a CDN; a plain list of links to every
    validation and suite page (with ``status``: dataset -> success) is added so the index
    works without it.
    """
    status = status or {}
    index = site_dir / "index.html"
    if index.exists():
        items = []
        for page in sorted((site_dir / "validations").rglob("*.html")):
            ds = page.stem
            ok = status.get(ds)
            mark = "passed" if ok else ("failed" if ok is not None else "")
            items.append(f'<li><a href="{page.relative_to(site_dir).as_posix()}">validation: {ds}</a> {mark}</li>')
        for page in sorted((site_dir / "expectations").rglob("*.html")):
            items.append(f'<li><a href="{page.relative_to(site_dir).as_posix()}">suite: {page.stem}</a></li>')
        block = (
            '<div id="fw-offline-index"><h2>fundwatch validation (offline index)</h2><ul>'
            + "".join(items)
            + "</ul></div>"
        )
        html = index.read_text(encoding="utf-8")
        if 'id="fw-offline-index"' not in html:
            html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + block, html, count=1)
            index.write_text(html, encoding="utf-8")
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        html = _REMOTE_SCRIPT.sub("", html)
        html = _REMOTE_LINK.sub("", html)
        html = _REMOTE_IMG.sub("", html)
        if "</head>" in html and _OFFLINE_CSS not in html:
            html = html.replace("</head>", _OFFLINE_CSS + "</head>", 1)
        page.write_text(html, encoding="utf-8")
