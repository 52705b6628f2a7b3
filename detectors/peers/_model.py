"""The peer-group outlier model shared by the village, operator, institution and doctor models.

A subclass says how to describe its entities (:meth:`PeerOutlierModel._entity_frame`: one row
per entity with its peer keys and numeric features) and which records are the evidence for an
excess in a feature (:meth:`PeerOutlierModel._candidate_records`). This class does the rest:

``fit``
    assigns each entity its peer group (most specific level with enough entities), learns
    per group and feature the median, robust scale and a sample of values (``peer_stats_``),
    standardises features to robust z-scores within the group (one-sided by default: only
    excesses count) and fits the :class:`~detectors.ensemble.EntityOutlierEnsemble` on them
    (``ensemble_``).
``detect``
    recomputes the features on the given datasets, standardises them with the fitted peer
    statistics, scores them with the fitted ensemble (calibrated to ``[0, 1]``) and emits a
    finding for every entity with ``score >= score_threshold`` whose largest robust z-score is
    at least ``min_feature_z``, and for every entity whose largest robust z-score reaches
    ``decisive_feature_z`` whatever its score (the ensemble's calibration is relative to the
    other entities: several inflated entities in one small population mask each other; such a
    finding keeps the ensemble's score as its strength, so it ranks by its expected money at the
    probability the ensemble gives it). Each finding names its top features against the peer
    medians.

Amount at risk
    The top feature (largest robust z) drives the estimate: the share of the entity's money in
    the feature's evidence records that lies above the peer median,
    ``(value - peer_median) / value``, times that money. For a rate per 100 residents of one
    subsidy type this equals ``(rate - median) / 100 x residents x money per recipient``; for
    money per resident ``(value - median) x residents``. The estimate runs over **all** the
    entity's evidence records, however many are listed. ``record_ids`` lists at most
    ``max_record_ids`` of them (largest first, for display) and ``record_amounts`` gives each
    listed record its amount times that share, so ``amount_at_risk >= sum(record_amounts)``:
    the difference is the excess carried by the records not listed, which the leads keep as
    the finding's unlisted money (:mod:`fundwatch.leads`), never spread over the listed
    records. ``details`` also carries ``n_records`` (all evidence records) and
    ``amount_involved`` (their whole money), so titles and ``amount_involved`` count the real
    records, not the capped list.
"""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS
from fundwatch.textfmt import tidy_en, tidy_zh

from ..base import Datasets, Detector, empty_findings
from ..ensemble import EntityOutlierEnsemble
from ._explain import details_json, evidence, feature_entries
from ._features import (
    FeatureSpec,
    assign_peer_groups,
    cents,
    global_scales,
    mark_gross_outliers,
    peer_statistics,
    robust_z,
)

_P = DEFAULT_SETTINGS.peers


def _with_totals(row: dict) -> str:
    """Add ``n_records`` and ``amount_involved`` (all evidence records) to a details JSON."""
    d = json.loads(row["details"])
    d["n_records"] = int(row["n_records"] or 0)
    d["amount_involved"] = round(float(row["amount_involved"] or 0.0), 2)
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


class PeerOutlierModel(Detector):
    """Base of the peer-group models; parameters are the fields of ``settings.peers``."""

    kind = "model"
    settings_sections = ("peers",)
    entity_label: ClassVar[tuple[str, str]]  # (zh measure word, en plural)
    #: peer levels, most specific first; the frame has one key column ``peer_<i>`` per level
    peer_levels: ClassVar[tuple[str, ...]]
    #: level -> (zh, en) label of the peer group, used in evidence sentences
    group_labels: ClassVar[dict[str, tuple[str, str]]]
    #: level -> (zh, en) short name of the peers in "<name> median" (e.g. 同县 / county)
    median_labels: ClassVar[dict[str, tuple[str, str]]]
    #: level -> the only features compared at that level (default: all). A feature that
    #: depends on what the peers share at a finer level (a doctor's patients per day depends
    #: on the institution's patient stream) means nothing against a coarser group.
    level_features: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: ``(details key, peer level)``: the entity this one belongs to, named in ``details``
    #: (a doctor's institution), so that leads can fold it into its parent's lead.
    parent: ClassVar[tuple[str, str] | None] = None

    def __init__(
        self,
        ensemble_members=_P.ensemble_members,
        ensemble_combination=_P.ensemble_combination,
        n_estimators=_P.n_estimators,
        n_neighbors=_P.n_neighbors,
        random_state=_P.random_state,
        min_peer_group_size=_P.min_peer_group_size,
        min_institution_peers=_P.min_institution_peers,
        min_doctors_per_institution=_P.min_doctors_per_institution,
        scale_floor_relative=_P.scale_floor_relative,
        scale_floor_global=_P.scale_floor_global,
        share_scale_floor=_P.share_scale_floor,
        max_z=_P.max_z,
        reweight_z=_P.reweight_z,
        one_sided=_P.one_sided,
        score_threshold=_P.score_threshold,
        min_feature_z=_P.min_feature_z,
        decisive_feature_z=_P.decisive_feature_z,
        evidence_features=_P.evidence_features,
        max_peer_values=_P.max_peer_values,
        max_record_ids=_P.max_record_ids,
        min_residents=_P.min_residents,
        mix_min_share=_P.mix_min_share,
        growth_min_base=_P.growth_min_base,
        min_operator_peers=_P.min_operator_peers,
        min_entity_disbursements=_P.min_entity_disbursements,
        min_entity_claims=_P.min_entity_claims,
    ):
        self.ensemble_members = ensemble_members
        self.ensemble_combination = ensemble_combination
        self.n_estimators = n_estimators
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.min_peer_group_size = min_peer_group_size
        self.min_institution_peers = min_institution_peers
        self.min_doctors_per_institution = min_doctors_per_institution
        self.scale_floor_relative = scale_floor_relative
        self.scale_floor_global = scale_floor_global
        self.share_scale_floor = share_scale_floor
        self.max_z = max_z
        self.reweight_z = reweight_z
        self.one_sided = one_sided
        self.score_threshold = score_threshold
        self.min_feature_z = min_feature_z
        self.decisive_feature_z = decisive_feature_z
        self.evidence_features = evidence_features
        self.max_peer_values = max_peer_values
        self.max_record_ids = max_record_ids
        self.min_residents = min_residents
        self.mix_min_share = mix_min_share
        self.growth_min_base = growth_min_base
        self.min_operator_peers = min_operator_peers
        self.min_entity_disbursements = min_entity_disbursements
        self.min_entity_claims = min_entity_claims

    # -- to implement -----------------------------------------------------------------
    def _entity_frame(self, datasets: Datasets) -> tuple[pl.DataFrame, list[FeatureSpec]]:
        """One row per scorable entity: ``entity_id, region_code, period_start, period_end``,
        ``peer_<i>`` keys, feature columns (Float64, no nulls) and any extra columns the
        subclass's :meth:`_candidate_records` needs."""
        raise NotImplementedError

    def _entity_scale_floors(self) -> dict[str, pl.Expr]:
        """Per feature, the least scale of each entity's value (see :func:`robust_z`); none."""
        return {}

    def _peer_min_sizes(self) -> list[int]:
        return [self.min_peer_group_size] * len(self.peer_levels)

    def _candidate_records(
        self, datasets: Datasets, flagged: pl.DataFrame
    ) -> pl.DataFrame:
        """Evidence records for each flagged entity's top feature.

        ``flagged`` holds the entity frame's columns plus ``top_feature``. Returns
        ``entity_id, record_id, amount`` (amount = the record's money).
        """
        raise NotImplementedError

    # -- fit ----------------------------------------------------------------------------
    def _fit(self, datasets: Datasets) -> None:
        frame, specs = self._entity_frame(datasets)
        # Entity frames come out of hash group-bys in no fixed order; the peer statistics keep
        # lists of peer values (for the report's charts), so fix the order for determinism.
        frame = frame.sort("entity_id")
        names = [s.name for s in specs]
        self.feature_specs_ = specs
        self.feature_names_ = names
        # Statistics of every peer group at every level, each over *all* entities sharing the
        # key (a county's statistics include the villages that also have a finer group), kept
        # where the group is big enough; each entity then takes its most specific kept group.
        levels, sizes = list(self.peer_levels), self._peer_min_sizes()
        # the global floor of a group's scale is the spread *within* groups (each entity
        # against its own group's median), not the spread over all entities: kinds and levels
        # differ in level (a pharmacy "visit" costs less than a clinic's), which says nothing
        # of how far one clinic may stray from other clinics
        in_group = frame.with_columns(assign_peer_groups(frame, levels, sizes)).filter(
            pl.col("peer_group").is_not_null()
        )
        self.global_scale_ = global_scales(
            in_group.select(pl.col(n) - pl.col(n).median().over("peer_group") for n in names), names
        )
        share_floors = {sp.name: self.share_scale_floor for sp in specs if sp.fmt == "share"}

        def stats_of(rows: pl.DataFrame) -> pl.DataFrame:
            return peer_statistics(
                rows, names, self.global_scale_, self.scale_floor_relative,
                self.scale_floor_global, self.max_peer_values, share_floors,
            )

        per_level = []
        for i, level in enumerate(levels):
            sub = frame.filter(pl.col(f"peer_{i}").is_not_null()).with_columns(
                (pl.lit(level + "|") + pl.col(f"peer_{i}")).alias("peer_group")
            )
            st = stats_of(sub)
            if self.reweight_z is not None:
                st = stats_of(mark_gross_outliers(
                    sub, st, names, self.reweight_z, self.max_z, self._entity_scale_floors()
                ))
            per_level.append(st.filter(pl.col("n_peers") >= sizes[i]))
        self.peer_stats_ = pl.concat(per_level).sort("peer_group")
        known = set(self.peer_stats_["peer_group"].to_list())
        frame = frame.with_columns(assign_peer_groups(frame, levels, sizes, known=known))
        grouped = frame.filter(pl.col("peer_group").is_not_null())
        self.peer_groups_ = set(self.peer_stats_["peer_group"].to_list())
        self.n_entities_ = grouped.height
        self.n_unscored_ = frame.height - grouped.height
        self.ensemble_ = None
        if grouped.height >= 3 and names:
            Z = self._z_matrix(self._level_mask(robust_z(grouped.sort("entity_id"), self.peer_stats_, names,
                                        self.one_sided, self.max_z, self._entity_scale_floors())))
            self.ensemble_ = EntityOutlierEnsemble(
                members=tuple(self.ensemble_members),
                combination=self.ensemble_combination,
                n_estimators=self.n_estimators,
                n_neighbors=self.n_neighbors,
                scale_features=False,  # already robust z-scores within peer groups
                random_state=self.random_state,
            ).fit(Z)

    def _parent_of(self, row: dict) -> dict:
        if self.parent is None:
            return {}
        key, level = self.parent
        return {key: row.get(f"peer_{self.peer_levels.index(level)}")}

    def _level_mask(self, scored: pl.DataFrame) -> pl.DataFrame:
        """Zero the z-scores of features not compared at an entity's peer level."""
        exprs = []
        for level, allowed in self.level_features.items():
            at_level = pl.col("peer_group").str.starts_with(level + "|")
            for f in self.feature_names_:
                if f not in allowed:
                    exprs.append(pl.when(at_level).then(0.0).otherwise(pl.col(f"{f}__z")).alias(f"{f}__z"))
        return scored.with_columns(exprs) if exprs else scored

    def _z_matrix(self, scored: pl.DataFrame) -> np.ndarray:
        return scored.select(f"{f}__z" for f in self.feature_names_).to_numpy().astype(float)

    # -- scoring ------------------------------------------------------------------------
    def score_entities(self, datasets: Datasets) -> pl.DataFrame:
        """Every scored entity with its peer group, features, robust z-scores and ``score``.

        Higher ``score`` (0..1) = more out of line with its peers. Does not mutate the model.
        """
        self.check_is_fitted()
        frame, _ = self._entity_frame(datasets)
        names = self.feature_names_
        frame = frame.with_columns(
            pl.lit(0.0).alias(f) for f in names if f not in frame.columns
        )
        frame = frame.with_columns(
            assign_peer_groups(
                frame, list(self.peer_levels), self._peer_min_sizes(), known=self.peer_groups_
            )
        ).filter(pl.col("peer_group").is_not_null())
        scored = self._level_mask(
            robust_z(frame.sort("entity_id"), self.peer_stats_, names, self.one_sided, self.max_z,
                     self._entity_scale_floors())
        )
        if self.ensemble_ is None or scored.height == 0:
            return scored.with_columns(
                pl.lit(0.0).alias("score"), pl.lit(0.0).alias("raw_score"), pl.lit(0.0).alias("max_z")
            )
        Z = self._z_matrix(scored)
        return scored.with_columns(
            pl.Series("score", self.ensemble_.predict_score(Z)),
            pl.Series("raw_score", self.ensemble_.decision_function(Z)),
            pl.Series("max_z", Z.max(axis=1) if Z.shape[1] else np.zeros(len(Z))),
        )

    # -- findings -----------------------------------------------------------------------
    def _detect(self, datasets: Datasets) -> pl.DataFrame:
        scored = self.score_entities(datasets)
        flagged = scored.filter(
            (pl.col("max_z") >= self.min_feature_z)
            & ((pl.col("score") >= self.score_threshold) | (pl.col("max_z") >= self.decisive_feature_z))
        )
        if flagged.height == 0:
            return empty_findings()
        specs = {s.name: s for s in self.feature_specs_}
        rows = []
        for row in flagged.iter_rows(named=True):  # a handful of flagged entities, not records
            entries = feature_entries(row, self.feature_specs_, self.max_peer_values)
            level = row["peer_group"].split("|", 1)[0]
            zh, en = evidence(
                entries, specs, int(row["n_peers"]), *self.group_labels[level],
                *self.median_labels[level], *self.entity_label,
                self.min_feature_z, self.evidence_features,
            )
            top = entries[0]
            share = (
                max(0.0, (top["value"] - top["peer_median"]) / top["value"])
                if top["value"] > 0
                else 0.0
            )
            rows.append(
                {
                    "entity_id": row["entity_id"],
                    "top_feature": top["name"],
                    "excess_share": share,
                    "score": float(row["score"]),
                    "evidence_zh": zh,
                    "evidence_en": en,
                    "details": details_json(
                        entries, row["peer_group"],
                        {"n_peers": int(row["n_peers"]), "raw_score": round(float(row["raw_score"]), 6),
                         **self._parent_of(row)},
                    ),
                }
            )
        # the same tidying as every rule's sentences (fundwatch.textfmt)
        info = pl.DataFrame(rows).with_columns(tidy_zh(pl.col("evidence_zh")), tidy_en(pl.col("evidence_en")))
        flagged = flagged.join(info.select("entity_id", "top_feature"), on="entity_id")
        records = self._candidate_records(datasets, flagged)
        records = (
            records.join(info.select("entity_id", "excess_share"), on="entity_id")
            .with_columns(pl.col("amount").fill_null(0.0))
            .group_by("entity_id")
            .agg(
                # one share per entity: the excess is the share of an exact (integer-cent, so
                # order-free) sum of the evidence money
                (cents("amount").sum() / 100 * pl.col("excess_share").first()).alias("amount_at_risk"),
                pl.len().alias("n_records"),
                (cents("amount").sum() / 100).alias("amount_involved"),
                pl.struct("record_id", "amount", "excess_share")
                .sort_by(["amount", "record_id"], descending=[True, False])
                .head(self.max_record_ids)
                .alias("recs"),
            )
            .with_columns(
                pl.col("recs").list.eval(pl.element().struct.field("record_id")).alias("record_ids"),
                pl.col("recs")
                .list.eval(
                    pl.element().struct.field("amount") * pl.element().struct.field("excess_share")
                )
                .alias("record_amounts"),
            )
            .drop("recs")
        )
        # the whole evidence (not the capped list) for titles and amount_involved
        info = info.join(records.select("entity_id", "n_records", "amount_involved"), on="entity_id", how="left")
        info = info.with_columns(
            pl.struct("details", "n_records", "amount_involved")
            .map_elements(_with_totals, return_dtype=pl.String)  # one JSON per flagged entity
            .alias("details")
        ).drop("n_records", "amount_involved")
        records = records.drop("n_records", "amount_involved")
        out = (
            flagged.select("entity_id", "region_code", "period_start", "period_end")
            .join(info, on="entity_id")
            .join(records, on="entity_id", how="left")
            .with_columns(
                pl.col("record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
                pl.col("record_amounts").fill_null(pl.lit([], dtype=pl.List(pl.Float64()))),
                pl.col("amount_at_risk").fill_null(0.0),
                pl.lit(self.rules[0].code).alias("rule_code"),
                pl.lit(self.domain).alias("domain"),
                pl.lit(self.rules[0].entity_type).alias("entity_type"),
            )
        )
        return out
