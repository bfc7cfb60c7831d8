"""scikit-learn's own estimator checks, on a fast configuration: the estimators behave as its
users (and tools such as pipelines, grid search and clone) expect."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl import AutoMLClassifier, AutoMLRegressor

FAST_CHECKS = {"models": ["linear"], "ensemble": "best", "n_folds": 2, "verbosity": 0}


@parametrize_with_checks([AutoMLClassifier(**FAST_CHECKS), AutoMLRegressor(**FAST_CHECKS)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
