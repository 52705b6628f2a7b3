"""Feature declarations and peer statistics shared by the peer-group models.

A peer model describes each entity (village, operator, institution, doctor) by a few numeric
features and compares it only with its *peers*: entities of the same peer group (same county
and subsidy mix, same kind and level of institution …). Within a group every feature is
standardised to a robust z-score ``(value - group median) / group scale``; the entity-outlier
ensemble then scores the standardised features of all entities together.

Peer groups are tried from the most specific to the broadest allowed (``peer_0``,
``peer_1`` … columns of the entity frame); the first with at least ``min_size`` entities is
the entity's group. An entity without any such group is not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..ensemble import IQR_TO_SD, MAD_TO_SD, robust_center_scale

#: value formats of features, used in evidence sentences
FORMATS = ("rate", "money", "share", "number", "days")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of a peer model.

    Parameters
    ----------
    name : column name in the entity frame (ASCII, stable: used in details JSON).
    label_zh, label_en : what it measures, for a supervisor.
    fmt : value format, one of :data:`FORMATS`.
    unit_zh : unit appended to Chinese numbers (e.g. ``"人"``, ``"元"``).
    """

    name: str
    label_zh: str
    label_en: str
    fmt: str = "number"
    unit_zh: str = ""

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"feature {self.name}: fmt {self.fmt!r} is not one of {FORMATS}")


def assign_peer_groups(
    frame: pl.DataFrame, levels: list[str], min_sizes: list[int], known: set[str] | None = None
) -> pl.Series:
    """The peer group of each entity: ``"<level>|<key>"`` of the first level that qualifies.

    A level qualifies when its key is not null and either (``known is None``, fitting) the
    group has at least ``min_sizes[i]`` entities in ``frame``, or (detecting) the group was learned
    at fit time (``known``). Entities with no qualifying level get null.
    """
    candidates = []
    for i, level in enumerate(levels):
        col = f"peer_{i}"
        gid = pl.lit(level + "|") + pl.col(col)
        if known is None:
            ok = pl.col(col).is_not_null() & (pl.len().over(col) >= min_sizes[i])
        else:
            ok = pl.col(col).is_not_null() & gid.is_in(pl.Series(sorted(known), dtype=pl.String()))
        candidates.append(pl.when(ok).then(gid))
    if not candidates:
        return pl.Series("peer_group", [None] * frame.height, dtype=pl.String())
    return frame.select(pl.coalesce(candidates).alias("peer_group")).to_series()


def _quantile_sample(values: list[float], cap: int) -> list[float]:
    """At most ``cap`` values spread evenly over the sorted ``values`` (always min and max)."""
    v = sorted(values)
    if len(v) <= cap:
        return v
    idx = np.unique(np.linspace(0, len(v) - 1, cap).round().astype(int))
    return [v[i] for i in idx]


def peer_statistics(
    frame: pl.DataFrame,
    features: list[str],
    global_scale: dict[str, float],
    floor_relative: float,
    floor_global: float,
    max_peer_values: int,
    abs_floor: dict[str, float] | None = None,
) -> pl.DataFrame:
    """Per peer group: size, and per feature median, robust scale and a sample of values.

    The scale is the group's MAD (as a standard deviation), else its IQR, else its standard
    deviation, and never below ``floor_relative * |median|`` nor ``floor_global`` times the
    feature's robust scale over all entities (``global_scale``), nor ``abs_floor[feature]``.

    Where the frame has a boolean column ``<feature>__out``, the entities it marks are left
    out of that feature's median and scale (see :func:`mark_gross_outliers`) and counted in
    ``<feature>__n_out`` (0 without the column), which the evidence sentences name; ``n_peers``
    and the sample of values still count every entity of the group.
    """
    abs_floor = abs_floor or {}
    frame = frame.filter(pl.col("peer_group").is_not_null())
    aggs: list[pl.Expr] = [pl.len().alias("n_peers")]
    for f in features:
        x = pl.col(f)
        n_out = pl.lit(0, dtype=pl.UInt32())
        if f"{f}__out" in frame.columns:
            x = x.filter(~pl.col(f"{f}__out"))
            n_out = pl.col(f"{f}__out").sum().cast(pl.UInt32())
        med = x.median()
        mad = (x - med).abs().median() * MAD_TO_SD
        iqr = (x.quantile(0.75, "linear") - x.quantile(0.25, "linear")) / IQR_TO_SD
        sd = x.std(ddof=0).fill_null(0.0)
        spread = pl.when(mad > 0).then(mad).when(iqr > 0).then(iqr).otherwise(sd)
        floor = pl.max_horizontal(
            med.abs() * floor_relative,
            pl.lit(global_scale[f] * floor_global),
            pl.lit(max(abs_floor.get(f, 0.0), 1e-9)),
        )
        aggs += [
            med.alias(f"{f}__median"),
            pl.max_horizontal(spread, floor).alias(f"{f}__scale"),
            pl.col(f).sort().alias(f"{f}__values"),
            n_out.alias(f"{f}__n_out"),
        ]
    stats = frame.group_by("peer_group").agg(aggs).sort("peer_group")
    # cap the chart values (evenly spaced quantiles) — a small python step per group, not per row
    return stats.with_columns(
        pl.col(f"{f}__values").map_elements(
            lambda s: _quantile_sample(s.to_list(), max_peer_values),
            return_dtype=pl.List(pl.Float64()),
        )
        for f in features
    )


def mark_gross_outliers(
    frame: pl.DataFrame,
    stats: pl.DataFrame,
    features: list[str],
    cutoff: float,
    max_z: float,
    entity_floors: dict[str, pl.Expr] | None = None,
) -> pl.DataFrame:
    """Add ``<feature>__out``: the entity is ``cutoff`` robust units or more from its group's
    median (either side), as measured against ``stats`` (a first :func:`peer_statistics`).

    Passing the result back to :func:`peer_statistics` is the one-step reweighting of robust
    statistics: a median absolute deviation tolerates outliers, but in a small group each one
    still moves it by a rank, so two inflated villages among eleven widen the scale their
    peers are measured against by a third and the second one hides behind the first. Leaving
    out the entities already far out (and only those) restores the ordinary spread.
    """
    z = robust_z(frame, stats, features, one_sided=False, max_z=max_z, entity_floors=entity_floors)
    return frame.with_columns(
        (z[f"{f}__z"].abs() >= cutoff).alias(f"{f}__out") for f in features
    )


def global_scales(frame: pl.DataFrame, features: list[str]) -> dict[str, float]:
    """Robust scale of each feature over all entities (MAD -> IQR -> std -> 1)."""
    if frame.height == 0:
        return {f: 1.0 for f in features}
    X = frame.select(features).to_numpy().astype(float)
    _, scale = robust_center_scale(X)
    return {f: float(s) for f, s in zip(features, scale)}


def robust_z(
    frame: pl.DataFrame,
    stats: pl.DataFrame,
    features: list[str],
    one_sided: bool,
    max_z: float,
    entity_floors: dict[str, pl.Expr] | None = None,
) -> pl.DataFrame:
    """Join the peer statistics and add ``<feature>__z`` columns (clipped).

    ``entity_floors`` maps a feature to an expression (over the joined row, peer statistics
    included) of the least scale that entity's value can have: the sampling noise of a rate
    counted in a small population, which the group's spread does not know of.
    """
    # the ensemble is fitted on these rows in this order: keep the caller's (sorted) order,
    # which a hash join does not promise
    out = frame.join(stats, on="peer_group", how="left", maintain_order="left")
    lo = 0.0 if one_sided else -max_z
    floors = entity_floors or {}

    def scale(f: str) -> pl.Expr:
        s = pl.col(f"{f}__scale")
        return pl.max_horizontal(s, floors[f].fill_null(0.0).fill_nan(0.0)) if f in floors else s

    return out.with_columns(
        ((pl.col(f) - pl.col(f"{f}__median")) / scale(f))
        .clip(lo, max_z)
        .fill_null(0.0)
        .alias(f"{f}__z")
        for f in features
    )


def cents(column: str) -> pl.Expr:
    """Money in whole cents (Int64).

    Sums of floats depend on the order rows arrive in, which hash group-bys do not fix; sums
    of integer cents are exact, so features and the leads built on them are deterministic.
    """
    return (pl.col(column) * 100).round(0).cast(pl.Int64())
