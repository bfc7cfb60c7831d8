"""The time limit is honoured, and a short budget still yields a working model."""
import time

import numpy as np
import pandas as pd

from automl import AutoMLClassifier
from automl.budget import TimeBudget


def test_fit_ends_within_its_time_limit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(4000, 20)), columns=[f"f{j}" for j in range(20)])
    y = (X["f0"] + X["f1"] * X["f2"] + rng.normal(size=4000) > 0).astype(int)
    limit = 10.0
    start = time.monotonic()
    model = AutoMLClassifier(time_limit=limit, verbosity=0).fit(X, y)
    elapsed = time.monotonic() - start
    assert elapsed <= 1.05 * limit + 5.0
    assert len(model.store_) >= 1  # at least one model always finishes
    assert model.predict_proba(X[:10]).shape == (10, 2)


def test_sub_budgets_never_outlive_their_parent():
    parent = TimeBudget(5.0)
    assert parent.sub(100.0).remaining() <= 5.0
    assert 0.9 < parent.sub(1.0).remaining() <= 1.0
    assert TimeBudget(None).sub(None).remaining() == float("inf")
    assert TimeBudget(0.0).expired()


def test_refit_has_its_own_time_and_the_limit_still_holds():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(3000, 10)), columns=[f"f{j}" for j in range(10)])
    y = (X["f0"] + X["f1"] * X["f2"] + rng.normal(size=3000) > 0).astype(int)
    limit = 15.0
    start = time.monotonic()
    model = AutoMLClassifier(time_limit=limit, refit=True, models=["lightgbm", "linear"], verbosity=0).fit(X, y)
    assert time.monotonic() - start <= 1.05 * limit + 5.0
    members = {model.records_[j].name for j in model.ensemble_.used_models}
    assert members and members <= set(model.refitted_)  # every member refitted, within the limit
