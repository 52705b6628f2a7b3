"""Contract of the entity-outlier ensemble on small synthetic Gaussian data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fundwatch.detectors.ensemble import EntityOutlierEnsemble


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 5))
    X[:, 1] *= 50.0  # features on very different scales
    X[:, 3] += 1000.0
    X_new = rng.normal(size=(20, 5))
    X_new[:, 1] *= 50.0
    X_new[:, 3] += 1000.0
    return X, X_new


def test_clone_keeps_settings_and_drops_fit(data):
    X, _ = data
    ens = EntityOutlierEnsemble(members=("iforest", "ecod"), n_estimators=50, random_state=3).fit(X)
    c = clone(ens)
    assert c.get_params() == ens.get_params()
    assert not hasattr(c, "members_")
    with pytest.raises(NotFittedError):
        c.decision_function(X)


def test_fixed_random_state_gives_identical_scores(data):
    X, X_new = data
    a = EntityOutlierEnsemble(random_state=11).fit(X).decision_function(X_new)
    b = EntityOutlierEnsemble(random_state=11).fit(X).decision_function(X_new)
    np.testing.assert_array_equal(a, b)


def test_scoring_does_not_mutate(data):
    X, X_new = data
    ens = EntityOutlierEnsemble(random_state=0).fit(X)
    before = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(ens).items()
              if not k.startswith("members_")}
    X_copy = X_new.copy()
    first = ens.decision_function(X_new)
    ens.predict_score(X_new)
    ens.explain(X_new)
    np.testing.assert_array_equal(ens.decision_function(X_new), first)
    np.testing.assert_array_equal(X_new, X_copy)
    for k, v in before.items():
        now = getattr(ens, k)
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(now, v)
        else:
            assert now == v


@pytest.mark.parametrize("combination", ["zscore", "rank"])
def test_planted_outlier_scores_highest_and_is_explained(data, combination):
    X, _ = data
    X = X.copy()
    X[17, 2] = 8.0  # 8 sd out on feature 2 only
    ens = EntityOutlierEnsemble(combination=combination, random_state=0).fit(X)
    scores = ens.decision_function(X)
    # rank combination saturates at the training maximum: the outlier shares the top score
    assert scores[17] == scores.max()
    if combination == "zscore":
        assert int(np.argmax(scores)) == 17
    assert ens.score_samples(X)[17] == scores[17]
    contrib = ens.explain(X[[17]])
    assert int(np.argmax(contrib[0])) == 2


def test_calibrated_score_in_unit_interval_and_monotone(data):
    X, _ = data
    ens = EntityOutlierEnsemble(random_state=0).fit(X)
    far = X[:3].copy()
    far[:, 0] = [0.0, 5.0, 20.0]  # increasingly far out on feature 0
    p = ens.predict_score(far)
    assert np.all((p >= 0) & (p <= 1))
    assert p[0] < p[1] <= p[2]
    assert p[2] > 0.99
    proba = ens.predict_proba(far)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(ens.predict(X))) <= {0, 1}
    assert abs(ens.labels_.mean() - ens.contamination) < 0.05


def test_one_sided_explain_ignores_deficits(data):
    X, _ = data
    ens = EntityOutlierEnsemble(members=("ecod",)).fit(X)
    low = np.median(X, axis=0, keepdims=True)
    low[0, 4] -= 100.0
    assert ens.explain(low, one_sided=True)[0, 4] == 0.0
    assert ens.explain(low)[0, 4] > 10


def test_bad_input_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError):
        EntityOutlierEnsemble(members=("nope",)).fit(X)
    with pytest.raises(ValueError):
        EntityOutlierEnsemble(combination="max").fit(X)
    ens = EntityOutlierEnsemble(members=("ecod",)).fit(X)
    with pytest.raises(ValueError):
        ens.decision_function(X[:, :3])
