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
