"""Saving a fitted model to a folder and loading it back, e.g. in another process.

The folder holds no pickle: each model is in its own library's format (LightGBM text, XGBoost
UBJSON, CatBoost .cbm) or plain arrays, and manifest.json lists every file with its sha256.
Loading checks them and never runs code from the folder. ``include_run=True`` also keeps every
model's out-of-fold predictions, so ``fit_ensemble`` works after loading.

Run: python examples/save_and_load.py
"""
import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

import automl
from automl import AutoMLClassifier

TIME_LIMIT = float(os.environ.get("AUTOML_EXAMPLE_TIME_LIMIT", 60))

X, y = load_wine(return_X_y=True, as_frame=True)
model = AutoMLClassifier(time_limit=TIME_LIMIT, random_state=0).fit(X, y)

folder = Path(tempfile.mkdtemp(prefix="automl-example-")) / "wine-model"
model.save(folder)
print("saved files:", sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()))

loaded = automl.load(folder)
assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X)), "a loaded model predicts the same"
print("the loaded model predicts exactly as the original; classes:", loaded.classes_.tolist())

with_run = folder.with_name("wine-model-with-run")
model.save(with_run, include_run=True)
print("re-ensembled after loading:", automl.load(with_run).fit_ensemble("ges").ensemble_.describe())
print(f"the same folder works from the shell:  automl info {folder}")
