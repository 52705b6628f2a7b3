"""Outputs for auditors: ``validation.json``, masked examples, the auditors' pages and an
offline Data Docs site.

Personal data: example values of identity/account columns are masked with the format of
:func:`fundwatch.idnumber.mask_id` and personal names with :func:`~fundwatch.idnumber.mask_name`,
here and in the GE results rendered into the Data Docs.

Rows are named as the loader names them: the line in the source file (header = line 1), the
file, and the record id (the dataset's key), so a row found in the Data Docs, the auditors'
page, the quarantine or the report is the same row an editor opens.

Data Docs offline: GE's pages load jQuery, Bootstrap, bootstrap-table, Font Awesome and vega
from CDNs. :func:`make_offline` copies the bundled copies (``expectations/assets``, with their
licences) into the site and points every page at them, so the status icons and the "Failed
Only" / "Show more info" controls work with no network; it also removes GE's newsletter bar
and links the auditors' page from the index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.idnumber import mask_ids_in_text, mask_name
from fundwatch.privacy import ID_COLUMNS
from fundwatch.textfmt import loader_reason_zh

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
        "description_zh": pl.String(),
        "source": pl.String(),  # "load": recorded from the loader; "validation": evaluated by GE
        "success": pl.Boolean(),
        "unexpected_count": pl.Int64(),
        "unexpected_percent": pl.Float64(),
        "element_count": pl.Int64(),
        "examples": pl.List(pl.String()),
        "skipped": pl.String(),
    }
)

AUDIT_PAGES = {"zh": "audit.html", "en": "audit.en.html"}
#: Quarantined rows listed on the auditors' page (all of them are in quarantine.parquet).
AUDIT_QUARANTINE_ROWS = 1000


# --------------------------------------------------------------------------- masking
def _masked(dataset: str, col: str) -> pl.Expr:
    e = pl.col(col).cast(pl.String)
    if col in ID_COLUMNS:
        return mask_id_safe(e)
    if col == "name" and dataset in PERSONAL_NAME_DATASETS:
        return mask_name(e)
    return e


def _personal_key(dataset: str) -> bool:
    return any(k in ID_COLUMNS for k in (DATASETS[dataset].primary_key if dataset in DATASETS else ()))


def _mask_ids(dataset: str, values: list[str | None]) -> list[str | None]:
    if not _personal_key(dataset) or not values:
        return values
    return pl.Series("v", values, dtype=pl.String).to_frame().select(mask_id_safe(pl.col("v"))).to_series().to_list()


# --------------------------------------------------------------------------- examples
def example_rows(
    dataset: str,
    data: pl.DataFrame | None,
    k: int,
    *,
    check: Check | None = None,
    positions: np.ndarray | None = None,
    origins: Any = None,
    record_ids: list[str | None] | None = None,
    source: str = "validation",
) -> list[dict]:
    """Up to ``k`` failing rows as ``{file, line, record_id, values}`` (personal values masked).

    ``source="load"``: ``data`` are the loader's quarantine rows of one check; otherwise
    ``data`` is the dataset's frame and ``positions`` its failing rows.
    """
    if k == 0 or data is None:
        return []
    if source == "load":
        rows = data.unique(["source_file", "row_number"], keep="first", maintain_order=True).head(k)
        if not rows.height:
            return []
        out = []
        ids = _mask_ids(dataset, rows.get_column("record_id").to_list())
        for r, rid in zip(rows.iter_rows(named=True), ids):
            col = r["column"]
            value = r["raw_value"]
            if col in ID_COLUMNS and value is not None:
                value = _mask_one(mask_id_safe, value)
            elif col == "name" and dataset in PERSONAL_NAME_DATASETS and value is not None:
                value = _mask_one(mask_name, value)
            out.append({"file": r["source_file"], "line": r["row_number"], "record_id": rid,
                        "values": {col: value}, "reason": r["reason"]})
        return out
    if positions is None or not len(positions):
        return []
    cols = [c for c in (check.shown_columns if check else ()) if c in data.columns]
    idx = pl.Series(positions[:k], dtype=pl.Int64)
    sub = data.select(cols)[idx].with_columns(_masked(dataset, c).alias(c) for c in cols) if cols else None
    if origins is not None:
        files, lines = origins.locate(positions[:k])
    else:
        files, lines = [""] * len(idx), [int(p) + 2 for p in positions[:k]]
    ids = _mask_ids(dataset, list(record_ids or [None] * len(idx)))
    values = sub.to_dicts() if sub is not None else [{} for _ in range(len(idx))]
    return [
        {"file": f, "line": ln, "record_id": rid, "values": {c: (None if v is None else str(v)) for c, v in vals.items()}}
        for f, ln, rid, vals in zip(files, lines, ids, values)
    ]


def _mask_one(fn, value: str) -> str:
    return pl.Series("v", [value], dtype=pl.String).to_frame().select(fn(pl.col("v"))).item()


def examples_text(rows: list[dict]) -> list[str]:
    """``line 7410 claims/2025-03.csv [JS2025…]: fund_amount=-3.5`` per example row."""
    out = []
    for r in rows:
        where = f"line {r['line']}" + (f" {r['file']}" if r.get("file") else "")
        rid = f" [{r['record_id']}]" if r.get("record_id") else ""
        vals = ", ".join(f"{c}={'∅' if v is None else v}" for c, v in (r.get("values") or {}).items())
        out.append(f"{where}{rid}: {vals}")
    return out


# --------------------------------------------------------------------------- validation.json
def write_validation_json(
    path: Path, report: dict, unusable: dict[str, str], unknown: list[str], docs_index: Path | None, base: Path
) -> None:
    """``validation.json``: per dataset and expectation, success, severity, counts, where the
    result came from (the loader or GE) and masked example rows (file, line, record id)."""
    doc = {
        "datasets": report,
        "unusable": unusable,
        "ignored_datasets": unknown,
        "data_docs_index": str(docs_index.relative_to(base)) if docs_index is not None else None,
        "audit_pages": {lang: name for lang, name in AUDIT_PAGES.items()},
        "row_numbering": "line in the source file as an editor shows it (header = line 1), with the file and the record id",
        "severity_meaning": {
            "critical": "row-level: failing rows quarantined; table-level: dataset unusable",
            "warning": "reported only; rows kept",
        },
        "source_meaning": {
            "load": "applied by the loader to every row read; the failing rows were quarantined on load",
            "validation": "evaluated once by Great Expectations over every accepted row",
        },
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


# --------------------------------------------------------------------------- auditors' pages
_T = {
    "title": ("数据校验说明(供审计)", "Data validation for auditors"),
    "intro": (
        "本页列出每个数据集读取、接收和隔离的行数,未通过的校验及其对应行(身份证号、姓名已脱敏),以及隔离数据。"
        "行号为源文件中的行号(表头为第 1 行),与编辑器或表格软件显示一致。",
        "Rows read, accepted and quarantined per dataset, the checks that failed with their rows (identity "
        "numbers and names masked), and the quarantine. Line numbers are lines of the source file (header = "
        "line 1), as an editor or spreadsheet shows them.",
    ),
    "counts": ("各数据集行数", "Rows per dataset"),
    "dataset": ("数据集", "Dataset"),
    "read": ("读取行数", "Rows read"),
    "accepted": ("接收行数", "Accepted"),
    "q_load": ("载入时隔离", "Quarantined on load"),
    "q_val": ("校验时隔离", "Quarantined by validation"),
    "checks": ("校验项(通过/共)", "Checks (passed/total)"),
    "failed": ("未通过的校验", "Checks that failed"),
    "none_failed": ("全部校验通过。", "Every check passed."),
    "check": ("校验内容", "Check"),
    "severity": ("严重程度", "Severity"),
    "source": ("校验环节", "Applied"),
    "src_load": ("载入时(该行已隔离)", "on load (row quarantined)"),
    "src_val": ("校验时", "by validation"),
    "rows": ("不符行数", "Failing rows"),
    "file": ("文件", "File"),
    "line": ("行号", "Line"),
    "record": ("记录编号", "Record id"),
    "values": ("取值(已脱敏)", "Values (masked)"),
    "quarantine": ("隔离数据", "Quarantined rows"),
    "column": ("列", "Column"),
    "raw": ("原始值(已脱敏)", "Raw value (masked)"),
    "reason": ("原因", "Reason"),
    "more": ("仅列出前 {n} 行;完整清单见 quarantine.parquet 和工作簿(leads.xlsx)。",
             "Only the first {n} rows are listed; all are in quarantine.parquet and the workbook (leads.xlsx)."),
    "docs": ("Great Expectations 数据校验文档(Data Docs)", "Great Expectations Data Docs"),
    "json": ("机器可读结果 validation.json", "validation.json (machine-readable)"),
    "other": ("English", "中文"),
    "unusable": ("未通过关键校验、未用于检测的数据集", "Datasets failing a critical check, not used for detection"),
    "critical": ("严重", "critical"),
    "warning": ("警告", "warning"),
}
_CSS = (
    "body{font:14px/1.5 system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:1.2rem 2rem;color:#1f2328}"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #d8dde3;margin-top:1.6rem}"
    "table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #d8dde3;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}.num{text-align:right}.bad{color:#b42318;font-weight:600}.ok{color:#1a7f37}.muted{color:#667}"
    ".check{margin:.8rem 0 1.2rem}"
)


def _t(key: str, lang: str, **fmt) -> str:
    text = _T[key][0 if lang == "zh" else 1]
    return text.format(**fmt) if fmt else text


def _dataset_name(name: str, lang: str) -> str:
    ds = DATASETS.get(name)
    return f"{ds.zh}({name})" if (ds is not None and lang == "zh") else name


def _reason(reason: str | None, lang: str, checks_zh: dict[str, str]) -> str:
    if reason is None:
        return ""
    if lang != "zh":
        return reason
    zh = loader_reason_zh(reason)
    if zh is not None:
        return zh
    name = reason.partition(":")[0].strip()
    return checks_zh.get(name, reason)


def _mask_quarantine(q: pl.DataFrame) -> pl.DataFrame:
    from fundwatch.loading import personal_key_datasets

    return q.with_columns(
        pl.when(pl.col("column").is_in(list(ID_COLUMNS))).then(mask_id_safe(pl.col("raw_value")))
        .when((pl.col("column") == "name") & pl.col("dataset").is_in(list(PERSONAL_NAME_DATASETS))).then(mask_name(pl.col("raw_value")))
        .otherwise(mask_ids_in_text(pl.col("raw_value"))).alias("raw_value"),  # "id | gender" of a check
        pl.when(pl.col("dataset").is_in(personal_key_datasets())).then(mask_id_safe(pl.col("record_id")))
        .otherwise(pl.col("record_id")).alias("record_id"),
    )


def audit_page(lang: str, report: dict, unusable: dict[str, str], quarantine: pl.DataFrame, docs_href: str | None) -> str:
    """The auditors' page in ``lang`` (``zh`` or ``en``) as one HTML string (no script, no request)."""
    e = escape
    checks_zh = {r["expectation"]: r.get("description_zh") or r["description"] for d in report.values() for r in d["expectations"]}
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        f"<title>{e(_t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(_t('title', lang))}</h1><p>{e(_t('intro', lang))}</p>",
        f'<p><a href="{AUDIT_PAGES["en" if lang == "zh" else "zh"]}" hreflang="{"en" if lang == "zh" else "zh"}">{e(_t("other", lang))}</a>'
        + (f' · <a id="docs-link" href="{e(docs_href)}">{e(_t("docs", lang))}</a>' if docs_href else "")
        + f' · <a href="validation.json">{e(_t("json", lang))}</a></p>',
        f"<h2>{e(_t('counts', lang))}</h2><table id='audit-counts'><thead><tr>"
        + "".join(f"<th>{e(_t(k, lang))}</th>" for k in ("dataset", "read", "accepted", "q_load", "q_val", "checks"))
        + "</tr></thead><tbody>",
    ]
    for name, d in report.items():
        ran = [r for r in d["expectations"] if r["success"] is not None]
        passed = sum(1 for r in ran if r["success"])
        parts.append(
            f"<tr><td>{e(_dataset_name(name, lang))}</td><td class=num>{d.get('rows_read', d['rows']):,}</td>"
            f"<td class=num>{d['accepted']:,}</td><td class=num>{d.get('quarantined_on_load', 0):,}</td>"
            f"<td class=num>{d['quarantined_rows']:,}</td>"
            f"<td class='num {'ok' if passed == len(ran) else 'bad'}'>{passed}/{len(ran)}</td></tr>"
        )
    parts.append("</tbody></table>")
    if unusable:
        parts.append(f"<h2>{e(_t('unusable', lang))}</h2><ul>" + "".join(
            f"<li><b>{e(_dataset_name(k, lang))}</b>: {e(v)}</li>" for k, v in sorted(unusable.items())) + "</ul>")
    parts.append(f"<h2>{e(_t('failed', lang))}</h2>")
    failed = [(name, r) for name, d in report.items() for r in d["expectations"] if r["success"] is False]
    if not failed:
        parts.append(f"<p class=ok>{e(_t('none_failed', lang))}</p>")
    for name, r in failed:
        text = (r.get("description_zh") or r["description"]) if lang == "zh" else r["description"]
        src = _t("src_load" if r.get("source") == "load" else "src_val", lang)
        parts.append(
            f"<div class='check' data-check='{e(name)}.{e(r['expectation'])}'><h3>{e(_dataset_name(name, lang))}:{e(text)}</h3>"
            f"<p><span class=bad>{e(_t(r['severity'], lang) if r['severity'] in ('critical', 'warning') else r['severity'])}</span> · "
            f"{e(src)} · {e(_t('rows', lang))} {int(r['unexpected_count'] or 0):,} / {int(r['element_count'] or 0):,}"
            f" · <code class=muted>{e(r['expectation'])}</code></p>"
        )
        ex = r.get("example_rows") or []
        if ex:
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(_t(k, lang))}</th>" for k in ("file", "line", "record", "values")) + "</tr></thead><tbody>")
            for x in ex:
                vals = "; ".join(f"{c}={'∅' if v is None else v}" for c, v in (x.get("values") or {}).items())
                parts.append(f"<tr><td>{e(str(x.get('file') or ''))}</td><td class=num>{int(x['line'])}</td>"
                             f"<td>{e(str(x.get('record_id') or ''))}</td><td>{e(vals)}</td></tr>")
            parts.append("</tbody></table>")
        parts.append("</div>")
    parts.append(f"<h2>{e(_t('quarantine', lang))}</h2>")
    if quarantine.height:
        q = _mask_quarantine(quarantine.sort(["dataset", "source_file", "row_number", "column"]).head(AUDIT_QUARANTINE_ROWS))
        parts.append("<table id='audit-quarantine'><thead><tr>" + "".join(
            f"<th>{e(_t(k, lang))}</th>" for k in ("dataset", "file", "line", "record", "column", "raw", "reason")) + "</tr></thead><tbody>")
        for r in q.iter_rows(named=True):
            parts.append(
                f"<tr><td>{e(_dataset_name(r['dataset'], lang))}</td><td>{e(str(r['source_file'] or ''))}</td>"
                f"<td class=num>{r['row_number']}</td><td>{e(str(r['record_id'] or ''))}</td><td>{e(str(r['column'] or ''))}</td>"
                f"<td>{e(str(r['raw_value'] or ''))}</td><td>{e(_reason(r['reason'], lang, checks_zh))}</td></tr>"
            )
        parts.append("</tbody></table>")
        if quarantine.height > AUDIT_QUARANTINE_ROWS:
            parts.append(f"<p class=muted>{e(_t('more', lang, n=AUDIT_QUARANTINE_ROWS))}</p>")
    else:
        parts.append(f"<p class=ok>{e(_t('none_failed', lang))}</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_audit_pages(out: Path, report: dict, unusable: dict[str, str], load_quarantine: pl.DataFrame | None,
                      validation_quarantine: pl.DataFrame, docs_index: Path | None) -> dict[str, Path]:
    """Write ``audit.html`` (Chinese) and ``audit.en.html`` beside ``validation.json``."""
    frames = [f for f in (load_quarantine, validation_quarantine) if f is not None and f.height]
    cols = list(validation_quarantine.schema)
    quarantine = pl.concat([f.select(cols) for f in frames]) if frames else validation_quarantine.clear()
    docs_href = os.path.relpath(docs_index, out).replace(os.sep, "/") if docs_index is not None else None
    paths = {}
    for lang, name in AUDIT_PAGES.items():
        path = out / name
        path.write_text(audit_page(lang, report, unusable, quarantine, docs_href), encoding="utf-8")
        paths[lang] = path
    return paths


# --------------------------------------------------------------------------- Data Docs offline
VENDOR_DIR = "static/fundwatch-vendor"
#: CDN URL (as GE's templates write it) -> the bundled file, relative to ``assets/vendor``.
CDN_ASSETS: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper-1.12.9.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control-1.19.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker-1.9.0.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "bootstrap-prefers-dark-1.1.0.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-6.6.0.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0.min.js",
}
_ASSET_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.I)
_ASSET_REF = re.compile(r"""(\b(?:src|href)=)(["'])(https?://[^"']+)\2""", re.I)
#: Subresource-integrity and CORS attributes: a file:// page cannot load a script marked
#: crossorigin (Chromium blocks it), and the bundled copies are ours, not a CDN's.
_SRI = re.compile(r"""\s(?:integrity|crossorigin)(?:=(["'])[^"']*\1)?""", re.I)
_NEWSLETTER = re.compile(r"<p>[^<]*newsletter[^<]*<a[^>]*>[^<]*</a>\s*</p>", re.I)
_OFFLINE_CSS = """<style id="fw-offline-style">
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
#fw-offline-index{margin:1rem 2rem;padding:.6rem 1rem;border:1px solid #d8dde3;border-radius:6px;background:#f6f8fa}
#fw-offline-index h2{font-size:1.1rem;margin:.2rem 0 .4rem}
</style>"""


def _assets_root() -> Path:
    return Path(str(resources.files(__package__).joinpath("assets")))


def make_offline(site_dir: Path, status: dict[str, bool] | None = None, audit: dict[str, Path] | None = None) -> None:
    """Make the Data Docs site work with no network.

    * the bundled assets are copied to ``static/fundwatch-vendor/`` and every page's CDN
      ``<script>``/``<link>`` points at them (relative to the page);
    * a remote reference nobody bundled is removed (the page must never wait for a request);
    * GE's newsletter bar is removed; the index gets a plain list of every validation and
      suite page (with ``status``: dataset -> success) and links to the auditors' pages.
    """
    status = status or {}
    vendor = site_dir / VENDOR_DIR
    if vendor.exists():
        shutil.rmtree(vendor)
    shutil.copytree(_assets_root() / "vendor", vendor)
    shutil.copytree(_assets_root() / "licenses", vendor / "licenses")
    index = site_dir / "index.html"
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        rel = os.path.relpath(vendor, page.parent).replace(os.sep, "/")

        def local(m: re.Match, rel: str = rel) -> str:
            target = CDN_ASSETS.get(m.group(3))
            if target is None:
                return m.group(1) + m.group(2) + "data:," + m.group(2)  # never fetched
            return m.group(1) + m.group(2) + f"{rel}/{target}" + m.group(2)

        def tag(m: re.Match, local=local) -> str:
            t = m.group(0)
            ref = _ASSET_REF.search(t)
            if not ref:
                return t
            if t[:4].lower() == "<img" and ref.group(3) not in CDN_ASSETS:
                return ""  # a remote logo: nothing to show offline
            return _SRI.sub("", _ASSET_REF.sub(local, t))

        html = _ASSET_TAG.sub(tag, html)
        html = _NEWSLETTER.sub("", html)
        html = re.sub(r'<a[^>]*href="https://greatexpectations\.io[^"]*"[^>]*>(.*?)</a>', r"\1", html, flags=re.S)
        if "</head>" in html and 'id="fw-offline-style"' not in html:
            html = html.replace("</head>", _OFFLINE_CSS + "</head>", 1)
        if page == index and 'id="fw-offline-index"' not in html:
            html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _index_block(site_dir, status, audit), html, count=1)
        page.write_text(html, encoding="utf-8")


def _index_block(site_dir: Path, status: dict[str, bool], audit: dict[str, Path] | None) -> str:
    items = []
    for page in sorted((site_dir / "validations").rglob("*.html")):
        ds = page.stem
        ok = status.get(ds)
        mark = "通过 passed" if ok else ("未通过 failed" if ok is not None else "")
        items.append(f'<li><a href="{page.relative_to(site_dir).as_posix()}">{escape(_dataset_name(ds, "zh"))}</a> {mark}</li>')
    links = ""
    if audit:
        links = " · ".join(
            f'<a class="fw-audit-link" href="{os.path.relpath(p, site_dir).replace(os.sep, "/")}">{escape(_t("title", lang))}</a>'
            for lang, p in audit.items()
        )
    return (
        '<div id="fw-offline-index"><h2>fundwatch 数据校验 / validation</h2>'
        + (f"<p>{links}</p>" if links else "")
        + "<ul>" + "".join(items) + "</ul></div>"
    )
