"""Settings section ``peers``: the peer-group outlier models and their ensemble.

Used by :mod:`detectors.peers` (VILLAGE_OUTLIER, OPERATOR_OUTLIER, INSTITUTION_OUTLIER,
DOCTOR_OUTLIER) and :mod:`detectors.ensemble`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PeerSettings(BaseModel):
    """Settings for the peer-group models. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- the ensemble (detectors.ensemble.EntityOutlierEnsemble) ------------------------
    ensemble_members: tuple[str, ...] = Field(
        ("iforest", "knn", "norm"),
        description="Members of the ensemble (see detectors.ensemble for the evidence): on ADBench "
        "(bench/outliers.py) IForest+KNN+norm has mean AUCROC 0.780 vs 0.766 for the best single "
        "detector (IForest); the distance-from-median member ('norm') keeps one large excess "
        "visible in small peer groups where isolation depth and tail ranks saturate.",
    )
    ensemble_combination: str = Field(
        "zscore", description="'zscore' (mean of standardised member scores) or 'rank'."
    )
    n_estimators: int = Field(200, description="IForest trees; 200 makes scores stable on small peer sets.")
    n_neighbors: int = Field(10, description="KNN neighbours (capped at n_entities - 1).")
    random_state: int = Field(0, description="Seed of the randomised members: same input, same output.")

    # -- peer statistics ----------------------------------------------------------------
    min_peer_group_size: int = Field(
        5,
        description="A peer group with fewer entities falls back to the next, broader peer "
        "definition (e.g. county+subsidy mix -> county); with fewer than this in the broadest "
        "allowed group an entity is not scored: too few peers to compare with.",
    )
    min_institution_peers: int = Field(
        3,
        description="Institutions are compared within their kind and level when that group has "
        "min_peer_group_size members, else with every institution of their level that treats "
        "patients (a township health centre with level-1 hospitals; pharmacies never), else, as a "
        "last resort, within a kind-and-level group of at least this many (few level-3 "
        "hospitals): 3 is the least that gives a median and a spread.",
    )
    min_doctors_per_institution: int = Field(
        5,
        description="Doctors are compared within their institution when it has at least this "
        "many doctors, otherwise with all doctors of institutions of the same kind and level.",
    )
    scale_floor_relative: float = Field(
        0.1,
        description="The robust scale of a feature in a peer group is at least this share of the "
        "group median: being 10% above the median counts as one unit, never as infinitely odd "
        "when all peers happen to be identical.",
    )
    scale_floor_global: float = Field(
        0.5,
        description="... and at least this share of the feature's robust spread within peer groups "
        "(each entity against its own group's median, over all groups), "
        "so zero-inflated features (shares that are 0 for most peers) keep a sane scale.",
    )
    share_scale_floor: float = Field(
        0.05,
        description="For share features (drug share, shared-account share, rule-hit share …) the "
        "scale is at least 5 percentage points: when nearly every peer is at 0%, a 0.2% share is "
        "not 50 standard deviations out.",
    )
    max_z: float = Field(
        50.0, description="Robust z-scores are capped here before the ensemble (numerical safety)."
    )
    reweight_z: float | None = Field(
        5.0,
        description="One-step reweighting of the peer statistics: an entity this many robust "
        "units or more from its group's median (first estimate, either side) is left out of that "
        "feature's median and scale, then every entity is measured against the rest. Two "
        "inflated villages among eleven otherwise widen the scale by a third and the second hides "
        "behind the first (masking). The cutoff is decisive_feature_z's: only entities that are "
        "findings on their own are left out. None: one estimate over all entities.",
    )
    one_sided: bool = Field(
        True,
        description="Only excesses over the peer median count (z clipped at 0): paying fewer "
        "recipients or costing less than peers is not a lead.",
    )

    # -- findings -----------------------------------------------------------------------
    score_threshold: float = Field(
        0.9,
        description="Calibrated ensemble score (0..1, 'unify': Gaussian CDF of the standardised "
        "score) from which an entity becomes a finding; 0.9 ~ 1.6 sd above the typical entity.",
    )
    min_feature_z: float = Field(
        3.0,
        description="A flagged entity must exceed its peer median by at least this many robust "
        "scale units on some feature: a lead needs a concrete excess to show.",
    )
    decisive_feature_z: float = Field(
        5.0,
        description="An entity exceeding its peer median by at least this many robust scale units "
        "on some feature (with the scale floors: at least 50% above the median) is a finding "
        "whatever its ensemble score. The ensemble's calibration is relative to the other "
        "entities, so two inflated villages among a dozen raise the spread and mask each other "
        "(on the project's cities the second scored 0.3-0.8 while 5-12 robust units out). Such a "
        "finding keeps the ensemble's own score as its strength, so its probability (and its "
        "rank, by expected money) stays as modest as the ensemble judged it; ordinary peers "
        "between 5 and 6 units were seen too.",
    )
    evidence_features: int = Field(3, description="Features named in the evidence sentences.")
    max_peer_values: int = Field(
        40, description="Peer values kept per feature in details for the report's chart (evenly spaced quantiles)."
    )
    max_record_ids: int = Field(
        500,
        description="Evidence records per finding, largest first. amount_at_risk stays the full "
        "estimate when records are capped.",
    )

    # -- subsidy (village / operator) ----------------------------------------------------
    min_residents: int = Field(
        10, description="Villages with fewer registered residents are not scored: rates per 100 residents are noise there."
    )
    mix_min_share: float = Field(
        0.05,
        description="A subsidy type belongs to an entity's subsidy mix (its peer key) when it makes "
        "up at least this share of the entity's disbursements.",
    )
    growth_min_base: int = Field(
        10,
        description="Month-on-month growth of recipients divides by max(previous month, this) so "
        "that 1 -> 3 recipients in a tiny village is not 200% growth.",
    )
    min_operator_peers: int = Field(
        5,
        description="Counties often have only a handful of operators: an operator is compared "
        "with its county's operators when there are at least this many, else with all operators "
        "of the city. With 3-4 peers one inflated operator moves the median and the spread "
        "enough to hide itself.",
    )
    min_entity_disbursements: int = Field(
        20, description="Operators with fewer disbursements are not scored."
    )

    # -- medical (institution / doctor) --------------------------------------------------
    min_entity_claims: int = Field(
        30, description="Institutions and doctors with fewer claims are not scored: averages are noise."
    )
