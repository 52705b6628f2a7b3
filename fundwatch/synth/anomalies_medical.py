"""Planted medical anomalies and look-alikes (filled in below)."""

from __future__ import annotations

import polars as pl


def plant_skeletons(ctx, sk: pl.DataFrame, cfg) -> pl.DataFrame:
    return sk


def plant_items(ctx, sk: pl.DataFrame, lines: pl.DataFrame, cfg) -> pl.DataFrame:
    return lines
