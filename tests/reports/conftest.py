"""Fixtures of the report tests."""

from __future__ import annotations

import pytest
from report_samples import make_inputs


@pytest.fixture
def report_inputs() -> dict:
    """Twelve hand-made leads with a hostile name, a formula string and every status."""
    return make_inputs()
