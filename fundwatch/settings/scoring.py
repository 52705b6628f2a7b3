"""Settings section ``scoring``: how findings become ranked leads (see :mod:`fundwatch.scoring`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScoringSettings(BaseModel):
    """Weights and thresholds of the one lead score.

    The score is (see :func:`fundwatch.scoring.score_components`)::

        score = w_rule           * max over findings of (rule weight x finding score)
              + w_money          * min(1, log1p(amount_at_risk) / log1p(money_reference))
              + w_corroboration  * min(1, (distinct codes - 1) / corroboration_cap)
              + w_model          * max model-finding score (0 when no model fired)
              + w_recency        * max(0, 1 - months since period_end / recency_window_months)

    The weights sum to 1 so the score lies in ``[0, 1]``.

    Attributes
    ----------
    w_rule : 0.40. How serious the worst rule is dominates: a deceased payee outranks a delay.
    w_money : 0.25. Money at risk, log-scaled so that one huge lead does not bury many real ones.
    w_corroboration : 0.15. Independent rules agreeing on one problem make it more credible.
    w_model : 0.10. A peer-model outlier score (already calibrated to 0..1 by the detector).
    w_recency : 0.10. Recent problems can still be stopped; old ones matter a little less.
    money_reference : 20000 CNY: money at which the money part saturates (a year of a
        typical subsidy for a small household, or one large in-patient stay).
    corroboration_cap : 3 extra codes saturate the corroboration part.
    recency_window_months : 24: a lead whose evidence ended this many months before the
        data's latest month gets no recency credit.
    high_threshold : 0.60: score at or above which a lead is ``high``.
    medium_threshold : 0.40: score at or above which a lead is ``medium`` (else ``low``).
    unknown_rule_weight : 0.5: weight of a code missing from the rule catalogue (a new
        detector not yet catalogued still ranks, mid-way).
    score_decimals : 6: scores are rounded so that reruns on other machines rank identically.
    max_evidence_in_explanation : 5 distinct evidence sentences per lead; the rest are counted.
    lead_id_prefix : ``FW-``; lead_id_hex_chars : 16 hex characters of sha256 (64 bits,
        collisions are negligible at millions of leads).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    w_rule: float = Field(0.40, ge=0)
    w_money: float = Field(0.25, ge=0)
    w_corroboration: float = Field(0.15, ge=0)
    w_model: float = Field(0.10, ge=0)
    w_recency: float = Field(0.10, ge=0)
    money_reference: float = Field(20000.0, gt=0)
    corroboration_cap: int = Field(3, ge=1)
    recency_window_months: int = Field(24, ge=1)
    high_threshold: float = Field(0.60, ge=0, le=1)
    medium_threshold: float = Field(0.40, ge=0, le=1)
    unknown_rule_weight: float = Field(0.5, ge=0, le=1)
    score_decimals: int = Field(6, ge=2, le=12)
    max_evidence_in_explanation: int = Field(5, ge=1)
    lead_id_prefix: str = "FW-"
    lead_id_hex_chars: int = Field(16, ge=8, le=64)

    @model_validator(mode="after")
    def _check(self) -> "ScoringSettings":
        total = self.w_rule + self.w_money + self.w_corroboration + self.w_model + self.w_recency
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"scoring weights must sum to 1 (they sum to {total:.4f})")
        if self.medium_threshold > self.high_threshold:
            raise ValueError("scoring.medium_threshold must not exceed scoring.high_threshold")
        return self
