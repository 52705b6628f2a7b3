"""Collusive groups: people of different households who keep visiting the same pharmacy or
clinic on the same days (COLLUSIVE_GROUP, 团伙结伴就诊购药)."""

from __future__ import annotations

import hashlib

import networkx as nx
import numpy as np
import polars as pl
from scipy.stats import hypergeom

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, empty_findings, lazy
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, institution_regions, money, ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical

#: Visit types that stand in for pharmacies and clinics when the institutions dataset is absent.
_FALLBACK_VISIT_TYPES = ("pharmacy", "outpatient")


def group_id(members: list[str]) -> str:
    """Stable id of a group: ``G-`` and the first 12 hex digits of sha1 over the sorted ids."""
    return "G-" + hashlib.sha1(",".join(sorted(members)).encode("utf-8")).hexdigest()[:12]


class CollusiveGroupModel(MedicalDetector):
    """Groups of unrelated people who repeatedly visit the same place on the same days (团伙).

    How it works
        1. Visit days: distinct (person, institution, day) at institutions of
           ``collusion_institution_kinds`` (pharmacies and clinics).
        2. Candidates: a person can share ``collusion_min_shared_days`` days at an institution
           only with at least that many visit days there; everyone else is dropped before the
           pair self-join, and institution-days with more than ``collusion_max_bucket``
           candidates are skipped (a packed day links strangers and costs n^2 pairs).
        3. Pairs: self-join on (institution, day); count shared days per pair and institution.
        4. Links: a pair is linked when it shared at least ``collusion_min_shared_days`` days,
           at least ``collusion_min_lift`` times the chance expectation ``n_a * n_b / D``
           (``n_a``, ``n_b`` the two people's visit days there, ``D`` the days the institution
           had any visit), and the hypergeometric tail ``P(X >= shared)`` is at most
           ``collusion_max_pvalue``. Pairs from one household (``persons.household_id``) are
           never linked: families go to the pharmacy together.
        5. Groups: connected components of the ``collusion_min_degree``-core of the link graph
           with at least ``collusion_min_group_size`` members.

    Each group is one finding: ``entity_type="group"``, ``entity_id = group_id(members)``,
    ``record_ids`` every claim of a member at the group's institutions on a day when at least
    two members visited it, ``record_amounts`` their ``fund_amount``; ``details`` lists the
    members (person ids), institutions and links.

    Why it matters
        Organised groups (often recruited elderly people with their cards) are taken to the
        same pharmacy or clinic together to buy drugs for resale or to bill invented visits.
    Look-alike it ignores
        A household visiting together (same household id); regulars of a busy town pharmacy
        whose shared days are what their own visit frequency predicts.

    Score: ``floor + (1-floor) * clip((members - min size) / (collusion_full_score_size - min size))``.
    Deterministic: no randomness enters (no ``random_state`` needed).
    """

    rules = (
        RuleSpec(
            code="COLLUSIVE_GROUP",
            family="collusion",
            weight=0.8,
            entity_type="group",
            title_zh="团伙结伴就诊购药",
            title_en="Group visiting together",
            meaning_zh="至少{collusion_min_group_size}名非同户人员反复在同一机构同一天就诊,相互关联的成员同日就诊{collusion_min_shared_days}天及以上",
            meaning_en="At least {collusion_min_group_size} people of different households repeatedly at the same place on the same days, linked members together on {collusion_min_shared_days} or more days",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止冒名就医、虚假就医和转卖药品的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid using others' cards, claims for care never given and reselling drugs",
            checklist_zh=(
                "调取该团伙成员在涉及机构的结算明细和监控录像",
                "核对成员之间的关系以及是否有人组织、代刷医保卡",
                "询问机构人员和成员本人",
            ),
            checklist_en=(
                "Pull the members' claims at the institutions involved and the video records",
                "Establish how the members are related and whether someone organises them or swipes their cards",
                "Ask the institution's staff and the members",
            ),
        ),
    )
    kind = "model"
    requires = ("persons", "claims")
    optional = ("institutions",)

    def __init__(self, collusion_institution_kinds: tuple[str, ...] = _S.collusion_institution_kinds,
                 collusion_min_shared_days: int = _S.collusion_min_shared_days,
                 collusion_max_pvalue: float = _S.collusion_max_pvalue,
                 collusion_min_lift: float = _S.collusion_min_lift,
                 collusion_max_bucket: int = _S.collusion_max_bucket,
                 collusion_min_degree: int = _S.collusion_min_degree,
                 collusion_min_group_size: int = _S.collusion_min_group_size,
                 collusion_full_score_size: int = _S.collusion_full_score_size,
                 score_floor: float = _S.score_floor):
        self.collusion_institution_kinds = collusion_institution_kinds
        self.collusion_min_shared_days = collusion_min_shared_days
        self.collusion_max_pvalue = collusion_max_pvalue
        self.collusion_min_lift = collusion_min_lift
        self.collusion_max_bucket = collusion_max_bucket
        self.collusion_min_degree = collusion_min_degree
        self.collusion_min_group_size = collusion_min_group_size
        self.collusion_full_score_size = collusion_full_score_size
        self.score_floor = score_floor

    # -- steps -------------------------------------------------------------------------------
    def _visits(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        claims = lazy(datasets, "claims").select(
            "claim_id", "person_id", "institution_id", "visit_type", "visit_date",
            pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0).alias("fund"),
        ).filter(pl.col("person_id").is_not_null() & pl.col("visit_date").is_not_null())
        if "institutions" in datasets:
            places = institution_regions(datasets).filter(
                pl.col("inst_kind").is_in(list(s.collusion_institution_kinds)))
            return claims.join(places.select("institution_id"), on="institution_id", how="semi")
        return claims.filter(pl.col("visit_type").is_in(list(_FALLBACK_VISIT_TYPES)))

    def links(self, datasets: Datasets) -> pl.DataFrame:
        """The linked pairs: ``a, b`` (person ids, a < b), ``institution_id``, ``shared``,
        ``n_a``, ``n_b``, ``open_days``, ``expected``, ``lift``, ``pvalue``."""
        s = self._settings()
        k = int(s.collusion_min_shared_days)
        # integer keys from the start: 64-bit hashes of the ids, the day as Int32; the self-join
        # and the pair counting are the hot path and strings would triple their cost
        visits = self._visits(datasets).select(
            "person_id", "institution_id",
            pl.col("person_id").hash(seed=0).alias("ph"),
            pl.col("institution_id").hash(seed=0).alias("ih"),
            pl.col("visit_date").cast(pl.Int32).alias("d"),
        )
        days = visits.select("ph", "ih", "d").unique()
        open_days = days.group_by("ih").agg(pl.col("d").n_unique().cast(pl.Int64).alias("open_days"))
        cand = (
            days.with_columns(n=pl.len().over("ph", "ih")).filter(pl.col("n") >= k)
            .with_columns(bucket=pl.len().over("ih", "d"))
            .filter((pl.col("bucket") >= 2) & (pl.col("bucket") <= s.collusion_max_bucket))
            # dense codes let one u64 hold (institution, person a, person b): one-key grouping
            .with_columns(pc=pl.col("ph").rank("dense").cast(pl.UInt64),
                          ic=pl.col("ih").rank("dense").cast(pl.UInt64))
            .select("ph", "ih", "pc", "ic", "d", "n")
        ).collect()
        if cand.height == 0:
            return pl.DataFrame(schema={"a": pl.String, "b": pl.String, "institution_id": pl.String,
                                        "shared": pl.Int64, "n_a": pl.Int64, "n_b": pl.Int64,
                                        "open_days": pl.Int64, "expected": pl.Float64,
                                        "lift": pl.Float64, "pvalue": pl.Float64})
        pbits = max(int(cand["pc"].max()).bit_length(), 1)
        ibits = max(int(cand["ic"].max()).bit_length(), 1)
        packed = 2 * pbits + ibits <= 64
        lc = cand.lazy()
        joined = (
            lc.select("ic", "d", "pc").join(lc.select("ic", "d", pl.col("pc").alias("pc_b")),
                                            on=["ic", "d"], how="inner")
            .filter(pl.col("pc") < pl.col("pc_b"))
        )
        if packed:
            lo = pl.lit(1 << pbits, dtype=pl.UInt64)
            hi = pl.lit(1 << (2 * pbits), dtype=pl.UInt64)
            key = pl.col("ic") * hi + pl.col("pc") * lo + pl.col("pc_b")
            counted = (
                joined.select(key.alias("key")).group_by("key").agg(pl.len().alias("shared"))
                .filter(pl.col("shared") >= k)
                .with_columns(ic=pl.col("key") // hi, pc=(pl.col("key") // lo) % lo,
                              pc_b=pl.col("key") % lo)
                .drop("key")
            )
        else:
            counted = joined.group_by("ic", "pc", "pc_b").agg(pl.len().alias("shared")).filter(
                pl.col("shared") >= k)
        persons = lc.select("pc", "ph", "n", "ic").unique()
        insts = lc.select("ic", "ih").unique()
        pairs = (
            counted.join(persons.rename({"ph": "ph_a", "n": "n_a"}), on=["pc", "ic"])
            .join(persons.rename({"pc": "pc_b", "ph": "ph_b", "n": "n_b"}), on=["pc_b", "ic"])
            .join(insts, on="ic").join(open_days, on="ih")
            .with_columns(pl.col("shared").cast(pl.Int64), pl.col("n_a").cast(pl.Int64),
                          pl.col("n_b").cast(pl.Int64))
            .with_columns(expected=pl.col("n_a").cast(pl.Float64) * pl.col("n_b") / pl.col("open_days"))
            .with_columns(lift=pl.col("shared") / pl.col("expected"))
            .filter(pl.col("lift") >= s.collusion_min_lift)
            .collect()
        )
        # back from hashes to ids, looking up only the few people and places in kept pairs
        hashes = pl.concat([pairs["ph_a"], pairs["ph_b"]]).unique()
        ids = (
            visits.filter(pl.col("ph").is_in(hashes.implode()))
            .select("ph", "person_id").unique("ph").collect()
        )
        inst_names = (
            visits.filter(pl.col("ih").is_in(pairs["ih"].unique().implode()))
            .select("ih", "institution_id").unique("ih").collect()
        )
        pairs = (
            pairs.lazy()
            .join(inst_names.lazy(), on="ih", how="left")
            .join(ids.lazy().rename({"ph": "ph_a", "person_id": "a"}), on="ph_a", how="left")
            .join(ids.lazy().rename({"ph": "ph_b", "person_id": "b"}), on="ph_b", how="left")
            .with_columns(
                # order the pair by id so that the output does not depend on hash values
                pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"))
            .drop("pc", "pc_b", "ic", "ih", "ph_a", "ph_b")
        )
        households = lazy(datasets, "persons").select("person_id", "household_id").unique("person_id", keep="first")
        pairs = (
            pairs.join(households.rename({"person_id": "a", "household_id": "h_a"}), on="a", how="left")
            .join(households.rename({"person_id": "b", "household_id": "h_b"}), on="b", how="left")
            .filter(pl.col("h_a").is_null() | pl.col("h_b").is_null() | (pl.col("h_a") != pl.col("h_b")))
            .drop("h_a", "h_b")
            .collect()
        )
        if pairs.height:
            pv = hypergeom.sf(
                pairs["shared"].cast(pl.Int64).to_numpy() - 1,
                pairs["open_days"].cast(pl.Int64).to_numpy(),
                pairs["n_a"].cast(pl.Int64).to_numpy(), pairs["n_b"].cast(pl.Int64).to_numpy(),
            )
        else:
            pv = np.zeros(0)
        return (
            pairs.with_columns(pvalue=pl.Series(pv, dtype=pl.Float64))
            .filter(pl.col("pvalue") <= s.collusion_max_pvalue)
            .select("a", "b", "institution_id", "shared", "n_a", "n_b", "open_days",
                    "expected", "lift", "pvalue")
            .sort("a", "b", "institution_id")
        )

    def groups(self, links: pl.DataFrame) -> pl.DataFrame:
        """``group_id, person_id`` for every member of every group found in ``links``."""
        s = self._settings()
        graph = nx.Graph()
        graph.add_edges_from(links.select("a", "b").unique().iter_rows())
        core = nx.k_core(graph, k=s.collusion_min_degree) if graph.number_of_nodes() else graph
        rows: list[tuple[str, str]] = []
        for comp in nx.connected_components(core):
            if len(comp) >= s.collusion_min_group_size:
                members = sorted(comp)
                gid = group_id(members)
                rows.extend((gid, m) for m in members)
        return pl.DataFrame(rows, schema={"group_id": pl.String, "person_id": pl.String}, orient="row")

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        links = self.links(datasets)
        members = self.groups(links)
        if members.height == 0:
            return empty_findings()
        # links inside a group (both ends members) and the institutions they were made at
        inner = (
            links.join(members.rename({"person_id": "a"}), on="a")
            .join(members.rename({"person_id": "b", "group_id": "group_b"}), on="b")
            .filter(pl.col("group_id") == pl.col("group_b"))
        )
        group_inst = inner.select("group_id", "institution_id").unique()
        visits = (
            self._visits(datasets)
            .join(members.lazy(), on="person_id", how="inner")
            .join(group_inst.lazy(), on=["group_id", "institution_id"], how="semi")
            .with_columns(together=pl.col("person_id").n_unique().over("group_id", "institution_id", "visit_date"))
            .filter(pl.col("together") >= 2)
            .join(institution_regions(datasets), on="institution_id", how="left")
            .with_columns(at_risk=pl.col("fund"))
        )
        link_stats = inner.group_by("group_id").agg(
            pl.len().alias("n_links"), pl.col("shared").max().alias("max_shared"),
            pl.col("expected").max().alias("max_expected"), pl.col("pvalue").min().alias("min_p"),
        )
        member_lists = members.group_by("group_id").agg(pl.col("person_id").sort().alias("members"))
        inst_lists = group_inst.group_by("group_id").agg(pl.col("institution_id").sort().alias("institutions"))
        grouped = claims_to_findings(
            visits, "group", "group_id",
            [pl.col("visit_date").n_unique().alias("days_together"),
             pl.col("inst_name").unique().sort().alias("inst_names"),
             pl.col("visit_date").min().alias("first_visit"), pl.col("visit_date").max().alias("last_visit")],
        ).join(member_lists.lazy(), on="group_id").join(inst_lists.lazy(), on="group_id").join(
            link_stats.lazy(), on="group_id"
        ).with_columns(
            n_members=pl.col("members").list.len(),
            inst_zh=pl.col("inst_names").list.head(3).list.join("、"),
            inst_en=pl.col("inst_names").list.head(3).list.join(", "),
        )
        ev_zh = pl.format(
            "{} 名非同户人员 {} 至 {} 在 {} 同日就诊购药 {} 天;两两同日最多 {} 天,而按各自就诊频次随机同日的期望不超过 {} 天"
            "({} 对显著关联);涉及 {} 张结算单,统筹支付 {} 元",
            pl.col("n_members"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("inst_zh"),
            pl.col("days_together"), pl.col("max_shared"), pl.col("max_expected").round(2),
            pl.col("n_links"), pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} people of different households visited {} on the same days, {} days from {} to {}; "
            "pairs shared up to {} days where their own visit rates predict at most {} "
            "({} significant pairs); {} claims, fund paid {} CNY",
            pl.col("n_members"), pl.col("inst_en"), pl.col("days_together"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), pl.col("max_shared"), pl.col("max_expected").round(2),
            pl.col("n_links"), pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        details = pl.struct(
            members=pl.col("members"), institutions=pl.col("institutions"),
            links=pl.col("n_links"), days_together=pl.col("days_together"),
            max_shared_days=pl.col("max_shared"), min_pvalue=pl.col("min_p"),
        ).struct.json_encode()
        score = ramp_score(pl.col("n_members"), s.collusion_min_group_size,
                           max(s.collusion_full_score_size, s.collusion_min_group_size + 1), s)
        return finish(grouped, "COLLUSIVE_GROUP", score, ev_zh, ev_en, details)

