"""GES and MixtureLoss: the fast paths agree with a brute-force reference built on Metric.loss."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.ensemble.data import EnsembleData
from automl.ensemble.greedy import GreedyEnsemble
from automl.ensemble.mixture_loss import EXACT_AUC_ROWS, MixtureLoss
from automl.metrics import get_metric

from strategy_data import synthetic_store as _store


def _reference_ges(metric, predictions, y, n_iterations):
    """Plain GES: every candidate scored with Metric.loss; same tie and truncation rules."""
    counts, history = np.zeros(len(predictions)), []
    single = np.array([metric.loss(y, p) for p in predictions])
    for step in range(n_iterations):
        losses = np.array([metric.loss(y, (np.tensordot(counts, predictions, 1) + p) / (step + 1))
                           for p in predictions])
        ties = np.flatnonzero(losses <= losses.min() + 1e-7 * max(1, abs(losses.min())))
        pool = ties[counts[ties] > 0] if (counts[ties] > 0).any() else ties
        j = pool[np.argmin(single[pool])]
        counts[j] += 1
        history.append((losses[j], counts.copy()))
    values = np.array([v for v, _ in history])
    best = np.flatnonzero(values <= values.min() + 1e-7 * max(1, abs(values.min())))[0]
    return history[best][1] / history[best][1].sum()


@pytest.mark.parametrize("task, metric", [("binary", "roc_auc"), ("binary", "log_loss"), ("multiclass", "log_loss"),
                                          ("multiclass", "roc_auc"), ("multiclass", "accuracy"),
                                          ("regression", "rmse"), ("regression", "mae")])
def test_ges_matches_brute_force(task, metric):
    predictions, y = _store(task)
    metric = get_metric(metric, task)
    ges = GreedyEnsemble(metric, task, n_iterations=12).fit(EnsembleData(predictions, y))
    np.testing.assert_allclose(ges.weights_, _reference_ges(metric, predictions, y, 12))
    assert ges.oof_loss_ == pytest.approx(metric.loss(y, ges.predict(predictions)), rel=1e-5)


def test_ges_finds_complementary_pair_and_truncates():
    # Two models each right on one half of the rows: their mean is perfect, and adding any
    # third copy only hurts, so the ensemble stops at the pair however many steps are allowed.
    y = np.array([0, 1] * 20)
    left, right = np.eye(2)[y].copy(), np.eye(2)[y].copy()
    left[20:], right[:20] = 0.5, 0.5
    noisy = np.full_like(left, 0.5)
    predictions = np.stack([noisy, left, right]).astype(np.float32)
    ges = GreedyEnsemble(get_metric("log_loss", "binary"), "binary", n_iterations=40).fit(EnsembleData(predictions, y))
    np.testing.assert_allclose(ges.weights_, [0, 0.5, 0.5])


def test_sorted_init_starts_from_the_best_models():
    predictions, y = _store("multiclass", n_models=6)
    metric = get_metric("log_loss", "multiclass")
    single = [metric.loss(y, p) for p in predictions]
    ges = GreedyEnsemble(metric, "multiclass", n_iterations=30, sorted_init=3).fit(EnsembleData(predictions, y))
    assert ges.weights_[int(np.argmin(single))] > 0
    plain = GreedyEnsemble(metric, "multiclass", n_iterations=30).fit(EnsembleData(predictions, y))
    assert ges.oof_loss_ <= min(single) and plain.oof_loss_ <= min(single)


def test_mixture_loss_of_weights_matches_metric():
    predictions, y = _store("multiclass", n_rows=300)
    rng = np.random.default_rng(1)
    weights = rng.dirichlet(np.ones(len(predictions)), size=4)
    for name in ("log_loss", "roc_auc", "balanced_accuracy"):
        metric = get_metric(name, "multiclass")
        expected = [metric.loss(y, np.tensordot(w, predictions.astype(np.float64), 1)) for w in weights]
        np.testing.assert_allclose(MixtureLoss(metric, predictions, y).of_weights(weights), expected, rtol=1e-5)


def test_binned_auc_is_close_to_exact_on_large_data():
    rng = np.random.default_rng(0)
    n = EXACT_AUC_ROWS + 5_000
    y = rng.integers(0, 2, n)
    positive = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(scale=0.2, size=(3, n)), 0, 1)
    predictions = np.stack([1 - positive, positive], axis=2).astype(np.float32)
    losses = MixtureLoss(get_metric("roc_auc", "binary"), predictions, y).of_additions(None, 0)
    exact = [roc_auc_score(y, p[:, 1]) for p in predictions]
    np.testing.assert_allclose(-losses, exact, atol=1e-4)


def test_ges_rejects_zero_iterations():
    with pytest.raises(ValueError, match="n_iterations"):
        GreedyEnsemble(get_metric("rmse", "regression"), "regression", n_iterations=0)
