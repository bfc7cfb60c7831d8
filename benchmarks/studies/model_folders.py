"""Model folders on the dev suite: size, load time and identical predictions (issue 11).

Per dataset (BENCHMARK.md split, seed 0), one default fit at --time-limit, then:
- the predictor folder (``save(path)``) and the folder with its run (``save(path, include_run=True)``):
  bytes and files;
- what the same fitted estimator weighs as one joblib pickle (how folders were written before);
- load seconds (median of 3, in this process), and whether the loaded model's predictions of the
  test part equal the fitted estimator's exactly.
Rows are appended to the CSV as each dataset finishes; a rerun skips the datasets already there.

    python -m benchmarks.studies.model_folders --time-limit 120 --out benchmarks/results/model_folders.csv
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np

from ..protocol import DEV, append_row, load_dataset, pending, split

import automl
from automl import AutoMLClassifier, AutoMLRegressor

SUITE = DEV
COLUMNS = ["dataset", "task", "time_limit", "fit_seconds", "models_trained", "models_used", "ensemble",
           "predictor_bytes", "predictor_files", "with_run_bytes", "pickle_bytes", "load_seconds",
           "identical_predictions"]


def folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def measure(entry: dict, time_limit: float) -> dict:
    X, y = load_dataset(SUITE, entry)
    X_train, X_test, y_train, _ = split(X, y, entry["task"], seed=0)
    estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
    model = estimator(time_limit=time_limit, random_state=0, verbosity=0).fit(X_train, y_train)
    expected = model.predict(X_test) if entry["task"] == "regression" else model.predict_proba(X_test)
    work = Path(tempfile.mkdtemp(prefix="automl-folders-"))
    try:
        model.save(work / "predictor")
        model.save(work / "with-run", include_run=True)
        joblib.dump(model, work / "model.joblib")
        seconds, loaded = [], None
        for _ in range(3):
            start = time.perf_counter()
            loaded = automl.load(work / "predictor")
            seconds.append(time.perf_counter() - start)
        got = loaded.predict(X_test) if entry["task"] == "regression" else loaded.predict_proba(X_test)
        predictor_bytes, predictor_files = folder_bytes(work / "predictor")
        return {"dataset": entry["name"], "task": entry["task"], "time_limit": time_limit,
                "fit_seconds": round(model.fit_seconds_, 1), "models_trained": len(model.records_),
                "models_used": len(model.ensemble_.used_models), "ensemble": model.ensemble_.describe(),
                "predictor_bytes": predictor_bytes, "predictor_files": predictor_files,
                "with_run_bytes": folder_bytes(work / "with-run")[0],
                "pickle_bytes": (work / "model.joblib").stat().st_size,
                "load_seconds": round(statistics.median(seconds), 3),
                "identical_predictions": bool(np.array_equal(got, expected))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(model.run_dir_, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--datasets", default="", help="comma-separated names (default: the whole dev suite)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/model_folders.csv"))
    args = ap.parse_args()
    for entry in pending(SUITE, args.out, args.datasets):
        row = measure(entry, args.time_limit)
        append_row(args.out, row, COLUMNS)
        print(row, flush=True)


if __name__ == "__main__":
    main()
