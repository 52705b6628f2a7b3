"""Settings section ``store``: the lead store (see :mod:`fundwatch.store`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoreSettings(BaseModel):
    """Settings of the lead store.

    Attributes
    ----------
    default_filename : ``leads.sqlite`` in the output directory when no URL is given.
    busy_timeout_seconds : 30 s. SQLite: how long a scan waits for another scan that holds
        the store before failing with ``StoreBusyError``. Long enough for a normal run to
        finish writing, short enough that a stuck run is reported instead of hanging.
    lock_timeout_seconds : 30 s. PostgreSQL ``lock_timeout`` for the same purpose.
    insert_batch_rows : 5000 rows per executemany batch (bounded memory on large runs).
    regrowth_tolerance_cny : 0.01 CNY. A dismissed lead comes back when its money at risk
        exceeds the amount at decision by more than this (rounding must not re-raise it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_filename: str = "leads.sqlite"
    busy_timeout_seconds: float = Field(30.0, ge=0)
    lock_timeout_seconds: float = Field(30.0, ge=0)
    insert_batch_rows: int = Field(5000, ge=1)
    regrowth_tolerance_cny: float = Field(0.01, ge=0)
