"""Evidence sentences as a supervisor reads them: fundwatch.textfmt.tidy_zh / tidy_en."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch.textfmt import tidy_en, tidy_zh


def _zh(text: str | None) -> str | None:
    return pl.Series("s", [text], dtype=pl.String).to_frame().select(tidy_zh(pl.col("s"))).item()


def _en(text: str | None) -> str | None:
    return pl.Series("s", [text], dtype=pl.String).to_frame().select(tidy_en(pl.col("s"))).item()


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("在 自流井区第1镇卫生院 同日就诊", "在自流井区第1镇卫生院同日就诊"),
        ("统筹支付 8.00 元 \uff0c其余", "统筹支付 8.00 元\uff0c其余"),
        ("甲 乙 丙 丁", "甲乙丙丁"),
        ("2025-08-25 至 2025-08-25 在 某村卫生室", "2025-08-25 在某村卫生室"),
        ("所属期 2025-03 至 2025-06", "所属期 2025-03 至 2025-06"),
        ("所属期 2025-05 至 2025-05,数量 1.0", "所属期 2025-05,数量 1"),
        ("a 2025-01 至 2025-02,b 2025-03 至 2025-03", "a 2025-01 至 2025-02,b 2025-03"),
    ],
)
def test_tidy_zh(raw, tidy):
    assert _zh(raw) == tidy


def test_tidy_keeps_nulls_and_latin_spacing():
    assert _zh(None) is None
    assert _zh("ICD N18 code") == "ICD N18 code"


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("from 2025-02-14 to 2025-02-14 at X", "from 2025-02-14 at X"),
        ("2025-01 to 2025-03", "2025-01 to 2025-03"),
        ("quantity 1.0 ,  CNY 3.50", "quantity 1, CNY 3.50"),
    ],
)
def test_tidy_en(raw, tidy):
    assert _en(raw) == tidy
