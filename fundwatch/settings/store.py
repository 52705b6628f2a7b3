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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_filename: str = "leads.sqlite"
    busy_timeout_seconds: float = Field(30.0, ge=0)
    lock_timeout_seconds: float = Field(30.0, ge=0)
    insert_batch_rows: int = Field(5000, ge=1)
