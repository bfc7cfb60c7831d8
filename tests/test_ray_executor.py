"""The Ray executor on a local Ray of 2 CPUs: the same models and OOF predictions as the local
executor, and a fit that survives a worker killed on purpose."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from automl import AutoMLClassifier

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'automl[ray]')")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return X, y


def test_ray_trains_the_same_models_with_the_same_oof_predictions():
    X, y = _table()
    settings = dict(models=["lightgbm", "random_forest", "linear"], n_folds=3, verbosity=0, random_state=0,
                    n_jobs=2, ensemble="ges")
    local = AutoMLClassifier(**settings).fit(X, y)
    remote = AutoMLClassifier(**settings, executor="ray").fit(X, y)
    assert [r.name for r in remote.store_.records] == [r.name for r in local.store_.records]
    np.testing.assert_array_equal(remote.store_.oof, local.store_.oof)
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def _fold_workers() -> list[int]:
    """Pids of Ray workers running a fold job (Ray titles a busy worker ``ray::<function>``)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"ray::_run_on_worker" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_fit_survives_a_ray_worker_killed_during_a_fold():
    X, y = _table(3000, seed=1)
    killed: list[int] = []

    def kill_one_worker():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for pid in _fold_workers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    model = AutoMLClassifier(models=["random_forest"], n_folds=4, verbosity=0, n_jobs=2,
                             executor="ray").fit(X, y)
    killer.join()
    assert killed, "no Ray worker was caught running a fold"
    assert [r.name for r in model.store_.records] == ["random_forest_base"]  # the killed fold was retried
    assert model.score(X, y) > 0.8


def test_executor_is_checked_at_fit():
    with pytest.raises(ValueError, match="executor must be one of"):
        AutoMLClassifier(executor="spark").fit(*_table(50))
