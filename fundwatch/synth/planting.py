"""How anomalies are planted: one small planter per anomaly type and per look-alike.

A **planter** is a function ``plant(garden, rng)`` registered by name in
:data:`fundwatch.synth.planters.PLANTERS`. It reads the *base* city (the normal behaviour,
generated before any planting), chooses the persons, payments, claims or institutions of its
cases, records what it changes as **edits** on the :class:`Garden` and writes the truth
labels. The city applies every planter's edits afterwards (:func:`fundwatch.synth.city.generate_city`).

Why planters are independent of each other:

* each draws only from its own random stream, derived from the city's seed and the
  planter's *name* (:func:`planter_rng`), never from a stream another planter also uses;
* all read the same base city, never another planter's changes;
* persons are chosen by a random priority of the planter's own over *all* persons
  (:meth:`Garden.pick`), so who else is free changes a planter's choice only when it wanted
  the very person another planter took; persons go to the planter registered first.

So **appending** a planter to ``PLANTERS`` leaves every other planted case identical (a test
appends a greedy one and compares); removing one changes the others only where a later
planter now gets a person the removed one had taken. Record ids (disbursement and claim
numbers) are positions in the final files and do shift when records are added; the cases
themselves — persons, amounts, dates — do not. Add new planters at the end of the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.labels import LabelBook
from fundwatch.synth.population import Population, make_death_rows, to_date_series


def stable_hash(name: str) -> int:
    """A 64-bit number for ``name``, the same on every machine and Python run."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def owned(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` rebuilt in memory of its own.

    A planter's edit is a few rows cut from a base frame of millions (a filter). With more than
    one polars thread such a cut can keep the text buffers of a whole temporary copy of the base
    frame alive, so every stored edit held tens of megabytes: at 300,000 persons the planters
    kept 7 GB that way and a 1,000,000-person city no longer fitted in 24 GB. Edits are small;
    copying their values is cheap and frees the rest.
    """
    return pl.DataFrame(rows.to_dict(as_series=False), schema=rows.schema)


def planter_rng(seed: int, name: str) -> np.random.Generator:
    """The random stream of planter ``name`` in the city of ``seed``."""
    return np.random.default_rng([int(seed), stable_hash(name)])


@dataclass(frozen=True)
class Planter:
    """One registered planter: its name (which also names its random stream) and function."""

    name: str
    plant: Callable[["Garden", np.random.Generator], None]


@dataclass
class Garden:
    """The base city the planters read, who is taken, and the edits they record.

    Base frames (read only): ``persons`` (internal columns, base deaths and status flags),
    ``enrol`` (normal enrolments), ``pay`` (normal payments, keyed by
    ``pidx, subsidy_type, month``), ``sk`` (normal claim skeletons, ``cid`` = row number) and
    ``lines`` (their item lines).
    """

    n: int
    seed: int
    cfg: SynthConfig
    pop: Population
    persons: pl.DataFrame
    officials: pl.DataFrame
    land: pl.DataFrame
    std_lookup: pl.DataFrame
    enrol: pl.DataFrame
    pay: pl.DataFrame
    institutions: pl.DataFrame
    inst_look: dict
    catalog_internal: pl.DataFrame
    sk: pl.DataFrame
    lines: pl.DataFrame
    labels: LabelBook = field(default_factory=LabelBook)
    #: the planter of each label, in label order
    label_planters: list[str] = field(default_factory=list)
    planter: str = ""  # the one running
    #: persons some planter has taken (registry order: first come, first served)
    used: np.ndarray = field(init=False)
    #: base claims some planter has tagged or edited
    claim_taken: np.ndarray = field(init=False)
    #: persons taken only because an outlier planter inflated some of their visits
    inflated_patients: np.ndarray = field(init=False)
    # -- edits -------------------------------------------------------------------------
    new_enrolments: list[pl.DataFrame] = field(default_factory=list)
    enrolment_tags: list[pl.DataFrame] = field(default_factory=list)  # pidx, _grp, _gf, _gt, _only
    enrolment_stops: list[pl.DataFrame] = field(default_factory=list)  # pidx, _stop, _only
    card_holders: dict[int, tuple[int, int]] = field(default_factory=dict)  # beneficiary -> (holder, grp)
    new_deaths: list[pl.DataFrame] = field(default_factory=list)
    new_assets: list[pl.DataFrame] = field(default_factory=list)
    amount_groups: set[int] = field(default_factory=set)  # groups whose whole payments are at risk
    payment_updates: list[pl.DataFrame] = field(default_factory=list)  # keyed by PAY_KEY
    new_payments: list[pl.DataFrame] = field(default_factory=list)
    new_skeletons: list[tuple[pl.DataFrame, pl.DataFrame]] = field(default_factory=list)  # (sk, lines)
    claim_tags: list[pl.DataFrame] = field(default_factory=list)  # cid, _g, _inflate, _kind
    line_edits: list[dict] = field(default_factory=list)
    new_lines: list[pl.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = np.zeros(self.n, dtype=bool)
        self.inflated_patients = np.zeros(self.n, dtype=bool)
        self.claim_taken = np.zeros(len(self.sk), dtype=bool)

    # -- choosing ----------------------------------------------------------------------
    def priority(self, rng: np.random.Generator) -> np.ndarray:
        """A random priority for every person (drawn whatever the candidates, so the stream
        does not depend on who else is free)."""
        return rng.random(self.n)

    def order(self, prio: np.random.Generator | np.ndarray, cand) -> np.ndarray:
        """The free persons among ``cand``, by priority."""
        cand = np.unique(np.asarray(cand, dtype=np.int64))
        cand = cand[~self.used[cand]]
        p = self.priority(prio) if isinstance(prio, np.random.Generator) else prio
        return cand[np.argsort(p[cand], kind="stable")]

    def pick(self, prio: np.random.Generator | np.ndarray, cand, k: int) -> np.ndarray:
        """Take the ``k`` free persons of ``cand`` first by priority (sorted by index)."""
        chosen = np.sort(self.order(prio, cand)[: max(int(k), 0)])
        self.used[chosen] = True
        return chosen

    def take(self, pidx) -> None:
        self.used[np.asarray(pidx, dtype=np.int64)] = True

    def free(self, cand) -> np.ndarray:
        arr = np.asarray(cand, dtype=np.int64)
        return arr[~self.used[arr]]

    # -- labels ------------------------------------------------------------------------
    def group(self) -> int:
        return self.labels.group()

    def groups(self, n: int) -> np.ndarray:
        return np.array([self.labels.group() for _ in range(n)], dtype=np.int64)

    def label(self, anomaly_type: str, domain: str, entity_type: str, entity_id, grp: int,
              lookalike: bool = False, note: str = "", member_ids: list[str] | None = None,
              whole_amount: bool = False) -> None:
        """Write a truth label; ``whole_amount``: every payment of the group is money at risk."""
        self.labels.add(anomaly_type, domain, entity_type, entity_id, grp, lookalike=lookalike, note=note,
                        member_ids=member_ids)
        self.label_planters.append(self.planter)
        if whole_amount:
            self.amount_groups.add(int(grp))

    # -- subsidy edits -----------------------------------------------------------------
    def add_enrolments(self, rows: pl.DataFrame) -> None:
        self.new_enrolments.append(owned(rows))

    def tag_enrolments(self, pidx, grp, g_from=None, g_to=None, only_type: str | None = None) -> None:
        """Payments of months ``g_from..g_to`` (default the year) of ``pidx``'s enrolments
        (of one type when given) belong to ``grp``."""
        n = len(pidx)
        self.enrolment_tags.append(pl.DataFrame({
            "pidx": np.asarray(pidx, dtype=np.int64), "_grp": np.asarray(grp, dtype=np.int64),
            "_gf": np.ones(n, dtype=np.int64) if g_from is None else np.asarray(g_from, dtype=np.int64),
            "_gt": np.full(n, 12, dtype=np.int64) if g_to is None else np.asarray(g_to, dtype=np.int64),
            "_only": [only_type] * n,
        }, schema={"pidx": pl.Int64, "_grp": pl.Int64, "_gf": pl.Int64, "_gt": pl.Int64, "_only": pl.String}))

    def stop_enrolments(self, pidx, last_month, only_type: str) -> None:
        """``pidx``'s enrolments of ``only_type`` end with ``last_month``."""
        self.enrolment_stops.append(pl.DataFrame({
            "pidx": np.asarray(pidx, dtype=np.int64), "_stop": np.asarray(last_month, dtype=np.int64),
            "_only": [only_type] * len(pidx),
        }, schema={"pidx": pl.Int64, "_stop": pl.Int64, "_only": pl.String}))

    def hold_cards(self, beneficiaries, holder: int, grp: int) -> None:
        """``holder``'s account receives the (non-farmland, untagged) payments of ``beneficiaries``."""
        for b in beneficiaries:
            self.card_holders[int(b)] = (int(holder), int(grp))

    def add_deaths(self, pidx: np.ndarray, death_days: np.ndarray, rng: np.random.Generator) -> None:
        self.new_deaths.append(owned(make_death_rows(self.persons["person_id"].gather(pidx), death_days, rng, self.cfg)))

    def add_assets(self, pidx, kinds, reg_days, values) -> None:
        rows = pl.DataFrame({"pidx": np.asarray(pidx, dtype=np.int64), "asset_type": np.asarray(kinds, dtype=str),
                             "registered_date": to_date_series("r", np.asarray(reg_days, dtype=np.int64)),
                             "value": np.asarray(values, dtype=float)})
        self.new_assets.append(owned(rows.with_columns(person_id=self.persons["person_id"].gather(rows["pidx"]))))

    def update_payments(self, rows: pl.DataFrame) -> None:
        """New values for base payments, keyed by ``pidx, subsidy_type, month``."""
        self.payment_updates.append(owned(rows))

    def add_payments(self, rows: pl.DataFrame) -> None:
        self.new_payments.append(owned(rows))

    def account_str(self, pidx: int) -> str:
        from fundwatch.synth.subsidy import account_of

        return pl.select(account_of(pl.lit(int(pidx), pl.Int64))).item()

    # -- medical edits -----------------------------------------------------------------
    def add_skeletons(self, sk: pl.DataFrame, lines: pl.DataFrame) -> None:
        """Planted claims (``cid`` 0..m-1 local to the frame) with their item lines."""
        self.new_skeletons.append((owned(sk), owned(lines)))

    def tag_claims(self, cid, grp, inflate=None, kind: str | None = None) -> None:
        cid = np.asarray(cid, dtype=np.int64)
        n = len(cid)
        self.claim_taken[cid] = True
        self.claim_tags.append(pl.DataFrame({
            "cid": cid, "_g": np.broadcast_to(np.asarray(grp, dtype=np.int64), (n,)).copy(),
            "_inflate": (np.zeros(n, dtype=np.int64) if inflate is None else np.asarray(inflate, dtype=np.int64)),
            "_kind": [kind] * n,
        }, schema={"cid": pl.Int64, "_g": pl.Int64, "_inflate": pl.Int64, "_kind": pl.String}))

    def edit_line(self, cid: int, item: int, sdate: int, quantity: float, price_c: int, risk_c: int) -> None:
        self.line_edits.append(dict(cid=int(cid), item=int(item), sdate=int(sdate), quantity=float(quantity),
                                    price_c=int(price_c), risk_c=int(risk_c)))

    def add_lines(self, rows: pl.DataFrame) -> None:
        self.new_lines.append(owned(rows))

    # -- base facts planters share -----------------------------------------------------
    def col(self, name: str) -> np.ndarray:
        return self.persons[name].to_numpy()

    @property
    def year(self) -> int:
        return self.cfg.year

    def day(self, y: int, m: int, d: int) -> int:
        return (dt.date(y, m, d) - dt.date(1970, 1, 1)).days


def run_planters(garden: Garden, planters) -> None:
    """Run ``planters`` in order, each with its own stream."""
    names = [p.name for p in planters]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ValueError(f"planter names must be unique (they name the random streams): {doubled}")
    for p in planters:
        garden.planter = p.name
        p.plant(garden, planter_rng(garden.seed, p.name))
    garden.planter = ""
