"""Metrics: the fast paths equal scikit-learn's definitions."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.metrics import binary_auc


def test_binary_auc_equals_scikit_learns_with_ties():
    rng = np.random.default_rng(0)
    for n in (5, 50, 2000):
        y = rng.random(n) < 0.3
        y[:2] = [True, False]
        scores = np.round(rng.random(n), 1)  # many ties
        assert binary_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
