"""Run the same scan flow on a Dask cluster through ``prefect-dask``.

Partitionable rules (those declaring ``partition_by``) run as one task per part, spread over
the workers; peer models and group detectors run once each as the reduce step, after the
rules of their domain. The leads are identical to a single-process run (tested).
"""

from __future__ import annotations

from prefect import Flow

#: Local cluster used by ``--dask-address local``: two single-threaded worker processes.
LOCAL_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}


def dask_task_runner(address: str | None):
    """A ``DaskTaskRunner`` for ``address`` (``tcp://host:8786``), or a local cluster for ``local``/``None``."""
    from prefect_dask import DaskTaskRunner

    if not address or address == "local":
        return DaskTaskRunner(cluster_kwargs=dict(LOCAL_CLUSTER))
    return DaskTaskRunner(address=address)


def with_dask(flow: Flow, address: str | None) -> Flow:
    """``flow`` with its tasks running on Dask at ``address``."""
    return flow.with_options(task_runner=dask_task_runner(address))
