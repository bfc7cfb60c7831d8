"""Resources are the fit's, not the process's: ``n_jobs`` bounds every phase, and nothing leaves a
process-wide setting changed."""
import concurrent.futures

import numpy as np
import pandas as pd
import torch

from automl import AutoMLClassifier
from automl.data.encoder import EncodedTable
from automl.models.base import TaskInfo
from automl.models.tabm import TabMModel


def test_a_fit_with_one_job_never_starts_more_than_one_worker(monkeypatch):
    """Every thread pool the package starts (fold copies, the search's candidate scoring, copies
    predicting side by side) and every library thread count it sets follow n_jobs=1."""
    workers = []
    original = concurrent.futures.ThreadPoolExecutor.__init__

    def recording(self, max_workers=None, *args, **kwargs):
        workers.append(max_workers)
        original(self, max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "__init__", recording)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = (X["a"] + X["b"] * X["c"] + rng.normal(scale=0.5, size=600) > 0).astype(int)
    model = AutoMLClassifier(models=["lightgbm", "linear", "knn"], n_folds=3, time_limit=25, n_jobs=1,
                             verbosity=0).fit(X, y)
    model.predict_proba(pd.concat([X] * 20))  # enough cells for copies side by side, were there threads
    assert workers and max(workers) == 1
    assert all(copy.n_threads == 1 for bag in model.models_.values() for copy in bag.models_)


def test_tabm_sets_torchs_threads_for_its_call_only():
    rng = np.random.default_rng(0)
    numeric = rng.normal(size=(200, 3)).astype(np.float32)
    table = EncodedTable(numeric, np.zeros((200, 0), dtype=np.int32), ["a", "b", "c"], [], [])
    y = (numeric[:, 0] > 0).astype(int)
    before = torch.get_num_threads()
    seen = []
    model = TabMModel({"k": 2, "d_block": 16, "n_bins": 4, "d_embedding": 4, "max_epochs": 2}, TaskInfo("binary", 2),
                      seed=0, n_threads=1, options={"min_epochs": 1})
    original = model._train_epoch

    def spying(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    model._train_epoch = spying
    model.fit(table, y)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before
    model.predict(table)
    assert torch.get_num_threads() == before
