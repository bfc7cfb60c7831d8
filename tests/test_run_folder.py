"""The run folder survives a killed fit: the store on disk always holds every finished model, and
the run resumes to a working model."""
import json
import signal
import subprocess
import sys
import textwrap
import time

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl import AutoMLClassifier
from automl.persistence import ModelFolderError
from automl.store import ModelRecord, PredictionStore
from automl.schedule import SCHEDULE
from automl.folds import FoldPlan
from conftest import FAST


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


# Four quick configurations; the forest's 300 trees are the fold a kill lands in.
PORTFOLIO = {"name": "kill", "configs": [
    {"name": "lin", "family": "linear", "params": {}},
    {"name": "lgb", "family": "lightgbm", "params": {"max_rounds": 100, "learning_rate": 0.1}},
    {"name": "rf", "family": "random_forest", "params": {"n_estimators": 300}},
    {"name": "knn", "family": "knn", "params": {}}]}
KILL_SCRIPT = """
import sys
import pandas as pd
from automl import AutoMLClassifier
table = pd.read_csv(sys.argv[1])
AutoMLClassifier(portfolio=sys.argv[3], n_folds=3, verbosity=1, output_dir=sys.argv[2]).fit(table, "label")
"""


def _table(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, 5)), columns=list("abcde"))
    table = X.assign(label=np.where(X["a"] + X["b"] ** 2 > 1, "yes", "no"))
    table.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "portfolio.json").write_text(json.dumps(PORTFOLIO))
    return table


def _kill_when(tmp_path, run: Path, moment: str):
    """Runs a fit in a subprocess and kills it with SIGKILL at ``moment``; returns the lines it had logged."""
    log = tmp_path / f"{moment}.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "train.csv"), str(run),
                                    str(tmp_path / "portfolio.json")], stderr=out)
    index = run / "store" / "models.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        lines = index.read_text().count("\n") if index.exists() else 0
        if moment == "between models" and lines >= 1:
            break
        if moment == "during a fold" and lines >= 2:  # the third model (a forest, 300 trees) is training
            time.sleep(0.3)
            break
        if moment == "during the ensemble search" and "Ensembling" in log.read_text():
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode, log.read_text()


@pytest.mark.parametrize("moment", ["between models", "during a fold", "during the ensemble search"])
def test_a_killed_fit_leaves_a_readable_run_that_resumes_to_a_working_model(tmp_path, moment):
    table = _table(tmp_path)
    run = tmp_path / "run"
    code, logged = _kill_when(tmp_path, run, moment)
    assert code == -signal.SIGKILL and not (run / "manifest.json").exists()  # killed before the end
    store = PredictionStore.load(run / "store")
    assert len(store) >= 1 and all((run / "models" / name / "bag.json").exists() for name in store.names)
    with pytest.raises(ModelFolderError, match="a run that did not finish"):
        automl.load(run)

    resumed = AutoMLClassifier(portfolio=str(tmp_path / "portfolio.json"), n_folds=3, ensemble="ges", verbosity=0,
                               output_dir=str(run)).fit(table, "label", resume=True)
    kept = {r.name: r for r in resumed.records_}
    for j, name in enumerate(store.names):  # finished models were kept, not retrained
        assert name in kept and np.array_equal(resumed.store_.oof[resumed.store_.names.index(name)], store.oof[j])
    assert len(resumed.records_) > len(store) or moment == "during the ensemble search"
    features = table.drop(columns="label")
    assert (resumed.predict(features) == table["label"]).mean() > 0.85
    assert np.array_equal(automl.load(run).predict_proba(features), resumed.predict_proba(features))


def test_resume_refuses_a_run_made_from_other_data(tmp_path):
    table = _table(tmp_path)
    run = tmp_path / "run"
    AutoMLClassifier(models=["linear"], n_folds=3, verbosity=0, output_dir=str(run)).fit(table, "label")
    other = table.assign(a=table["a"] + 1.0)
    with pytest.raises(ValueError, match="made from other data"):
        AutoMLClassifier(models=["linear"], n_folds=3, verbosity=0, output_dir=str(run)).fit(other, "label",
                                                                                              resume=True)


def test_a_resumed_run_keeps_its_fold_plan_under_another_time_limit(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = (X["a"] > 0).astype(int)
    run = tmp_path / "run"
    first = AutoMLClassifier(models=["linear"], ensemble="best", verbosity=0, output_dir=str(run)).fit(X, y)
    assert SCHEDULE.n_folds(600, 5, 1.0, 2) == 5 != len(np.unique(first.store_.fold_of))
    # Alone, a 1 s limit would choose 5 folds for this table; the resumed run keeps its 8 and its model.
    resumed = AutoMLClassifier(models=["linear"], ensemble="best", time_limit=1, verbosity=0,
                               output_dir=str(run)).fit(X, y, resume=True)
    assert np.array_equal(resumed.store_.fold_of, first.store_.fold_of)
    assert np.array_equal(resumed.store_.oof, first.store_.oof)


def test_a_temporary_run_folder_goes_with_its_estimator(mixed_classification, tmp_path):
    import gc

    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, ensemble="best").fit(X, y)
    run = model.run_dir_
    assert run.is_dir()
    model.save(tmp_path / "kept")  # what the user saves stays
    del model
    gc.collect()
    assert not run.exists() and (tmp_path / "kept" / "manifest.json").exists()
