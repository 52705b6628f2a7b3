"""Inline SVG charts for the report's overview: no library, no network, text escaped.

Each function returns one ``<svg>`` element as a string. Every piece of text that comes
from data goes through :func:`html.escape`, so a hostile label is drawn as text.
"""

from __future__ import annotations

from html import escape

PALETTE = {"count": "#3b6ea8", "money": "#c8793a", "axis": "#888", "grid": "#e4e4e4", "text": "#222"}


def fmt_money(value: float | None) -> str:
    """``1234567.8`` -> ``1,234,567.80``."""
    if value is None:
        return ""
    return f"{value:,.2f}"


def fmt_short(value: float, lang: str = "en") -> str:
    """Compact number for axis and bar labels: ``12.3万``/``1.2亿`` in Chinese (a Chinese reader
    counts in 万), ``12.3k``/``4.5M`` in English."""
    a = abs(value)
    if lang == "zh":
        if a >= 1e8:
            return f"{value / 1e8:.2f}亿"
        if a >= 1e4:
            return f"{value / 1e4:.1f}万"
        return f"{value:.0f}" if value == int(value) or a >= 100 else f"{value:.1f}"
    if a >= 1e8:
        return f"{value / 1e8:.1f}e8"
    if a >= 1e6:
        return f"{value / 1e6:.1f}M"
    if a >= 1e4:
        return f"{value / 1e3:.0f}k"
    if a >= 1e3:
        return f"{value / 1e3:.1f}k"
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.1f}"


def _text_px(text: str, size: int = 12) -> float:
    """Rough rendered width: wide (CJK) characters about one em, others about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def fit_label(text: str, max_px: float, size: int = 12) -> str:
    """``text`` cut with an ellipsis so that it fits ``max_px`` at font ``size``."""
    if _text_px(text, size) <= max_px:
        return text
    out = ""
    for ch in text:
        if _text_px(out + ch + "…", size) > max_px:
            break
        out += ch
    return out + "…"


def _empty(width: int, height: int, no_data: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><text x="{width // 2}" y="{height // 2}" '
        f'text-anchor="middle" fill="{PALETTE["axis"]}">{escape(no_data)}</text></svg>'
    )


def dual_bar_chart(
    rows: list[tuple[str, int, float]],
    *,
    count_label: str,
    money_label: str,
    no_data: str,
    width: int = 640,
    label_width: int = 220,
    lang: str = "en",
) -> str:
    """Horizontal bars, one row per category: the lead count and the money side by side.

    Parameters
    ----------
    rows : ``(label, count, money)`` per category, in display order.
    count_label, money_label : column headings.
    """
    bar_h, gap, top = 16, 6, 22
    height = top + len(rows) * (bar_h + gap) + 6
    if not rows:
        return _empty(width, 60, no_data)
    half = (width - label_width - 20) // 2
    max_c = max(r[1] for r in rows) or 1
    max_m = max(r[2] for r in rows) or 1.0
    x_c = label_width + 5
    x_m = label_width + 15 + half
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f'<text x="{x_c}" y="14" font-size="12" fill="{PALETTE["text"]}">{escape(count_label)}</text>',
        f'<text x="{x_m}" y="14" font-size="12" fill="{PALETTE["text"]}">{escape(money_label)}</text>',
    ]
    for i, (label, count, money) in enumerate(rows):
        y = top + i * (bar_h + gap)
        wc = max(1.0, (half - 50) * count / max_c) if count else 0
        wm = max(1.0, (half - 50) * money / max_m) if money else 0
        short = fit_label(label, label_width - 8)
        parts.append(
            f'<g><title>{escape(label)}: {count} / {escape(fmt_money(money))}</title>'
            f'<text x="{label_width}" y="{y + 12}" font-size="12" text-anchor="end" fill="{PALETTE["text"]}">{escape(short)}</text>'
            f'<rect x="{x_c}" y="{y}" width="{wc:.1f}" height="{bar_h}" fill="{PALETTE["count"]}"/>'
            f'<text x="{x_c + wc + 4:.1f}" y="{y + 12}" font-size="11" fill="{PALETTE["text"]}">{count}</text>'
            f'<rect x="{x_m}" y="{y}" width="{wm:.1f}" height="{bar_h}" fill="{PALETTE["money"]}"/>'
            f'<text x="{x_m + wm + 4:.1f}" y="{y + 12}" font-size="11" fill="{PALETTE["text"]}">{escape(fmt_short(money, lang))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    counts: list[int],
    edges: list[float],
    *,
    title: str,
    no_data: str,
    width: int = 640,
    height: int = 200,
    edge_labels: list[str] | None = None,
) -> str:
    """Vertical histogram: ``counts[i]`` leads with a value in ``[edges[i], edges[i+1])``.

    ``edge_labels`` (one per edge) replace the numbers under the axis and in the tooltips
    (e.g. money on a log scale: ``1千``, ``1万``).
    """
    labels = edge_labels or [f"{e:.1f}" for e in edges]
    if not counts or sum(counts) == 0:
        return _empty(width, 60, no_data)
    left, bottom, top = 40, 24, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    n = len(counts)
    bw = plot_w / n
    mx = max(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f'<text x="{left}" y="14" font-size="12" fill="{PALETTE["text"]}">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{PALETTE["axis"]}"/>',
        f'<text x="{left - 4}" y="{top + 10}" font-size="11" text-anchor="end" fill="{PALETTE["text"]}">{mx}</text>',
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / mx
        x = left + i * bw
        parts.append(
            f'<g><title>{escape(labels[i])}–{escape(labels[i + 1])}: {c}</title>'
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="{PALETTE["count"]}"/></g>'
        )
    for i in range(0, n + 1, max(1, n // 5)):
        x = left + i * bw
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" fill="{PALETTE["text"]}">{escape(labels[i])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
