"""The expected-value score: P(real) x money, noisy-OR corroboration, severity, learning from decisions."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from fundwatch.detectors.base import FINDINGS_SCHEMA, conform_findings
from fundwatch.leads import build_leads
from fundwatch.rules_catalog import RULES
from fundwatch.scoring import code_priors, decision_counts, rank_leads, severity_expr
from fundwatch.settings import DEFAULT_SETTINGS, ScoringSettings

S = DEFAULT_SETTINGS.scoring


def finding(code, entity_id, amount, *, score=1.0, entity_type="person", rec=None, domain="subsidy"):
    rec = rec or f"D-{entity_id}-{code}"
    return {
        "rule_code": code, "domain": domain, "entity_type": entity_type, "entity_id": entity_id,
        "record_ids": [rec] if amount else [], "record_amounts": [float(amount)] if amount else [],
        "amount_at_risk": float(amount), "score": score, "period_start": "2025-01", "period_end": "2025-01",
        "region_code": "110105001001", "evidence_zh": "证据", "evidence_en": "evidence", "details": "{}",
    }


def leads_of(rows, **kw) -> pl.DataFrame:
    return build_leads(conform_findings(pl.DataFrame(rows, schema=FINDINGS_SCHEMA)), **kw)


def prior(code):
    return float(RULES[code].weight)


def test_score_is_probability_times_money_without_saturation():
    out = leads_of([finding("EXCESS_QUANTITY", "A", 5_000_000, score=0.5, domain="medical"),
                    finding("EXCESS_QUANTITY", "B", 500_000, score=0.5, domain="medical")])
    by = dict(zip(out["entity_id"], out["score"]))
    p = prior("EXCESS_QUANTITY") * 0.5
    assert by["A"] == pytest.approx(p * (5_000_000 + S.nominal_money), abs=0.01)
    assert by["B"] == pytest.approx(p * (500_000 + S.nominal_money), abs=0.01)
    assert by["A"] > 9.9 * by["B"]  # ten times the money, ten times the score


def test_a_lead_without_money_ranks_by_certainty():
    out = leads_of([finding("DECEASED_PAYEE", "A", 0), finding("DELAYED_PAYMENT", "B", 0)])
    assert out["entity_id"].to_list()[0] == ("A" if prior("DECEASED_PAYEE") > prior("DELAYED_PAYMENT") else "B")
    assert (out["score"] > 0).all()


def test_independent_families_raise_the_probability_one_family_counts_once():
    one = leads_of([finding("OFFICIAL_RECIPIENT", "A", 100)])["score"][0]
    # INELIGIBLE_AGE is the same family (eligibility): it says the same thing again
    same = leads_of([finding("OFFICIAL_RECIPIENT", "A", 100), finding("INELIGIBLE_AGE", "A", 100, rec="D-A-OFFICIAL_RECIPIENT")])
    assert same["score"][0] == pytest.approx(one)
    # OVER_STANDARD is another family: an independent witness
    both = leads_of([finding("OFFICIAL_RECIPIENT", "A", 100), finding("OVER_STANDARD", "A", 100, rec="D-A-OFFICIAL_RECIPIENT")])
    p1, p2 = prior("OFFICIAL_RECIPIENT"), prior("OVER_STANDARD")
    expect = (1 - (1 - p1) * (1 - p2)) * (100 + S.nominal_money)
    assert both["score"][0] == pytest.approx(expect, abs=0.01) and both["score"][0] > one
    assert "2 类独立证据指向同一批记录" in both["explanation"][0]


def test_corroboration_counts_on_the_same_records_not_just_the_same_entity():
    # two families on one person but on different payments: each payment keeps its own probability
    apart = leads_of([finding("OFFICIAL_RECIPIENT", "A", 1000), finding("OVER_STANDARD", "A", 100)])
    p1, p2 = prior("OFFICIAL_RECIPIENT"), prior("OVER_STANDARD")
    expected_money = p1 * 1000 + p2 * 100
    p = expected_money / 1100
    assert apart["score"][0] == pytest.approx(p * (1100 + S.nominal_money), abs=0.01)
    assert "相互印证" not in apart["explanation"][0]
    # a lead without money still has the entity's combined certainty
    none = leads_of([finding("OFFICIAL_RECIPIENT", "B", 0), finding("OVER_STANDARD", "B", 0)])
    assert none["score"][0] == pytest.approx((1 - (1 - p1) * (1 - p2)) * S.nominal_money, abs=0.01)


def test_severity_from_expected_money_and_certainty():
    s = ScoringSettings(high_expected_money=10_000, medium_expected_money=1_000, certain_probability=0.9)
    f = pl.DataFrame({"score": [9_999.99, 10_000.0, 999.99, 1_000.0, 50.0, 50.0], "p": [0.5, 0.5, 0.5, 0.5, 0.89, 0.9]})
    got = f.select(severity_expr(pl.col("score"), pl.col("p"), s)).to_series().to_list()
    assert got == ["medium", "high", "low", "medium", "low", "medium"]


def test_ties_broken_by_probability_then_amount_then_lead_id():
    f = pl.DataFrame({
        "lead_id": ["c", "b", "a", "d"], "score": [10.0, 10.0, 10.0, 11.0],
        "probability": [0.5, 0.5, 0.9, 0.1], "amount_at_risk": [10.0, 20.0, 5.0, 100.0],
    })
    out = rank_leads(f.sample(fraction=1.0, shuffle=True, seed=3)).collect()
    assert out["lead_id"].to_list() == ["d", "a", "b", "c"] and out["rank"].to_list() == [1, 2, 3, 4]


def test_money_summed_in_another_order_does_not_reorder_a_tie():
    """The same money summed in another order differs in its last bit: the same leads, summed in another
    order by a partitioned or Prefect run, must keep the same ranks (lead_id breaks the tie)."""
    a, b = 0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1  # 0.6000000000000001 and 0.6
    assert a != b  # the premise: the two sums are not the same float
    f = pl.DataFrame({"lead_id": ["x", "y"], "score": [a * 0.8, b * 0.8], "probability": [0.8, 0.8],
                      "amount_at_risk": [a, b]})
    g = f.with_columns(pl.col("score").reverse(), pl.col("amount_at_risk").reverse())
    assert rank_leads(f).collect()["lead_id"].to_list() == rank_leads(g).collect()["lead_id"].to_list() == ["x", "y"]


def test_breakdown_in_chinese_without_codes():
    lead = leads_of([finding("DECEASED_PAYEE", "A", 1540)]).row(0, named=True)
    p = prior("DECEASED_PAYEE")
    assert f"属实概率 {round(p * 100)}%" in lead["explanation"]
    assert "存疑金额 1,540.00 元 + 基准 100.00 元" in lead["explanation"]
    assert "DECEASED_PAYEE" not in lead["explanation"]


def test_rule_priors_setting_overrides_the_declared_weight():
    s = ScoringSettings(rule_priors={"DECEASED_PAYEE": 0.2})
    lead = leads_of([finding("DECEASED_PAYEE", "A", 900)], settings=s).row(0, named=True)
    assert lead["score"] == pytest.approx(0.2 * 1000.0)
    with pytest.raises(ValidationError):
        ScoringSettings(rule_priors={"X": 1.5})
    with pytest.raises(ValidationError):
        ScoringSettings(high_expected_money=10, medium_expected_money=20)


# -- learning from decisions ------------------------------------------------------------------
def test_beta_binomial_prior_shrinks_toward_the_declared_one():
    decisions = pl.DataFrame({
        "status": ["confirmed"] * 7 + ["dismissed"] * 2 + ["in_review"],
        "rule_codes": [["R1"]] * 9 + [["R1"]],
    })
    counts = decision_counts(decisions)
    assert counts.row(0, named=True) == {"rule_code": "R1", "n_confirmed": 7, "n_dismissed": 2}
    s = ScoringSettings(prior_strength=10.0)
    p = code_priors(["R1", "R2"], {"R1": 0.5, "R2": 0.8}, s, decisions)
    by = dict(zip(p["rule_code"], p["prior"]))
    assert by["R1"] == pytest.approx((10 * 0.5 + 7) / (10 + 9))
    assert by["R2"] == pytest.approx(0.8)  # untouched
    off = code_priors(["R1"], {"R1": 0.5}, ScoringSettings(learn_from_decisions=False), decisions)
    assert off["prior"][0] == pytest.approx(0.5)


CODES = ("DECEASED_PAYEE", "OFFICIAL_RECIPIENT", "GHOST_BENEFICIARY", "OVER_STANDARD")


def _city(n=5):
    """n persons per rule, money spread so that the rules interleave in the ranking."""
    rows = []
    for i, code in enumerate(CODES):
        for j in range(n):
            rows.append(finding(code, f"{code}-{j}", 500 + 97 * j + 31 * i))
    return rows


def _ranks(leads, code):
    return leads.filter(pl.col("rule_codes").list.contains(code))["rank"].to_list()


@pytest.mark.parametrize("status", ["dismissed", "confirmed"])
def test_decisions_move_a_rule_and_leave_the_others_in_order(status):
    before = leads_of(_city())
    # supervisors decided every earlier lead of OFFICIAL_RECIPIENT the same way
    decisions = pl.DataFrame({"status": [status] * 9, "rule_codes": [["OFFICIAL_RECIPIENT"]] * 9})
    after = leads_of(_city(), decisions=decisions)
    moved = "OFFICIAL_RECIPIENT"
    mean_before, mean_after = (sum(_ranks(x, moved)) / 5 for x in (before, after))
    if status == "dismissed":
        assert mean_after > mean_before  # down the list
    else:
        assert mean_after < mean_before  # up the list
    assert "本规则以往核实率 " + ("0/9" if status == "dismissed" else "9/9") in after.filter(
        pl.col("rule_codes").list.contains(moved))["explanation"][0]
    # the untouched rules keep their relative order and scores
    others = lambda x: x.filter(~pl.col("rule_codes").list.contains(moved)).sort("rank")  # noqa: E731
    assert others(after)["lead_id"].to_list() == others(before)["lead_id"].to_list()
    assert others(after)["score"].to_list() == others(before)["score"].to_list()
    # and the setting turns learning off
    off = leads_of(_city(), decisions=decisions, settings=ScoringSettings(learn_from_decisions=False))
    assert off["lead_id"].to_list() == before["lead_id"].to_list()


def test_the_rank_step_learns_from_the_decisions_in_the_store(tmp_path):
    """End to end: leads written to the store, every OFFICIAL_RECIPIENT lead dismissed, the next
    scan's rank step ranks that rule's new leads lower (and says why)."""
    from fundwatch.pipeline import rank_step
    from fundwatch.store import LeadStore

    url = f"sqlite:///{tmp_path / 'leads.sqlite'}"
    findings = conform_findings(pl.DataFrame(_city(), schema=FINDINGS_SCHEMA))
    first = rank_step(findings, store_url=url)  # nothing decided yet: the declared priors
    assert first["lead_id"].to_list() == leads_of(_city())["lead_id"].to_list()
    with LeadStore(url) as st:
        st.write_run({"run_id": "r1"}, first)
        for lid in first.filter(pl.col("rule_codes").list.contains("OFFICIAL_RECIPIENT"))["lead_id"]:
            st.decide(lid, "dismissed", actor="t", source="cli")
    again = rank_step(findings, store_url=url)
    moved = lambda x: sum(_ranks(x, "OFFICIAL_RECIPIENT"))  # noqa: E731
    assert moved(again) > moved(first)
    assert "本规则以往核实率 0/5" in again.filter(pl.col("rule_codes").list.contains("OFFICIAL_RECIPIENT"))["explanation"][0]
