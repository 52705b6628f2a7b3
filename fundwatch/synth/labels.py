"""The truth book: planted anomalies and look-alikes, tied to records through group ids.

Records (disbursements, claims) carry an internal ``grp`` (the group they were planted in)
and ``risk`` (CNY that record puts in doubt). A label row points at one group; several
label rows may share a group (e.g. a village and its operator). Record ids are only known
once the records are numbered, so labels are resolved at the very end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

LABEL_SCHEMA = pl.Schema(
    {
        "anomaly_type": pl.String(),
        "domain": pl.String(),
        "entity_type": pl.String(),
        "entity_id": pl.String(),
        "record_ids": pl.List(pl.String()),
        "amount": pl.Float64(),
        "lookalike": pl.Boolean(),
        "note": pl.String(),
        "member_ids": pl.List(pl.String()),
    }
)


@dataclass
class LabelBook:
    rows: list[dict] = field(default_factory=list)
    _next: int = 0

    def group(self) -> int:
        self._next += 1
        return self._next

    def add(self, anomaly_type: str, domain: str, entity_type: str, entity_id: str, grp: int,
            lookalike: bool = False, note: str = "", member_ids: list[str] | None = None) -> None:
        self.rows.append(dict(anomaly_type=anomaly_type, domain=domain, entity_type=entity_type,
                              entity_id=str(entity_id), grp=int(grp), lookalike=bool(lookalike),
                              note=note, member_ids=member_ids))

    def resolve(self, records: pl.DataFrame) -> pl.DataFrame:
        """``records``: columns ``record_id, grp, risk`` over all planted records."""
        if not self.rows:
            return pl.DataFrame(schema=LABEL_SCHEMA)
        agg = (
            records.filter(pl.col("grp").is_not_null())
            .group_by("grp")
            .agg(record_ids=pl.col("record_id").sort(), amount=pl.col("risk").sum().round(2))
        )
        book = pl.DataFrame(
            self.rows,
            schema={"anomaly_type": pl.String, "domain": pl.String, "entity_type": pl.String,
                    "entity_id": pl.String, "grp": pl.Int64, "lookalike": pl.Boolean, "note": pl.String,
                    "member_ids": pl.List(pl.String)},
        ).with_row_index("_order")
        out = book.join(agg.with_columns(pl.col("grp").cast(pl.Int64)), on="grp", how="left").sort("_order")
        out = out.with_columns(
            record_ids=pl.col("record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            amount=pl.col("amount").fill_null(0.0),
        )
        return out.select(list(LABEL_SCHEMA.names())).cast(dict(LABEL_SCHEMA))
