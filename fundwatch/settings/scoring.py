"""Settings section ``scoring``: how findings become ranked leads (see :mod:`fundwatch.scoring`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScoringSettings(BaseModel):
    """Priors, learning, merging and thresholds of the one lead score.

    The score is an expected value (see :mod:`fundwatch.scoring`)::

        score = P(real) x (amount_at_risk + nominal_money)
        P(real) = expected money in doubt / amount_at_risk, where each record counts at
                  1 - prod over the rule families citing it of (1 - p_family)
                  (without money: the same noisy-OR over every family of the lead)
        p_family = max over its codes of (prior of the code x the finding's score)
        prior of a code = Beta posterior mean (prior_strength x p0 + confirmed)
                                               / (prior_strength + confirmed + dismissed)
        p0 = rule_priors[code] if set, else the code's declared RuleSpec.weight

    Attributes
    ----------
    rule_priors : per rule code, the probability that a hit is a real problem, overriding the
        detector's declared ``RuleSpec.weight`` (e.g. ``{"DELAYED_PAYMENT": 0.3}`` where
        late payment is common and usually explained). Empty by default.
    unknown_rule_weight : 0.5: prior of a code missing from the rule catalogue (a new detector
        not yet catalogued still ranks, as a coin toss).
    learn_from_decisions : True: update each code's prior from the supervisors' confirmed and
        dismissed decisions in the lead store (Beta-binomial, shrunk toward ``p0``).
    prior_strength : 10 pseudo-decisions: how much evidence the declared prior is worth. With
        10, nine dismissals of a rule declared at 0.9 bring it to 9 / 19 = 0.47; one
        dismissal moves it only to 9 / 11 = 0.82.
    nominal_money : 100 CNY added to every lead's money in the score, so that a lead whose
        money cannot be measured (a roster entry, a register mismatch) still ranks by its
        certainty, level with a small payment, and never at zero.
    merge_min_overlap : 0.5: two leads about different entities (a card's holder and the
        card; a village and its operator) become one when the evidence records they share
        are at least this share of each one's listed records. Leads sharing fewer records
        are linked through ``related_lead_ids`` instead.
    fold_min_siblings : 2: findings of one code that fold into a parent (``RuleSpec.folds_into``:
        doctors into their institution) fold into it even when the parent itself is not
        flagged, once at least this many of them share the parent. Three doctors of one
        clinic out of line with their peers are one problem of the clinic, for one supervisor
        to check, not three leads.
    high_expected_money : 10000 CNY: expected money in doubt (the score) at or above which a
        lead is ``high``.
    medium_expected_money : 1000 CNY: score at or above which a lead is ``medium``.
    certain_probability : 0.9: a lead at least this probably real is at least ``medium``,
        whatever its money (a deceased payee is never ``low``).
    score_decimals : 2: the score is money, rounded to the fen, so that reruns on other
        machines rank identically.
    max_evidence_in_explanation : 5 distinct evidence sentences per lead; the rest are counted.
    lead_id_prefix : ``FW-``; lead_id_hex_chars : 16 hex characters of sha256 (64 bits,
        collisions are negligible at millions of leads).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_priors: dict[str, float] = Field(default_factory=dict)
    unknown_rule_weight: float = Field(0.5, ge=0, le=1)
    learn_from_decisions: bool = True
    prior_strength: float = Field(10.0, gt=0)
    nominal_money: float = Field(100.0, ge=0)
    merge_min_overlap: float = Field(0.5, gt=0, le=1)
    fold_min_siblings: int = Field(2, ge=2)
    high_expected_money: float = Field(10000.0, ge=0)
    medium_expected_money: float = Field(1000.0, ge=0)
    certain_probability: float = Field(0.9, ge=0, le=1)
    score_decimals: int = Field(2, ge=2, le=12)
    max_evidence_in_explanation: int = Field(5, ge=1)
    lead_id_prefix: str = "FW-"
    lead_id_hex_chars: int = Field(16, ge=8, le=64)

    @model_validator(mode="after")
    def _check(self) -> "ScoringSettings":
        if self.medium_expected_money > self.high_expected_money:
            raise ValueError("scoring.medium_expected_money must not exceed scoring.high_expected_money")
        bad = {c: p for c, p in self.rule_priors.items() if not 0.0 <= p <= 1.0}
        if bad:
            raise ValueError(f"scoring.rule_priors must lie in [0, 1]: {bad}")
        return self
