"""Saving a fitted model to a folder and loading it back, e.g. in another process.

The folder records the library versions it was saved with; loading it with incompatible
versions fails with a clear message instead of a broken model.

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
print("saved files:", sorted(p.name for p in folder.iterdir()))

loaded = automl.load(folder)
assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X)), "a loaded model predicts the same"
print("the loaded model predicts exactly as the original; classes:", loaded.classes_.tolist())
print(f"the same folder works from the shell:  automl info {folder}")
