"""Evidence sentences (zh/en) and details JSON for peer-model findings.

Texts name features, values and peer medians only — never a person's id or name.
"""

from __future__ import annotations

import json
import math

from ._features import FeatureSpec


def fmt_value(value: float, spec: FeatureSpec, lang: str) -> str:
    """A feature value as a supervisor reads it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if spec.fmt == "share":
        return f"{value * 100:.1f}%"
    if spec.fmt == "money":
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
        return f"{text} 元" if lang == "zh" else f"CNY {text}"
    if spec.fmt == "days":
        return f"{value:.1f} 天" if lang == "zh" else f"{value:.1f} days"
    text = f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"
    return f"{text} {spec.unit_zh}".rstrip() if lang == "zh" else text


def feature_entries(
    row: dict, specs: list[FeatureSpec], max_peer_values: int
) -> list[dict]:
    """The ``details.features`` list of one entity, sorted by contribution (largest first)."""
    entries = []
    for spec in specs:
        f = spec.name
        peers = row.get(f"{f}__values") or []
        entries.append(
            {
                "name": f,
                "label_zh": spec.label_zh,
                "label_en": spec.label_en,
                "value": _num(row[f]),
                "peer_median": _num(row[f"{f}__median"]),
                # peers far out on this feature, left out of its median and scale
                "peers_left_out": int(row.get(f"{f}__n_out") or 0),
                "peer_values": [_num(v) for v in list(peers)[:max_peer_values]],
                "contribution": _num(row[f"{f}__z"]),
            }
        )
    entries.sort(key=lambda e: (-e["contribution"], e["name"]))
    return entries


def _num(v) -> float:
    if v is None:
        return 0.0
    v = float(v)
    return round(v, 6) if math.isfinite(v) else 0.0


def evidence(
    entries: list[dict],
    specs: dict[str, FeatureSpec],
    n_peers: int,
    group_zh: str,
    group_en: str,
    median_zh: str,
    median_en: str,
    entity_zh: str,  # measure word, e.g. 个 / 名 / 家
    entity_en: str,
    min_z: float,
    max_features: int,
) -> tuple[str, str]:
    """Evidence sentences naming the top features (those at least ``min_z`` above peers)."""
    top = [e for e in entries if e["contribution"] >= min_z][:max_features] or entries[:1]
    zh_parts, en_parts = [], []
    for e in top:
        spec = specs[e["name"]]
        # a median that leaves out far-out peers says so: the chart still shows every peer
        out = e.get("peers_left_out", 0)
        out_zh = f"(不计{out}{entity_zh}明显偏离者)" if out else ""
        out_en = f" (far-out peers left out: {out})" if out else ""
        zh_parts.append(
            f"{spec.label_zh} {fmt_value(e['value'], spec, 'zh')},"
            f"{median_zh}中位数 {fmt_value(e['peer_median'], spec, 'zh')}{out_zh}"
        )
        en_parts.append(
            f"{spec.label_en}: {fmt_value(e['value'], spec, 'en')} vs "
            f"{median_en} median {fmt_value(e['peer_median'], spec, 'en')}{out_en}"
        )
    zh = f"对比{group_zh}(共{n_peers}{entity_zh}):" + ";".join(zh_parts)
    en = f"Compared with {n_peers} {entity_en} ({group_en}): " + "; ".join(en_parts)
    return zh, en


def details_json(entries: list[dict], peer_group: str, extra: dict | None = None) -> str:
    """``details`` JSON: features (for the report's chart) and the peer group."""
    payload = {"features": entries, "peer_group": peer_group}
    if extra:
        payload.update(extra)
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)
