"""Fixed base-model stores for the ensemble benchmarks: fit once, reuse for every strategy.

For each dev dataset (BENCHMARK.md split, seed 0) this fits
``AutoML*(time_limit=120, ensemble="ges", random_state=0, verbosity=0)`` once and caches, under
``/tmp/automl-stores/<dataset>/``: the PredictionStore (OOF predictions, targets, folds, encoded
training features) and every stored model's predictions on the test part (``test.npy``), with the
encoded test features and targets. Strategies are then compared on exactly the same predictions.

    flock /tmp/bench.lock python -m benchmarks.studies.ensemble_stores [--datasets a,b] [--time-limit 120]
"""
from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path

import numpy as np

from .. import protocol

from automl import AutoMLClassifier, AutoMLRegressor
from automl.data.encoder import EncodedTable
from automl.store import PredictionStore

SUITE = protocol.DEV
CACHE = Path("/tmp/automl-stores")


def build(entry: dict, time_limit: float, cache: Path = CACHE) -> Path:
    """Fits the base models of one dataset and writes the store and test predictions to ``cache``."""
    folder = cache / entry["name"]
    X, y = protocol.load_dataset(SUITE, entry)
    X_train, X_test, y_train, y_test = protocol.split(X, y, entry["task"], seed=0)
    cls = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
    start = time.perf_counter()
    model = cls(time_limit=time_limit, ensemble="ges", random_state=0, verbosity=0).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    features = model.encoder_.transform(X_test)
    test = np.stack([model.models_[name].predict(features) for name in model.store_.names])
    model.store_.save(folder / "store")
    np.save(folder / "test.npy", test)
    np.save(folder / "test_numeric.npy", features.numeric)
    np.save(folder / "test_categorical.npy", features.categorical)
    if entry["task"] == "regression":
        y_enc = y_test.to_numpy(dtype=float)
    else:
        code = {label: i for i, label in enumerate(model.classes_.tolist())}
        y_enc = np.array([code[label] for label in y_test.tolist()])
    np.save(folder / "y_test.npy", y_enc)
    (folder / "meta.json").write_text(json.dumps({**entry, "fit_seconds": fit_seconds}, indent=1))
    return folder


def load(folder: Path) -> tuple[PredictionStore, np.ndarray, EncodedTable, np.ndarray, dict]:
    """(store, test predictions [m, n_test, c], encoded test features, test targets, manifest entry)."""
    store = PredictionStore.load(folder / "store")
    f = store.features
    test_features = EncodedTable(np.load(folder / "test_numeric.npy"), np.load(folder / "test_categorical.npy"),
                                 f.numeric_names, f.categorical_names, f.cardinalities)
    return (store, np.load(folder / "test.npy"), test_features, np.load(folder / "y_test.npy"),
            json.loads((folder / "meta.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated names (default: the whole dev suite)")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--rebuild", action="store_true", help="refit datasets that are already cached")
    args = parser.parse_args()
    entries = protocol.read_manifest(SUITE)
    if args.datasets:
        wanted = args.datasets.split(",")
        entries = [e for e in entries if e["name"] in wanted]
    for entry in entries:
        if (CACHE / entry["name"] / "meta.json").exists() and not args.rebuild:
            print(f"{entry['name']}: cached", flush=True)
            continue
        try:
            start = time.perf_counter()
            build(entry, args.time_limit)
            print(f"{entry['name']}: built in {time.perf_counter() - start:.0f}s", flush=True)
        except Exception:  # one broken dataset must not stop the others
            print(f"{entry['name']}: FAILED\n{traceback.format_exc()}", flush=True)


if __name__ == "__main__":
    main()
