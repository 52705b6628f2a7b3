"""The offline HTML report: one self-contained file that supervisors and auditors open.

No CDN, no font, no image, no request of any kind: CSS, script and charts are inline, and
a Content-Security-Policy forbids every fetch and every script but the report's own (by
hash). The leads are embedded as JSON in a ``<script type="application/json">`` block with
``<``, ``>`` and ``&`` escaped, so data can never close the tag; the script renders them with
``textContent`` only. Everything rendered in Python is :func:`html.escape`-d.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from html import escape
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS, Settings
from fundwatch.textfmt import tidy_en, tidy_zh

from fundwatch.leads import money_by_month, money_once, total_at_risk

from . import charts
from .i18n import (
    check_lang,
    column_label,
    dataset_label,
    js_labels,
    local_time,
    money_text,
    peer_group_label,
    reason_label,
    rule_labels,
    t,
    value_label,
    value_labels,
)
from .prepare import (
    evidence_frame,
    examples_as_text,
    known_names,
    leads_frame,
    localise_leads,
    mask_all,
    mask_quarantine,
    match_findings,
    quarantine_frame,
    status_frame,
    unusable_datasets,
    validation_failures,
    validation_frame,
)

REPORT_NAME = "report.html"
#: The auditors' page written by the validation step beside validation.json.
AUDIT_PAGE = "audit.html"

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")


# --------------------------------------------------------------------------- helpers
def json_for_script(payload: object) -> str:
    """JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc. so that ``</script>`` or ``<!--`` in the data
    cannot end or confuse the element; U+2028/2029 are escaped for old parsers.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")


def _get(obj: object, key: str, default: object = None) -> object:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def relative_link(docs_link: str | os.PathLike | None, out_dir: Path) -> str | None:
    """A relative, URL-quoted link to the Data Docs, or None when there is none to give.

    Absolute paths are made relative to ``out_dir`` (the report must keep working when the
    output folder is moved or copied); links with a scheme (``http:``, ``javascript:``…) are
    refused because the report never points outside its own folder.
    """
    if docs_link is None or str(docs_link).strip() == "":
        return None
    raw = str(docs_link)
    if _SCHEME.match(raw) and not re.match(r"^[a-zA-Z]:[\\/]", raw):
        return None
    path = Path(raw)
    if path.is_absolute():
        try:
            raw = os.path.relpath(path, out_dir)
        except ValueError:
            return None
    return quote(Path(raw).as_posix(), safe="/._-~")


def _audit_href(docs_link: str | os.PathLike | None, out_dir: Path) -> str | None:
    """The auditors' page (``validation/audit.html`` beside ``validation.json``) when it exists."""
    for candidate in (out_dir / "validation" / AUDIT_PAGE,):
        if candidate.exists():
            return relative_link(candidate, out_dir)
    return None


def _dataset_counts(run_info: Mapping) -> list[tuple[str, int, int, int]]:
    counts = run_info.get("counts") or run_info.get("datasets") or {}
    rows = []
    if isinstance(counts, Mapping):
        items = counts.items()
    else:  # a list of dicts with a "dataset" key
        items = [(_get(c, "dataset", "?"), c) for c in counts]
    for name, c in items:
        rows.append(
            (
                str(name),
                int(_get(c, "rows_read", 0) or 0),
                int(_get(c, "rows_accepted", 0) or 0),
                int(_get(c, "rows_quarantined", 0) or 0),
            )
        )
    return sorted(rows)


def _period(run_info: Mapping, leads: pl.DataFrame, lang: str = "zh") -> str:
    """The data's months: ``2025-01 至 2025-12`` (one month once), ``–`` when unknown."""
    p = run_info.get("period") or run_info.get("period_range")
    if p and not isinstance(p, (list, tuple)):
        return str(p)
    if isinstance(p, (list, tuple)) and len(p) == 2:
        start, end = p
    else:
        start, end = run_info.get("period_start"), run_info.get("period_end")
    if not start and not leads.is_empty():
        start = leads["period_start"].drop_nulls().min()
        end = leads["period_end"].drop_nulls().max()
    if not (start or end):
        return "–"
    if start == end:
        return str(start)
    return f"{start or '?'} {'至' if lang == 'zh' else '–'} {end or '?'}"


def _top_rows(frame: pl.DataFrame, key: str, top_n: int, label_of, other: str) -> list[tuple[str, int, float]]:
    """``(label, count, money)`` per value of ``key``, biggest money first, tail folded into 'other'.

    Money counts each evidence record once (:func:`fundwatch.leads.money_once`): a record
    cited by several leads is counted in the group of the best-ranked of them.
    """
    if frame.is_empty():
        return []
    g = _grouped_once(frame.filter(pl.col(key).is_not_null()), key).sort(["m", "n", key], descending=[True, True, False])
    rows = [(label_of(k), int(n), float(m)) for k, n, m in g.iter_rows()]
    if len(rows) > top_n:
        tail = rows[top_n - 1 :]
        rows = rows[: top_n - 1] + [(other, sum(r[1] for r in tail), sum(r[2] for r in tail))]
    return rows


def _grouped_once(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key, n`` (leads) and ``m`` (money, each record once) per value of ``key``."""
    n = frame.group_by(key).agg(pl.len().alias("n"))
    if "record_amounts" not in frame.columns:  # an older leads file: no per-record money
        return n.join(frame.group_by(key).agg(pl.col("amount_at_risk").fill_null(0).sum().alias("m")), on=key)
    m = money_once(frame, by=key).group_by(key).agg(pl.col("amount").sum().alias("m"))
    return n.join(m, on=key, how="left").with_columns(pl.col("m").fill_null(0.0))


#: Edges of the expected-money histogram (CNY, log scale) and their labels.
_SCORE_EDGES = (0.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, float("inf"))
_SCORE_LABELS = {"zh": ("0", "100", "1千", "1万", "10万", "100万", "∞"), "en": ("0", "100", "1k", "10k", "100k", "1M", "∞")}


# --------------------------------------------------------------------------- sections
def _generated_at(run_info: Mapping, settings: Settings) -> str:
    """When the run finished (or started), in the report's time zone (Asia/Shanghai)."""
    stamp = run_info.get("generated_at") or run_info.get("finished_at") or run_info.get("started_at")
    if stamp is None:
        stamp = dt.datetime.now(dt.UTC)
    return local_time(stamp, settings.report.timezone)


def _quarantined_rows(run_info: Mapping, quarantine: pl.DataFrame) -> int:
    counts = _dataset_counts(run_info)
    if counts:
        return sum(c[3] for c in counts)
    if quarantine.is_empty():
        return 0
    return int(quarantine.select(pl.struct("dataset", "source_file", "row_number").n_unique()).item())


def _header_html(run_info: Mapping, leads: pl.DataFrame, validation: pl.DataFrame, quarantine: pl.DataFrame,
                 audit_href: str | None, lang: str, unmask: bool, settings: Settings) -> str:
    """Title, one line of context and the summary cards: what a supervisor needs first."""
    failures = validation_failures(run_info, validation)
    n_high = int(leads.filter(pl.col("severity") == "high").height)
    money = total_at_risk(leads)  # money in doubt: each record's money once
    when = _generated_at(run_info, settings)
    note = t("unmasked_note", lang) if unmask else t("masked_note", lang)
    context = (
        f'<p class="context"><span>{escape(t("period_range", lang))}:{escape(_period(run_info, leads, lang))}</span>'
        f'<span>{escape(t("generated_at", lang))}:{escape(when)}({escape(t("local_time", lang))})</span>'
        f'<span class="{"warn" if unmask else "muted"}" id="mask-note">{escape(note)}</span></p>'
    )
    if lang == "en":
        context = context.replace(":", ": ").replace("(", " (").replace(")", ")")
    quality = t("kpi_quality_text", lang, failed=f"{int(failures):,}", quarantined=f"{_quarantined_rows(run_info, quarantine):,}")
    link = (
        f' <a id="audit-link" href="{escape(audit_href)}">{escape(t("audit_page", lang))}</a>' if audit_href else ""
    )
    kpis = (
        '<div class="kpis">'
        f'<div class="kpi"><span>{escape(t("n_leads", lang))}</span><b id="kpi-leads">{leads.height:,}</b>'
        f'<small>{escape(t("kpi_high_of", lang, n=f"{n_high:,}"))}</small></div>'
        f'<div class="kpi"><span>{escape(t("money_total", lang))}</span>'
        f'<b id="kpi-money">{escape(money_text(money, lang, settings.report.wan_from_cny))}</b></div>'
        f'<div class="kpi{" bad" if failures else ""}"><span>{escape(t("kpi_quality", lang))}</span>'
        f'<b id="kpi-failures" data-n="{int(failures)}">{escape(quality)}</b>{link}</div>'
        "</div>"
    )
    return f'<header><h1>{escape(t("report_title", lang))}</h1>{context}{kpis}</header>'


def _tabs_html(lang: str) -> str:
    """Tabs over the sections below the cards; without script every section simply shows."""
    tabs = (("leads", "tab_leads"), ("overview", "tab_charts"), ("validation", "tab_quality"))
    buttons = "".join(
        f'<button type="button" role="tab" id="tab-{sid}" data-section="{sid}" aria-controls="{sid}" '
        f'aria-selected="{"true" if i == 0 else "false"}">{escape(t(label, lang))}</button>'
        for i, (sid, label) in enumerate(tabs)
    )
    return f'<nav class="tabs" role="tablist">{buttons}</nav>'


def _region_names(leads: pl.DataFrame) -> dict[str, str]:
    """region code -> name, from the leads' ``region_name`` column where it is given."""
    if "region_name" not in leads.columns or leads.is_empty():
        return {}
    pairs = (
        leads.select("region_code", pl.col("region_name").cast(pl.String))
        .drop_nulls()
        .filter(pl.col("region_name").str.len_chars() > 0)
        .unique("region_code", keep="first")
    )
    return dict(pairs.iter_rows())


def _overview_html(
    leads: pl.DataFrame, lang: str, settings: Settings, names: dict[str, str] | None = None,
    evidence: pl.DataFrame | None = None,
) -> str:
    rs = settings.report
    rules = rule_labels(lang, settings)
    names = names if names is not None else _region_names(leads)
    other = t("other", lang)
    kw = {"count_label": t("chart_count", lang), "money_label": t("chart_money", lang), "no_data": t("no_data", lang), "lang": lang}
    frame = leads.with_columns(
        pl.col("rule_codes").list.first().alias("_rule"),
        pl.when(pl.col("region_code").str.len_chars() >= 6).then(pl.col("region_code").str.slice(0, 6)).alias("_county"),
        pl.when(pl.col("region_code").str.len_chars() >= 9).then(pl.col("region_code").str.slice(0, 9)).alias("_township"),
    )

    def place(code: str) -> str:
        return f"{names[code]} {code}" if code in names else str(code)

    def rule(code: str) -> str:
        if code not in rules:
            return str(code)
        return rules[code]["title"] if lang == "zh" else f"{rules[code]['title']} ({code})"

    by_rule = _top_rows(frame, "_rule", rs.chart_top_n, rule, other)
    by_county = _top_rows(frame, "_county", rs.chart_top_n, place, other)
    by_town = _top_rows(frame, "_township", rs.chart_top_n, place, other)
    # each record's money in its own month, a model's unlisted excess spread over its period
    by_month = [(str(k), int(n), float(m)) for k, n, m in money_by_month(frame, evidence).iter_rows()]
    # the score is expected money in doubt (fundwatch.scoring): a histogram over decades
    edges = list(_SCORE_EDGES)
    hist = [0] * (len(edges) - 1)
    if not frame.is_empty():
        scores = frame["score"].fill_null(0.0)
        for i in range(len(hist)):  # six bins, not rows
            hist[i] = int(((scores >= edges[i]) & (scores < edges[i + 1])).sum())
    figs = [
        ("chart-rule", t("chart_by_rule", lang), charts.dual_bar_chart(by_rule, **kw)),
        ("chart-county", t("chart_by_county", lang), charts.dual_bar_chart(by_county, **kw)),
        ("chart-township", t("chart_by_township", lang), charts.dual_bar_chart(by_town, **kw)),
        ("chart-score", t("chart_score", lang), charts.histogram(hist, edges, title=t("chart_count", lang), no_data=t("no_data", lang), edge_labels=list(_SCORE_LABELS["zh" if lang == "zh" else "en"]))),
        ("chart-month", t("chart_month", lang), charts.dual_bar_chart(by_month, label_width=90, **kw)),
    ]
    body = "".join(f'<figure id="{fid}"><figcaption>{escape(cap)}</figcaption>{svg}</figure>' for fid, cap, svg in figs)
    return f'<section id="overview" class="tabbed"><h2>{escape(t("sec_overview", lang))}</h2><div class="charts">{body}</div></section>'


def _check_text(r: Mapping, lang: str) -> str:
    """What a check verifies, in ``lang``: the summary's ``description_zh``/``description``."""
    if lang == "zh" and r.get("description_zh"):
        return str(r["description_zh"])
    return str(r.get("description") or r.get("expectation") or "")


def _counts_html(run_info: Mapping, lang: str) -> str:
    counts = _dataset_counts(run_info)
    if not counts:
        return ""
    rows = "".join(
        f'<tr><td title="{escape(n)}">{escape(dataset_label(n, lang))}</td><td class=num>{r:,}</td>'
        f"<td class=num>{a:,}</td><td class=num>{q:,}</td></tr>"
        for n, r, a, q in counts
    )
    tr, ta, tq = (sum(c[i] for c in counts) for i in (1, 2, 3))
    rows += f'<tr class="total"><td>{escape(t("total", lang))}</td><td class=num>{tr:,}</td><td class=num>{ta:,}</td><td class=num>{tq:,}</td></tr>'
    table = (
        f'<table class="counts" id="counts-table"><thead><tr><th>{escape(t("dataset", lang))}</th><th>{escape(t("rows_read", lang))}</th>'
        f'<th>{escape(t("rows_accepted", lang))}</th><th>{escape(t("rows_quarantined", lang))}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    unusable = "".join(
        f"<li><b>{escape(dataset_label(d, lang))}</b>: {escape(why)}</li>" for d, why in sorted(unusable_datasets(run_info).items())
    )
    if unusable:
        table += f'<p class="bad">{escape(t("unusable", lang))}</p><ul id="unusable">{unusable}</ul>'
    return table


def _run_facts_html(run_info: Mapping, lang: str, settings: Settings) -> str:
    fp = str(run_info.get("fingerprint") or run_info.get("input_fingerprint") or "–")
    facts = [
        (t("run_id", lang), str(run_info.get("run_id") or "–"), None),
        (t("fingerprint", lang), fp[:16] + ("…" if len(fp) > 16 else ""), fp),
        (t("generated_at", lang), f"{_generated_at(run_info, settings)} ({t('local_time', lang)})", None),
    ]
    dl = "".join(
        f'<div class="fact"><dt>{escape(k)}</dt><dd{(" title=" + chr(34) + escape(full) + chr(34)) if full else ""}>{escape(v)}</dd></div>'
        for k, v, full in facts
    )
    return f'<h3>{escape(t("run", lang))}</h3><dl class="facts">{dl}</dl>'


def _validation_html(run_info: Mapping, validation: pl.DataFrame, quarantine: pl.DataFrame, docs_href: str | None,
                     audit_href: str | None, lang: str, settings: Settings, unmask: bool) -> str:
    cap = settings.report.validation_rows_html
    parts = [f'<section id="validation" class="tabbed"><h2>{escape(t("sec_validation", lang))}</h2>']
    links = []
    if audit_href:
        links.append(f'<a href="{escape(audit_href)}">{escape(t("audit_page", lang))}</a>')
    if docs_href:
        links.append(f'<a id="docs-link" href="{escape(docs_href)}">{escape(t("data_docs", lang))}</a>')
    else:
        links.append(f'<span class="muted">{escape(t("data_docs_missing", lang))}</span>')
    parts.append(f'<p class="links">{" · ".join(links)}</p>')
    parts.append(_counts_html(run_info, lang))
    checks_zh: dict[str, str] = {}
    if validation.is_empty():
        parts.append(f'<p class="muted">{escape(t("v_none", lang))}</p>')
    else:
        sev_order = {"critical": 0, "warning": 1, "info": 2}
        v = validation.with_columns(
            pl.col("severity").replace_strict(sev_order, default=3).alias("_s"),
        ).sort(["success", "_s", "unexpected_count", "dataset", "expectation"], descending=[False, False, True, False, False], nulls_last=True)
        if "description_zh" in v.columns:
            checks_zh = dict(v.select("expectation", "description_zh").drop_nulls().iter_rows())
        has_examples = "examples" in v.columns
        if has_examples:
            v = mask_all(examples_as_text(v), [], [], unmask)
            if lang == "zh":  # "line 7410 claims.csv [id]: …" -> "第 7410 行 claims.csv [id]: …"
                v = v.with_columns(pl.col("examples").str.replace_all(r"\bline (\d+)", "第 ${1} 行"))
        head = [t("dataset", lang), t("v_check", lang), t("v_severity", lang), t("v_success", lang), t("v_unexpected", lang), t("v_percent", lang)]
        if has_examples:
            head.append(t("v_examples", lang))
        thead = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>"

        def row_html(r: dict) -> str:
            ok = r["success"] is not False
            pct = r["unexpected_percent"]
            result = t("v_pass" if ok else "v_fail", lang) if r["success"] is not None else "–"
            cells = [
                escape(dataset_label(r["dataset"], lang)),
                f'<span title="{escape(str(r["expectation"] or ""))}">{escape(_check_text(r, lang))}</span>',
                escape(value_label("vseverity", r["severity"], lang)),
                f'<span class="{"ok" if ok else "bad"}">{escape(result)}</span>',
                f'{int(r["unexpected_count"] or 0):,}',
                "" if pct is None else f"{pct:.2f}%",
            ]
            if has_examples:
                cells.append(escape(str(r["examples"] or "")))
            cls = ' class="fail"' if not ok else ""
            return f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

        rows = v.head(cap).to_dicts()
        failed = [r for r in rows if r["success"] is False]
        others = [r for r in rows if r["success"] is not False]
        parts.append(
            '<table class="grid" id="validation-table">' + thead + "<tbody>" + "".join(row_html(r) for r in failed) + "</tbody></table>"
        )
        if others:
            parts.append(
                f'<details id="validation-passed"><summary>{escape(t("v_passed_more", lang, n=len(others)))}</summary>'
                '<table class="grid">' + thead + "<tbody>" + "".join(row_html(r) for r in others) + "</tbody></table></details>"
            )
        if v.height > cap:
            parts.append(f'<p class="muted">{escape(t("v_more", lang, n=v.height - cap))}</p>')
    if not quarantine.is_empty():
        q = (
            quarantine.group_by(["dataset", "column", "reason"])
            .len()
            .sort(["len", "dataset", "column", "reason"], descending=[True, False, False, False])
            .head(cap)
        )
        parts.append(f'<h3>{escape(t("sec_quarantine", lang))}</h3><table class="grid" id="quarantine-table"><thead><tr>')
        parts.append("".join(f"<th>{escape(h)}</th>" for h in (t("dataset", lang), t("q_column", lang), t("q_reason", lang), t("q_rows", lang))))
        parts.append("</tr></thead><tbody>")
        for d, c, reason, n in q.iter_rows():
            parts.append(
                f"<tr><td>{escape(dataset_label(d, lang))}</td><td>{escape(column_label(d, c, lang))}</td>"
                f"<td>{escape(reason_label(reason, lang, checks_zh))}</td><td class=num>{n:,}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(_run_facts_html(run_info, lang, settings))
    parts.append("</section>")
    return "".join(parts)


# --------------------------------------------------------------------------- data
def _finite(obj: object) -> object:
    """``obj`` with NaN and infinities replaced by None (JSON has no such numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _thin(values: list, k: int) -> list:
    """At most ``k`` evenly spaced order statistics of ``values`` (keeps min, max, shape)."""
    vals = sorted(float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v))
    if len(vals) <= k:
        return vals
    return [vals[round(i * (len(vals) - 1) / (k - 1))] for i in range(k)]


def _details(text: str | None, k: int) -> object:
    """The parsed ``details`` JSON with peer values thinned; None when empty or unreadable."""
    if not text or text in ("{}", "null"):
        return None
    try:
        d = json.loads(text)
    except ValueError:
        return None
    if not isinstance(d, dict) or not d:
        return None
    d = _finite(d)
    feats = d.get("features")
    if isinstance(feats, list):
        for f in feats:
            if isinstance(f, dict) and isinstance(f.get("peer_values"), list):
                f["n_peers"] = len(f["peer_values"])
                f["peer_values"] = _thin(f["peer_values"], k)
    return d


def _columns(frame: pl.DataFrame) -> dict[str, list]:
    """Column name -> values, non-finite floats as null."""
    frame = frame.with_columns(
        pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c)
        for c, dt_ in frame.schema.items()
        if dt_.is_float()
    )
    return {c: frame[c].to_list() for c in frame.columns}


def build_payload(
    leads: pl.DataFrame,
    status: pl.DataFrame,
    matched: pl.DataFrame,
    evidence: pl.DataFrame,
    lang: str,
    settings: Settings,
    places: dict[str, str] | None = None,
) -> dict:
    """The JSON the report's script renders (already masked and localised)."""
    rs = settings.report
    L = leads.join(status, on="lead_id", how="left").sort("rank", nulls_last=True)
    if "region_name" not in L.columns:
        L = L.with_columns(pl.lit(None, pl.String).alias("region_name"))
    L = L.with_columns(
        pl.col("status").fill_null("new"),
        pl.col("record_ids").list.len().fill_null(0).alias("n_records"),
        # every record id, for the search box (record ids are not personal)
        pl.col("record_ids").list.join(" ").fill_null("").alias("record_text"),
    ).select(
        "lead_id", "rank", "score", "severity", "domain", "entity_type", "entity_id", "rule_codes", "title",
        "amount_at_risk", "period_start", "period_end", "region_code", "region_name", "explanation", "status", "note",
        "is_new", "n_records", "record_text",
        *[c for c in ("amount_involved", "related_lead_ids") if c in L.columns],
    )
    ev = (
        evidence.with_columns(
            pl.col("date").dt.to_string("%Y-%m-%d").alias("date"),
            pl.int_range(pl.len()).over("lead_id").alias("_i"),
            pl.len().over("lead_id").alias("_n"),
        )
        .filter(pl.col("_i") < rs.evidence_per_lead_html)
        .drop("_i")
    )
    if lang == "zh" and ev.height:
        ev = ev.with_columns(tidy_zh(pl.col("description")).alias("description"))
    ev_total = ev.group_by("lead_id", maintain_order=True).agg(pl.col("_n").first())
    ev = ev.drop("_n")
    text_col = "evidence_zh" if lang == "zh" else "evidence_en"
    fnd = matched.select("lead_id", "rule_code", pl.col(text_col).alias("text"), "details")
    details = [_details(d, rs.peer_values_max) for d in fnd["details"].to_list()]
    for d in details:
        if isinstance(d, dict) and d.get("peer_group"):
            d["peer_group_label"] = peer_group_label(str(d["peer_group"]), lang, places)
    return {
        "lang": lang,
        "labels": js_labels(lang),
        "rules": rule_labels(lang, settings),
        "values": {k: value_labels(k, lang) for k in ("severity", "domain", "entity_type", "status", "record_type")},
        "page_size": rs.page_size,
        "page_sizes": list(rs.page_sizes),
        "wan_from": rs.wan_from_cny,
        "leads": _columns(L),
        "evidence": _columns(ev),
        "evidence_total": _columns(ev_total.rename({"_n": "n"})),
        "findings": {
            "lead_id": fnd["lead_id"].to_list(),
            "rule_code": fnd["rule_code"].to_list(),
            "text": fnd["text"].to_list(),
            "details": details,
        },
    }


def _leads_section(lang: str) -> str:
    """Static skeleton of the leads table; the script fills it."""
    def sel(id_: str, label: str) -> str:
        return f'<label>{escape(t(label, lang))} <select id="{id_}"><option value="">{escape(t("all", lang))}</option></select></label>'

    return (
        f'<section id="leads" class="tabbed"><h2 class="sr">{escape(t("sec_leads", lang))}</h2>'
        '<div class="filters">'
        f'<label>{escape(t("search", lang))} <input id="f-search" type="search" placeholder="{escape(t("search_ph", lang))}"></label>'
        + sel("f-domain", "f_domain")
        + sel("f-rule", "f_rule")
        + sel("f-region", "f_region")
        + sel("f-severity", "f_severity")
        + sel("f-status", "f_status")
        + f'<button id="f-reset" type="button">{escape(t("reset", lang))}</button>'
        "</div>"
        '<div class="tablewrap"><table class="grid" id="leads-table"><thead><tr id="leads-head"></tr></thead>'
        '<tbody id="leads-body"></tbody></table></div>'
        '<div class="pager">'
        f'<button id="btn-first" type="button">{escape(t("first", lang))}</button>'
        f'<button id="btn-prev" type="button">{escape(t("prev", lang))}</button>'
        '<span id="page-info"></span>'
        f'<button id="btn-next" type="button">{escape(t("next", lang))}</button>'
        f'<button id="btn-last" type="button">{escape(t("last", lang))}</button>'
        f'<label>{escape(t("page_size", lang))} <select id="page-size"></select></label>'
        f'<span class="muted hint">{escape(t("sort_hint", lang))}</span>'
        "</div></section>"
        f'<div id="detail" class="detail" role="dialog" aria-modal="false" aria-labelledby="detail-title" hidden>'
        '<div class="detail-bar"><h2 id="detail-title"></h2><div class="detail-actions">'
        f'<a id="detail-link" href="#">{escape(t("lead_link", lang))}</a>'
        f'<button id="detail-print" type="button">{escape(t("print_lead", lang))}</button>'
        f'<button id="detail-close" type="button">{escape(t("close", lang))}</button></div></div>'
        '<div id="detail-body"></div></div>'
    )


# --------------------------------------------------------------------------- API
def render_report(
    *,
    leads: pl.DataFrame,
    status: pl.DataFrame | None,
    findings: pl.DataFrame | None,
    evidence: pl.DataFrame | None,
    run_info: Mapping | None,
    validation_summary: pl.DataFrame | None,
    docs_href: str | None,
    lang: str = "zh",
    unmask: bool = False,
    quarantine: pl.DataFrame | None = None,
    settings: Settings | None = None,
    audit_href: str | None = None,
    places: pl.DataFrame | None = None,
) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    lang = check_lang(lang)
    settings = settings or DEFAULT_SETTINGS
    run_info = dict(run_info or {})
    L = leads_frame(leads)
    S = status_frame(status)
    E = evidence_frame(evidence)
    names, masked = known_names(E, L)
    matched = match_findings(L, findings)
    L = localise_leads(L, matched, lang)
    L = mask_all(L, names, masked, unmask)
    if lang == "zh":
        L = L.with_columns(tidy_zh(pl.col("title")), tidy_zh(pl.col("explanation")))
    else:
        L = L.with_columns(tidy_en(pl.col("title")), tidy_en(pl.col("explanation")))
    S = mask_all(S, names, masked, unmask)
    E = mask_all(E, names, masked, unmask)
    matched = mask_all(matched, names, masked, unmask)
    V = validation_frame(validation_summary)
    Q = mask_quarantine(quarantine_frame(quarantine), unmask)

    place_names = _region_names(L)
    if places is not None and places.height:
        place_names.update(dict(places.select("region_code", "region_name").iter_rows()))
    payload = build_payload(L, S, matched, E, lang, settings, place_names)
    script = _asset("report.js")
    style = _asset("report.css")
    csp = (
        "default-src 'none'; "
        f"script-src '{_csp_hash(script)}'; "
        "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
        "form-action 'none'; base-uri 'none'"
    )
    body = (
        _header_html(run_info, L, V, Q, audit_href, lang, unmask, settings)
        + _tabs_html(lang)
        + "<main>"
        + _leads_section(lang)
        + _overview_html(L, lang, settings, place_names, E)
        + _validation_html(run_info, V, Q, docs_href, audit_href, lang, settings, unmask)
        + "</main>"
        + f'<footer class="muted">{escape(t("generated_by", lang))}</footer>'
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(t('report_title', lang))}</title><style>{style}</style></head><body>"
        f"{body}"
        f'<script type="application/json" id="fw-data">{json_for_script(payload)}</script>'
        f"<script>{script}</script></body></html>\n"
    )


def write_report(
    out_dir: str | os.PathLike,
    *,
    leads: pl.DataFrame,
    status: pl.DataFrame | None,
    findings: pl.DataFrame | None,
    evidence: pl.DataFrame | None,
    run_info: Mapping | None,
    validation_summary: pl.DataFrame | None,
    docs_link: str | os.PathLike | None,
    lang: str = "zh",
    unmask: bool = False,
    quarantine: pl.DataFrame | None = None,
    settings: Settings | None = None,
    places: pl.DataFrame | None = None,
) -> Path:
    """Write ``OUT_DIR/report.html``, the offline report, and return its path.

    Parameters
    ----------
    out_dir : the run's output directory (created if missing).
    leads : :data:`fundwatch.contract.LEADS_SCHEMA`, whole ids.
    status : ``lead_id, status, note, is_new`` from the lead store, or None (all "new").
    findings : :data:`detectors.base.FINDINGS_SCHEMA`; gives the English explanations, the
        per-rule evidence text and the peer comparisons of model leads. May be None.
    evidence : ``lead_id, record_id, record_type, date, person_id, name, counterparty, amount,
        description`` (``fundwatch.leads.evidence_table``), or None.
    run_info : ``run_id``, ``fingerprint``, ``period`` (``(start, end)``) or
        ``period_start``/``period_end``, ``counts`` (dataset -> ``rows_read``,
        ``rows_accepted``, ``rows_quarantined``, as dicts or ``DatasetCounts``),
        ``validation_failures`` (counted from ``validation_summary`` when absent),
        ``generated_at``. Missing keys show as "–".
    validation_summary : ``dataset, expectation, severity, success, unexpected_count,
        unexpected_percent`` (``examples`` shown when present), or None.
    docs_link : the Data Docs ``index.html``: relative to ``out_dir`` or absolute inside it.
    lang : ``"zh"`` (default) or ``"en"``: every label, rule title and explanation.
    unmask : show identity numbers and names whole (default: masked).
    quarantine : :data:`fundwatch.contract.QUARANTINE_SCHEMA`, summarised by reason (optional).
    settings : :class:`fundwatch.settings.Settings`; ``settings.report`` is used.
    places : ``region_code, region_name`` (:func:`fundwatch.leads.region_names` of the
        ``regions`` dataset), or None: counties and townships in the charts and peer groups are
        shown as name and code (else only the leads' own places are named).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_report(
        leads=leads,
        status=status,
        findings=findings,
        evidence=evidence,
        run_info=run_info,
        validation_summary=validation_summary,
        docs_href=relative_link(docs_link, out),
        lang=lang,
        unmask=unmask,
        quarantine=quarantine,
        settings=settings,
        audit_href=_audit_href(docs_link, out),
        places=places,
    )
    path = out / REPORT_NAME
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path
