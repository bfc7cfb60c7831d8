"""Shared fixtures: small synthetic tables, and the dev suite when ../shared is present."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# A programming error inside a model, a search trial or a refit fails the test instead of being
# skipped with a log line (automl.failures).
os.environ["AUTOML_STRICT"] = "1"

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
DEV_SUITE = SHARED / "datasets" / "dev"

# Small, fast settings for fits in tests: two quick families, 3 folds.
FAST = dict(models=["lightgbm", "linear"], n_folds=3, verbosity=0, random_state=0)


def dev_dataset(name: str) -> tuple[pd.DataFrame, str, str]:
    """(table, target column, task) of a dev-suite dataset; skips the test when ../shared is absent."""
    manifest = DEV_SUITE / "manifest.json"
    if not manifest.exists():
        pytest.skip(f"dev suite not found at {DEV_SUITE}")
    entry = next(e for e in json.loads(manifest.read_text()) if e["name"] == name)
    return pd.read_csv(DEV_SUITE / entry["file"]), entry["target"], entry["task"]


@pytest.fixture
def mixed_classification() -> tuple[pd.DataFrame, pd.Series]:
    """Numbers, strings, booleans, dates and missing values; the label depends on several of them."""
    rng = np.random.default_rng(0)
    n = 300
    x1 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    flag = rng.random(n) < 0.5
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    logit = 2 * x1 + (color == "red") * 1.5 - flag * 1.0
    label = np.where(logit + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    x1[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({"x1": x1, "color": color, "flag": flag, "when": when.astype(str),
                          "noise": rng.normal(size=n)})
    return frame, pd.Series(label, name="label")


@pytest.fixture
def regression_data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(size=n),
                      "kind": rng.choice(["p", "q", "r", "s"], size=n)})
    y = 3 * X["a"] + np.sin(6 * X["b"]) + (X["kind"] == "q") * 2 + rng.normal(scale=0.1, size=n)
    return X, pd.Series(y, name="target")


@pytest.fixture
def no_pickle(monkeypatch):
    """Makes every way into pickle raise while a test loads a folder."""
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used to load a model folder")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
