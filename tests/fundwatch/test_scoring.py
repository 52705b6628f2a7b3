"""The lead score: bounded, monotonic in each part, thresholds, deterministic ties, explanation."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from fundwatch.scoring import PARTS, explain_score_expr, rank_leads, score_components, severity_expr
from fundwatch.settings import ScoringSettings

S = ScoringSettings()
BASE = {"rule_strength": 0.5, "amount_at_risk": 500.0, "n_codes": 2, "model_score": 0.3, "period_end": "2025-01"}
AS_OF = "2025-06"


def score_of(**changes) -> float:
    row = {**BASE, **changes}
    return score_components(pl.DataFrame([row]), S, AS_OF).collect()["score"].item()


@pytest.mark.parametrize(
    "field, lower, higher",
    [
        ("rule_strength", 0.2, 0.9),
        ("amount_at_risk", 100.0, 5000.0),
        ("n_codes", 1, 3),
        ("model_score", 0.1, 0.8),
        ("period_end", "2024-01", "2025-05"),
    ],
)
def test_score_increases_with_each_part(field, lower, higher):
    assert score_of(**{field: higher}) > score_of(**{field: lower})


def test_score_is_bounded_and_parts_saturate():
    top = score_of(rule_strength=1.0, amount_at_risk=1e12, n_codes=99, model_score=1.0, period_end=AS_OF)
    assert top == pytest.approx(1.0)
    assert score_of(amount_at_risk=1e9) == score_of(amount_at_risk=1e12)  # money capped
    bottom = score_of(rule_strength=0.0, amount_at_risk=0.0, n_codes=1, model_score=0.0, period_end="2000-01")
    assert bottom == pytest.approx(0.0)


def test_parts_sum_to_the_score():
    out = score_components(pl.DataFrame([BASE]), S, AS_OF).collect()
    assert sum(out[f"part_{p}"].item() for p in PARTS) == pytest.approx(out["score"].item(), abs=1e-6)


def test_severity_thresholds():
    s = pl.DataFrame({"score": [0.0, S.medium_threshold, S.high_threshold - 1e-9, S.high_threshold, 1.0]})
    assert s.select(severity_expr(pl.col("score"), S)).to_series().to_list() == ["low", "medium", "medium", "high", "high"]


def test_ties_broken_by_amount_then_lead_id():
    f = pl.DataFrame({
        "lead_id": ["FW-b", "FW-a", "FW-c", "FW-d"],
        "score": [0.5, 0.5, 0.5, 0.9],
        "amount_at_risk": [10.0, 10.0, 20.0, 1.0],
    })
    out = rank_leads(f.sample(fraction=1.0, shuffle=True, seed=3)).collect()
    assert out["lead_id"].to_list() == ["FW-d", "FW-c", "FW-a", "FW-b"]
    assert out["rank"].to_list() == [1, 2, 3, 4]


def test_explanation_names_the_driving_part():
    out = score_components(pl.DataFrame([{**BASE, "rule_strength": 1.0, "model_score": 0.0, "n_codes": 1}]), S, AS_OF)
    text = out.select(explain_score_expr("zh")).collect().item()
    assert text.startswith("评分 ") and "规则严重度 0.40" in text and "主要因素:规则严重度" in text
    assert "多规则印证" not in text  # zero parts are left out
    en = out.select(explain_score_expr("en")).collect().item()
    assert "mainly rule severity" in en


def test_weights_must_sum_to_one_and_thresholds_ordered():
    with pytest.raises(ValidationError):
        ScoringSettings(w_rule=0.9)
    with pytest.raises(ValidationError):
        ScoringSettings(high_threshold=0.3, medium_threshold=0.5)
    custom = ScoringSettings(w_rule=0.5, w_money=0.15)
    assert custom.w_rule == 0.5
