"""Benchmark: the entity-outlier ensemble vs single PyOD detectors on ADBench classical data.

Usage::

    .venv/bin/python bench/outliers.py [DATA_DIR] [--max-rows 60000] [--subsample 0]
        [--variant NAME=members:combination[:max_features] ...] [--jobs 2]

``DATA_DIR`` defaults to ``../shared/benchmarks/adbench/`` relative to the repository. Every
``*.npz`` there holds ``X`` (n x d) and ``y`` (1 = anomaly). Datasets with more than
``--max-rows`` rows or without an anomaly are skipped (as the data README does). With
``--subsample N`` larger datasets are subsampled (stratified, seed 0) to N rows, and *every*
detector is measured on that same subsample.

Prints per-dataset AUCROC, mean AUCROC and mean rank (1 = best, ties averaged) of the
ensemble (``EntityOutlierEnsemble`` with its defaults, plus any ``--variant``) and of IForest,
ECOD, COPOD, HBOS and KNN with PyOD defaults (IForest ``random_state=0``), all measured in the
same run, and the ensemble / best-single ratio of mean AUCROC. Single detectors are scored by
their training ``decision_scores_`` (ADBench protocol); the ensemble by ``decision_function``
on the same rows (the path the peer models use).

Only this benchmark reads ``../shared``; fundwatch itself never does.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundwatch.detectors.ensemble import EntityOutlierEnsemble  # noqa: E402

DEFAULT_DIR = REPO / ".." / "shared" / "benchmarks" / "adbench"
SINGLES = ("IForest", "ECOD", "COPOD", "HBOS", "KNN")


def _single(name: str):
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN

    return {
        "IForest": lambda: IForest(random_state=0),
        "ECOD": ECOD,
        "COPOD": COPOD,
        "HBOS": HBOS,
        "KNN": KNN,
    }[name]()


def parse_variant(text: str) -> tuple[str, dict]:
    """``NAME=iforest+ecod:zscore[:0.5]`` -> (NAME, ensemble kwargs)."""
    name, spec = text.split("=", 1)
    parts = spec.split(":")
    kwargs: dict = {"members": tuple(parts[0].split("+"))}
    if len(parts) > 1 and parts[1]:
        kwargs["combination"] = parts[1]
    if len(parts) > 2 and parts[2]:
        kwargs["max_features"] = float(parts[2])
    return name, kwargs


def load(path: Path, subsample: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path, allow_pickle=False)
    X, y = np.asarray(data["X"], dtype=float), np.asarray(data["y"]).astype(int).ravel()
    if subsample and len(y) > subsample:
        rng = np.random.default_rng(0)
        keep = []
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            n = max(1, round(subsample * len(idx) / len(y)))
            keep.append(rng.choice(idx, size=min(n, len(idx)), replace=False))
        sel = np.sort(np.concatenate(keep))
        X, y = X[sel], y[sel]
    return X, y


def run_one(args: tuple[Path, int, dict[str, dict]]) -> tuple[str, int, dict[str, float], float]:
    path, subsample, variants = args
    X, y = load(path, subsample)
    t0 = time.perf_counter()
    res: dict[str, float] = {}
    for name, kwargs in variants.items():
        ens = EntityOutlierEnsemble(**kwargs).fit(X)
        res[name] = roc_auc_score(y, ens.decision_function(X))
    for name in SINGLES:
        det = _single(name).fit(X)
        res[name] = roc_auc_score(y, det.decision_scores_)
    return path.stem, len(y), res, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--max-rows", type=int, default=60_000)
    ap.add_argument("--subsample", type=int, default=0)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated substrings of dataset names")
    ns = ap.parse_args(argv)

    variants: dict[str, dict] = {"Ensemble": {}}
    variants.update(parse_variant(v) for v in ns.variant)
    paths = []
    for p in sorted(Path(ns.data_dir).glob("*.npz"), key=lambda p: int(p.stem.split("_")[0])):
        if ns.only and not any(s in p.stem for s in ns.only.split(",")):
            continue
        with np.load(p, allow_pickle=False) as d:
            n, pos = d["y"].shape[0], int(np.asarray(d["y"]).sum())
        if n > ns.max_rows or pos == 0:
            print(f"skip {p.stem}: {n} rows, {pos} anomalies")
            continue
        paths.append(p)
    if not paths:
        print(f"no datasets found in {ns.data_dir}")
        return 1

    names = list(variants) + list(SINGLES)
    rows: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=ns.jobs) as pool:
        jobs = [(p, ns.subsample, variants) for p in paths]
        # largest first so the pool stays busy
        jobs.sort(key=lambda j: -j[0].stat().st_size)
        for stem, n, res, secs in pool.map(run_one, jobs):
            rows[stem] = res
            print(f"done {stem:<22} n={n:<6} {secs:6.1f}s", file=sys.stderr, flush=True)

    order = sorted(rows, key=lambda s: int(s.split("_")[0]))
    width = max(len(s) for s in order)
    print(f"{'dataset':<{width}} " + " ".join(f"{n:>9}" for n in names))
    table = np.array([[rows[s][n] for n in names] for s in order])
    for s, r in zip(order, table):
        print(f"{s:<{width}} " + " ".join(f"{v:9.4f}" for v in r))
    means = table.mean(axis=0)
    ranks = np.vstack([rankdata(-r) for r in table]).mean(axis=0)
    print(f"{'mean AUCROC':<{width}} " + " ".join(f"{v:9.4f}" for v in means))
    print(f"{'mean rank':<{width}} " + " ".join(f"{v:9.2f}" for v in ranks))
    best_single = max(SINGLES, key=lambda n: means[names.index(n)])
    best = means[names.index(best_single)]
    for v in variants:
        print(
            f"{v}/best single ({best_single} {best:.4f}): {means[names.index(v)] / best:.4f}"
        )
    print(f"{len(order)} datasets, {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
