"""Cross-dataset checks.

GE has no cross-table expectations, so each join is computed in polars and its per-row result
(``fw__<check>``) is validated by GE inside the suite of the dataset whose rows it judges: every
check appears in the same results and Data Docs as the single-dataset ones.

A check is skipped (and reported as skipped) when the dataset it reads is absent. Datasets are
validated in :data:`ORDER`; a check reads the *accepted* rows of datasets validated before it
(so accepted claim items only point at accepted claims) and the input rows of the others.

Missing persons, unknown subsidy types and unknown institutions are warnings, never quarantined:
a payment or claim for someone or something not on the roster is itself a lead.
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings.validation import ValidationSettings

from .spec import CRITICAL, FLOAT_SLACK, WARNING, Check, Ctx, derived

#: Validation order: references first, then the events that point at them.
ORDER = (
    "regions",
    "persons",
    "deaths",
    "officials",
    "assets",
    "subsidy_standards",
    "land",
    "institutions",
    "item_catalog",
    "item_prices",
    "disbursements",
    "allocations",
    "claims",
    "claim_items",
)


def exists_in(
    name: str, text: str, severity: str, col: str, other: str, other_cols: tuple[str, ...]
) -> Check:
    """Every non-null ``col`` value occurs in one of ``other_cols`` of dataset ``other``."""

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Expr:
        ref = c.datasets[other]
        keys = pl.concat([ref.get_column(k).cast(pl.String) for k in other_cols if k in ref.columns]).unique()
        return pl.col(col).cast(pl.String).is_in(keys.implode()).fill_null(True)

    return derived(name, text, severity, (col,), ok, needs=(other,))  # type: ignore[arg-type]


def claim_total_matches_items(severity: str = WARNING) -> Check:
    """A claim's total_amount equals the sum of its items' amounts (claims without items pass)."""

    def ok(f: pl.DataFrame, c: Ctx) -> pl.Series:
        items = c.datasets["claim_items"]
        tolerance = c.settings.money_tolerance + FLOAT_SLACK

        def within(claims: pl.DataFrame, sums: pl.DataFrame, key: str) -> pl.Series:
            j = claims.join(sums, on=key, how="left", maintain_order="left")
            ok = (j.get_column("total_amount") - j.get_column("_items")).abs() <= tolerance
            if "_merged" in j.columns:  # a group that may mix claims is never a pass by itself
                ok = ok & ~j.get_column("_merged")
            return ok.fill_null(True)

        # Grouping tens of millions of item lines by their string claim_id costs gigabytes;
        # grouping a 64-bit hash of it with the streaming engine (which never materialises
        # the 35M projected rows) costs almost nothing. Two claim ids with one hash would share
        # a sum, so each group also carries the range of a second, independent hash: a group
        # whose range is not a single value mixes claims. Failing and mixed claims (a handful)
        # are re-checked exactly on their string ids.
        hashed = pl.col("claim_id").hash(seed=0).alias("_h")
        second = pl.col("claim_id").hash(seed=1)
        sums = (
            items.lazy().select(hashed, second.alias("_h2"), "amount")
            .group_by("_h")
            .agg(pl.col("amount").sum().alias("_items"), (pl.col("_h2").min() != pl.col("_h2").max()).alias("_merged"))
            .collect(engine="streaming")
        )
        passed = within(f.select(hashed, "total_amount"), sums, "_h")
        if passed.all():
            return passed
        rows = (~passed).arg_true()
        suspects = f[rows].select("claim_id", "total_amount")
        exact = (
            items.join(suspects.select("claim_id"), on="claim_id", how="semi")
            .group_by("claim_id").agg(pl.col("amount").sum().alias("_items"))
        )
        return passed.scatter(rows, within(suspects, exact, "claim_id"))

    return derived(
        "total_amount_eq_sum_of_items",
        "total_amount equals the sum of the claim's item amounts (± money_tolerance)",
        severity,  # type: ignore[arg-type]
        ("claim_id", "total_amount"),
        ok,
        needs=("claim_items",),
    )


def checks(dataset: str, s: ValidationSettings) -> list[Check]:
    """The cross-dataset checks judging the rows of ``dataset``."""
    return {
        "claim_items": [
            exists_in("claim_exists", "claim_id exists in claims (accepted rows)", CRITICAL,
                      "claim_id", "claims", ("claim_id",)),
        ],
        "claims": [
            exists_in("institution_exists", "institution_id exists in institutions", WARNING,
                      "institution_id", "institutions", ("institution_id",)),
            exists_in("patient_in_persons", "person_id (the patient) exists in persons", WARNING,
                      "person_id", "persons", ("person_id",)),
            claim_total_matches_items(),
        ],
        "disbursements": [
            exists_in("subsidy_type_in_standards", "subsidy_type is a code or a name in subsidy_standards",
                      WARNING, "subsidy_type", "subsidy_standards", ("subsidy_type", "subsidy_name")),
            exists_in("beneficiary_in_persons", "person_id (the beneficiary) exists in persons", WARNING,
                      "person_id", "persons", ("person_id",)),
        ],
        # contract v2
        "item_prices": [
            exists_in("item_in_catalog", "item_code exists in item_catalog", WARNING,
                      "item_code", "item_catalog", ("item_code",)),
        ],
        "allocations": [
            exists_in("subsidy_type_in_standards", "subsidy_type is a code or a name in subsidy_standards",
                      WARNING, "subsidy_type", "subsidy_standards", ("subsidy_type", "subsidy_name")),
        ],
    }.get(dataset, [])
