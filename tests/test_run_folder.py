"""The run folder survives a killed fit: the store on disk always holds every finished model."""
import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from automl.store import ModelRecord, PredictionStore
from automl.validation import FoldPlan


def test_the_store_writes_each_model_as_it_is_added_and_ignores_a_cut_line(tmp_path):
    y = np.arange(20) % 2
    store = PredictionStore(y, "binary", "roc_auc", FoldPlan.make(y, 2, "binary", 0).fold_of, folder=tmp_path)
    first = np.random.default_rng(0).random((20, 2)).astype(np.float32)
    store.add(ModelRecord("a", "linear", {"C": 1.0}, 0.1, 0.01, 0.7, ""), first)
    loaded = PredictionStore.load(tmp_path)
    assert loaded.names == ["a"] and np.array_equal(loaded.oof[0], first)
    store.add(ModelRecord("b", "knn", {}, 0.1, 0.01, 0.6, ""), first[::-1].copy())
    with open(tmp_path / "models.jsonl", "a") as f:
        f.write('{"name": "c", "fam')  # a kill in the middle of the third line
    assert PredictionStore.load(tmp_path).names == ["a", "b"]


def test_a_fit_killed_mid_training_leaves_a_readable_store(tmp_path):
    run = tmp_path / "run"
    script = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from automl import AutoMLClassifier
        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
        y = (X["a"] + X["b"] ** 2 > 1).astype(int)
        AutoMLClassifier(time_limit=120, models=["linear", "knn", "random_forest"], n_folds=3, verbosity=0,
                         output_dir={str(run)!r}).fit(X, y)
    """)
    process = subprocess.Popen([sys.executable, "-c", script])
    index = run / "store" / "models.jsonl"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if index.exists() and index.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL and not (run / "ensemble_search.json").exists()  # killed mid-fit
    store = PredictionStore.load(run / "store")
    assert len(store) >= 1 and store.oof.shape[1:] == (600, 2)
    assert all(json.loads(line)["name"] in store.names for line in index.read_text().splitlines())
