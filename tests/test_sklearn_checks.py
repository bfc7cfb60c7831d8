"""scikit-learn's own estimator checks, on a fast configuration: the estimators behave as its
users (and tools such as pipelines, grid search and clone) expect."""
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl import AutoMLClassifier, AutoMLRegressor

FAST_CHECKS = {"models": ["linear"], "ensemble": "best", "n_folds": 2, "verbosity": 0}
# Checks that do not hold by design, with the reason.
EXPECTED_FAILURES = {
    # A weight of 2 and a duplicated row are the same to every loss and score, but not to the fold
    # plan: the duplicate is a row of its own, which may fall in another fold (and so be predicted
    # out of fold by a model that saw its twin). Close, not identical (benchmarks/results/weights.md).
    "check_sample_weight_equivalence_on_dense_data":
        "k-fold bagging splits duplicated rows, not weighted ones",
}


@parametrize_with_checks([AutoMLClassifier(**FAST_CHECKS), AutoMLRegressor(**FAST_CHECKS)])
def test_scikit_learn_estimator_checks(estimator, check):
    name = getattr(check, "func", check).__name__
    if name in EXPECTED_FAILURES:
        pytest.xfail(EXPECTED_FAILURES[name])
    check(estimator)
