"""Cross-dataset checks computed on key hashes stay exact when hashes collide."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch.expectations.cross import claim_total_matches_items
from fundwatch.expectations.spec import Ctx, unique
from fundwatch.settings.validation import ValidationSettings

CLAIMS = pl.DataFrame({
    "claim_id": ["A1", "B2", "C3", "D4"],
    "total_amount": [108.0, 40.0, 5.0, 7.0],
})
ITEMS = pl.DataFrame({
    # A1's own items sum to 60 (a mismatch: its total is 108); B2's to 40; C3 has none; D4's
    # to 8 (a mismatch)
    "claim_id": ["A1", "B2", "D4", "D4"],
    "amount": [60.0, 40.0, 3.0, 5.0],
})
EXPECTED = [False, True, True, False]


def _run_claim_total() -> list[bool]:
    check = claim_total_matches_items()
    ctx = Ctx("claims", ValidationSettings(), {"claims": CLAIMS, "claim_items": ITEMS})
    return check.ok(CLAIMS, ctx).to_list()


def test_claim_total_without_collisions():
    assert _run_claim_total() == EXPECTED


@pytest.fixture
def colliding_hashes(monkeypatch):
    """Every value hashes to one number under seed 0 (the first hash the checks use)."""
    real = pl.Expr.hash

    def weak(self, seed=0, *args, **kwargs):
        if seed == 0:
            return real(self, 1) * 0 + 7
        return real(self, seed, *args, **kwargs)

    monkeypatch.setattr(pl.Expr, "hash", weak)


def test_claim_total_is_exact_when_every_claim_id_collides(colliding_hashes):
    # all items share one hash group whose sum, 108, is A1's total: trusted blindly, the
    # group would make A1 pass although its own items sum to 60
    assert _run_claim_total() == EXPECTED


@pytest.mark.parametrize("policy", ["keep_first", "keep_none"])
def test_unique_is_exact_when_every_key_collides(colliding_hashes, policy):
    frame = pl.DataFrame({"k": ["a", "b", "a", "c", "b"], "n": [1, 2, 1, 3, 9]})
    ctx = Ctx("x", ValidationSettings(quarantine_duplicates=policy), {})
    got = unique("k", "n").ok(frame, ctx).to_list()
    want = [True, True, False, True, True] if policy == "keep_first" else [False, True, False, True, True]
    assert got == want
