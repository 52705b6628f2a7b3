"""The entity-outlier ensemble used by every peer-group model.

:class:`EntityOutlierEnsemble` is a scikit-learn / PyOD style estimator over a numeric
feature matrix (one row per entity: a village, an operator, an institution, a doctor).
It fits several diverse PyOD detectors on robustly scaled features and averages their
*standardised* scores:

* every feature is centred on its median and divided by a robust scale (MAD, IQR or
  standard deviation, whichever is first non-zero), so distance-based members see features
  on one footing and a single huge feature cannot dominate;
* each member's raw score is standardised with the mean and standard deviation of its own
  scores on the training rows (``combination="zscore"``) or turned into its empirical
  percentile among them (``combination="rank"``), then the members are averaged;
* :meth:`predict_score` maps the combined score to ``[0, 1]`` with PyOD's "unify"
  calibration (Gaussian CDF of the score standardised against the training scores,
  Kriegel et al. 2011), so 0.5 is the typical entity's score and values near 1 are rare.

Members were chosen by evidence. ``bench/outliers.py`` on the 35 ADBench classical datasets
(<= 60k rows; campaign and shuttle subsampled to 20k, every detector on the same rows), mean
AUCROC: IForest 0.766 (best single), HBOS 0.750, COPOD 0.748, ECOD 0.739, KNN 0.739;
ensembles (z-score combination, robustly scaled features): IForest+ECOD+COPOD+KNN 0.772,
IForest+KNN 0.790, **IForest+KNN+norm 0.780** (the default), IForest+ECOD+COPOD+KNN+norm 0.770.
IForest+KNN alone is best on ADBench, but on the few dozen entities of a peer group
(operators of a city, clinics of one level) isolation depth saturates and an entity with one
huge excess ranked below entities with several moderate ones; the ``norm`` member (distance
from the median, :class:`RobustNorm`) fixes that at a small cost on ADBench, still beating
every single detector. Rank-based members (ECOD, COPOD) hurt on small peer groups for the
same reason and are left out.

``explain`` gives per-feature contributions: the robust z-score of each feature against
the training medians (``|x - median| / scale``), optionally one-sided.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import erf
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_array

#: Member detectors the ensemble knows, by short name.
MEMBER_NAMES = ("iforest", "ecod", "copod", "hbos", "knn", "lof", "norm")


class RobustNorm:
    """Distance from the centre: root mean square of the (robustly scaled) features.

    The one magnitude-sensitive member that needs no neighbours or tree paths: on the few
    dozen entities of a peer model, rank-based members (ECOD, COPOD) and isolation depth
    saturate — the largest of 12 values gets the same tail probability however far out it is —
    while this keeps growing with the excess.
    """

    def fit(self, X, y=None) -> "RobustNorm":
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.sqrt((X**2).mean(axis=1))

#: 1 / Phi^-1(3/4): turns a median absolute deviation into a Gaussian standard deviation.
MAD_TO_SD = 1.4826
#: IQR of a standard Gaussian: turns an inter-quartile range into a standard deviation.
IQR_TO_SD = 1.349


def robust_center_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale (MAD, else IQR, else std, else 1).

    A column where more than half of the rows share one value has MAD 0; falling back to the
    IQR and then to the standard deviation keeps such (often zero-inflated) features usable
    instead of dividing by zero.
    """
    X = np.asarray(X, dtype=float)
    center = np.median(X, axis=0)
    mad = MAD_TO_SD * np.median(np.abs(X - center), axis=0)
    q75, q25 = np.percentile(X, [75, 25], axis=0)
    iqr = (q75 - q25) / IQR_TO_SD
    std = X.std(axis=0)
    scale = np.where(mad > 0, mad, np.where(iqr > 0, iqr, np.where(std > 0, std, 1.0)))
    return center, scale


class EntityOutlierEnsemble(BaseEstimator):
    """Average of standardised scores of diverse PyOD detectors.

    Parameters
    ----------
    members : names of member detectors, from :data:`MEMBER_NAMES`.
    combination : ``"zscore"`` (mean of member scores standardised on the training rows) or
        ``"rank"`` (mean of empirical percentiles among the training scores).
    n_estimators : trees of the IForest member.
    max_features : share of features each IForest tree sees (feature bagging when < 1).
    n_neighbors : neighbours of the KNN / LOF members (capped at ``n_samples - 1``).
    contamination : expected share of outliers; sets ``threshold_`` and :meth:`predict` only.
    scale_features : robustly scale features (median / MAD) before the members see them. Turn
        off when the features are already standardised (the peer models pass robust z-scores
        within peer groups, often zero for most entities, which a second scaling would inflate).
    random_state : seed of the randomised members (IForest).
    """

    def __init__(
        self,
        members: Sequence[str] = ("iforest", "knn", "norm"),
        combination: str = "zscore",
        n_estimators: int = 200,
        max_features: float = 1.0,
        n_neighbors: int = 10,
        contamination: float = 0.1,
        scale_features: bool = True,
        random_state: int | None = 0,
    ):
        self.members = members
        self.combination = combination
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.scale_features = scale_features
        self.random_state = random_state

    # -- members -------------------------------------------------------------------
    def _make_member(self, name: str, n_samples: int):
        k = int(max(1, min(self.n_neighbors, n_samples - 1)))
        if name == "iforest":
            from pyod.models.iforest import IForest

            return IForest(
                n_estimators=self.n_estimators,
                max_features=self.max_features,
                random_state=self.random_state,
            )
        if name == "ecod":
            from pyod.models.ecod import ECOD

            return ECOD()
        if name == "copod":
            from pyod.models.copod import COPOD

            return COPOD()
        if name == "hbos":
            from pyod.models.hbos import HBOS

            return HBOS()
        if name == "knn":
            from pyod.models.knn import KNN

            return KNN(n_neighbors=k)
        if name == "norm":
            return RobustNorm()
        if name == "lof":
            from pyod.models.lof import LOF

            return LOF(n_neighbors=k)
        raise ValueError(f"unknown ensemble member {name!r}; choose from {MEMBER_NAMES}")

    def _check_X(self, X) -> np.ndarray:
        X = check_array(X, dtype=float, ensure_all_finite=True)
        if hasattr(self, "n_features_in_") and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features but the ensemble was fitted on {self.n_features_in_}"
            )
        return X

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        return (X - self.center_) / self.scale_ if self.scale_features else X

    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError("EntityOutlierEnsemble is not fitted: call fit(X) first")

    # -- fit -----------------------------------------------------------------------
    def fit(self, X, y=None) -> "EntityOutlierEnsemble":
        """Fit every member on robustly scaled ``X``; learn score calibration. Returns self."""
        if self.combination not in ("zscore", "rank"):
            raise ValueError(f"combination must be 'zscore' or 'rank', not {self.combination!r}")
        if not self.members:
            raise ValueError("the ensemble needs at least one member")
        X = check_array(X, dtype=float, ensure_all_finite=True, ensure_min_samples=2)
        self.n_features_in_ = X.shape[1]
        self.center_, self.scale_ = robust_center_scale(X)
        Z = self._scaled(X)
        self.members_ = []
        member_scores = []
        for name in self.members:
            det = self._make_member(name, X.shape[0]).fit(Z)
            self.members_.append(det)
            # Score the training rows through the same path as new rows (not decision_scores_):
            # KNN/LOF treat a query point differently from a training point, and the
            # standardisation below must match what decision_function will see.
            member_scores.append(np.asarray(det.decision_function(Z), dtype=float))
        S = np.column_stack(member_scores)
        self.member_mean_ = S.mean(axis=0)
        sd = S.std(axis=0)
        self.member_std_ = np.where(sd > 0, sd, 1.0)
        self.member_sorted_ = np.sort(S, axis=0)
        combined = self._combine(S)
        self.decision_scores_ = combined
        self.score_mean_ = float(combined.mean())
        csd = float(combined.std())
        self.score_std_ = csd if csd > 0 else 1.0
        self.threshold_ = float(np.quantile(combined, 1.0 - self.contamination))
        self.labels_ = (combined > self.threshold_).astype(int)
        return self

    def _combine(self, S: np.ndarray) -> np.ndarray:
        if self.combination == "zscore":
            return ((S - self.member_mean_) / self.member_std_).mean(axis=1)
        n = self.member_sorted_.shape[0]
        ranks = np.column_stack(
            [
                np.searchsorted(self.member_sorted_[:, j], S[:, j], side="right") / n
                for j in range(S.shape[1])
            ]
        )
        return ranks.mean(axis=1)

    # -- scoring -------------------------------------------------------------------
    def member_scores(self, X) -> np.ndarray:
        """Raw scores of each member, shape ``(n_samples, n_members)``."""
        self._check_fitted()
        Z = self._scaled(self._check_X(X))
        return np.column_stack(
            [np.asarray(m.decision_function(Z), dtype=float) for m in self.members_]
        )

    def decision_function(self, X) -> np.ndarray:
        """Combined outlier score of each row; higher = more anomalous. Does not mutate."""
        return self._combine(self.member_scores(X))

    def score_samples(self, X) -> np.ndarray:
        """Same as :meth:`decision_function` (higher = more anomalous, PyOD convention)."""
        return self.decision_function(X)

    def predict_score(self, X) -> np.ndarray:
        """Calibrated outlier score in ``[0, 1]`` ("unify": Gaussian CDF of the standardised score).

        Rows scoring at or below the training mean get 0; a row 2 standard deviations above it
        gets about 0.95, 3 about 0.997.
        """
        s = (self.decision_function(X) - self.score_mean_) / self.score_std_
        return np.clip(erf(s / np.sqrt(2.0)), 0.0, 1.0)

    def predict_proba(self, X) -> np.ndarray:
        """PyOD-style ``(n_samples, 2)`` array: probability of inlier, of outlier."""
        p = self.predict_score(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """1 where the combined score exceeds ``threshold_`` (set from ``contamination``)."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    # -- explanation ---------------------------------------------------------------
    def explain(self, X, one_sided: bool = False) -> np.ndarray:
        """Per-feature contributions, shape ``(n_samples, n_features)``.

        The robust z-score of each value against the training median and robust scale; with
        ``one_sided`` only excesses above the median count (values below contribute 0).
        The largest entries of a row name the features that make it unusual.
        """
        self._check_fitted()
        z = (self._check_X(X) - self.center_) / self.scale_
        return np.clip(z, 0.0, None) if one_sided else np.abs(z)
