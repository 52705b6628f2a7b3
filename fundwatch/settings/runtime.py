"""Settings section ``runtime``: how a run behaves (not what it finds)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RuntimeSettings(BaseModel):
    """Run-time behaviour.

    Attributes
    ----------
    fail_at_step : fault injection for crash-safety tests: the pipeline raises
        ``InjectedFault`` when it reaches this step (``load``, ``validate``, ``detect``,
        ``rank``, ``store``, ``report``). ``None`` in production.
    partitions : how many independent parts each partitionable rule runs in (by a hash of
        its key, e.g. person_id). 1 on one machine; on a Dask cluster, about the number of
        worker cores. Results are identical whatever the number.
    detect_workers : detector runs unfinished at once, read per run by
        :func:`fundwatch.pipeline.detect_step` whatever runs them (in process, Prefect threads,
        a Dask cluster: raise it there to about the number of worker cores). Polars already uses
        every core inside one query, so on one machine more workers mostly add peak memory.
        (The seed of the randomised peer models is ``peers.random_state``.)
    cache_max_input_mb : the Prefect load task caches its result (keyed on the input files'
        paths, sizes and mtimes) only for inputs up to this size; a city-scale input would be
        pickled to Prefect's result storage at every run, which costs more than loading it.
    memory_per_input_byte : estimated bytes of memory a scan needs per byte of input file, by
        file type (Parquet is compressed many times over; CSV text is not). Measured on the
        synthetic cities of bench/speed.py (L: 0.49 GB of Parquet, 10.8 GB peak end to end,
        so 24 leaves about 10 % headroom); used by the memory check before loading.
    memory_limit_gb : memory a scan may use; ``None`` = what the machine has available when
        the scan starts. A scan whose estimate exceeds it stops with a clear message before
        loading, instead of being killed by the kernel half-way.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_at_step: Literal["load", "validate", "detect", "rank", "store", "report"] | None = None
    partitions: int = Field(default=1, ge=1, le=4096)
    detect_workers: int = Field(default=2, ge=1, le=64)
    cache_max_input_mb: float = Field(default=20.0, ge=0)
    memory_per_input_byte: dict[str, float] = Field(
        default_factory=lambda: {"parquet": 24.0, "csv": 6.0, "xlsx": 10.0}
    )
    memory_limit_gb: float | None = Field(default=None, gt=0)
