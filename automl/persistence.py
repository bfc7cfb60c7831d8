"""Saving a fitted estimator to a folder and loading it back, with a version check."""
from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import joblib

from . import __version__

MODEL_FILE, INFO_FILE = "model.joblib", "info.json"
# Libraries whose pickled objects may not load across major versions.
LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "catboost", "torch")


def versions() -> dict[str, str]:
    found = {"automl": __version__}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def save(estimator, path) -> None:
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, folder / MODEL_FILE)
    info = {"estimator": type(estimator).__name__, "task": estimator.task_, "metric": estimator.metric_,
            "versions": versions()}
    (folder / INFO_FILE).write_text(json.dumps(info, indent=1))


def load(path):
    """Loads an estimator written by ``save``; refuses folders from incompatible versions."""
    folder = Path(path)
    if not (folder / MODEL_FILE).exists() or not (folder / INFO_FILE).exists():
        raise FileNotFoundError(f"{folder} is not a saved automl model (no {MODEL_FILE} / {INFO_FILE}).")
    saved = json.loads((folder / INFO_FILE).read_text())["versions"]
    current = versions()
    problems = [f"{name} {saved[name]} (installed: {current.get(name, 'none')})" for name in saved
                if _major(saved[name], name) != _major(current.get(name, ""), name)]
    if problems:
        raise RuntimeError(f"The model in {folder} was saved with incompatible versions: {', '.join(problems)}.")
    return joblib.load(folder / MODEL_FILE)


def _major(version: str, name: str) -> str:
    # automl is pre-1.0: its minor version marks incompatible changes.
    parts = version.split("+")[0].split(".")
    return ".".join(parts[:2]) if name == "automl" else parts[0]
