"""The run folder (``output_dir``): what a fit writes as it goes, and how a killed fit resumes.

    models/NAME/      each trained model, written whole (a temporary folder renamed) when it finishes
    store/            the prediction store: each model's OOF predictions, then its index line
    ensemble_search.json, estimator.json/.npz, manifest.json   when the fit ends (a model folder)

A model is indexed only after its folder is complete, so at any instant the store lists models
that can be read. ``open_run`` starts a run or resumes one: the models that finished there with
the same configuration on the same data (``data_fingerprint``) are kept, the others dropped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np

from .data.training import TrainingData
from .models.bagging import BaggedModel
from .models.base import ModelConfig
from .persistence import MANIFEST
from .store import PredictionStore
from .folds import FoldPlan

log = logging.getLogger("automl")

ESTIMATOR, MODELS_DIR, STORE_DIR, SEARCH_TRACE = "estimator", "models", "store", "ensemble_search.json"


def open_run(run: Path, data: TrainingData, plan: FoldPlan, task: str, metric: str,
             configs: list[ModelConfig], resume: bool) -> tuple[PredictionStore, dict[str, BaggedModel]]:
    """The prediction store of a fit, writing to ``run``, and the models kept from an earlier run
    there (``resume``): those whose configuration and data match. Data that differ are refused."""
    fingerprint = data_fingerprint(data, plan.fold_of, task, metric)
    for stale in (MANIFEST, f"{ESTIMATOR}.json"):  # the folder is a model again only when this fit ends
        (run / stale).unlink(missing_ok=True)
    if resume and (run / STORE_DIR / "store.json").exists():
        store = PredictionStore.load(run / STORE_DIR)
        if store.fingerprint != fingerprint:
            raise ValueError(f"resume: the run in {run} was made from other data or settings (table, target, "
                             "sample weights, groups, folds, task or metric differ); use another output_dir, or "
                             "resume=False to start over.")
        wanted = {c.name: c for c in configs}
        done = {}
        for name in store.names:
            saved = BaggedModel.saved_config(run / MODELS_DIR / name)
            if saved is not None and name in wanted and _same_config(saved, wanted[name]):
                done[name] = BaggedModel.load(run / MODELS_DIR / name)
        store.retain(list(done))
        store.attach(run / STORE_DIR)
        log.info("Resuming the run in %s: %d finished models kept.", run, len(done))
        return store, done
    for previous in (MODELS_DIR, STORE_DIR):
        shutil.rmtree(run / previous, ignore_errors=True)
    (run / SEARCH_TRACE).unlink(missing_ok=True)
    return PredictionStore(data.y, task, metric, plan.fold_of, data.X, folder=run / STORE_DIR,
                           fingerprint=fingerprint, sample_weight=data.sample_weight, groups=data.groups), {}


def data_fingerprint(data: TrainingData, fold_of: np.ndarray, task: str, metric: str) -> str:
    """sha256 of what a run's models were trained and scored on: encoded rows, target, weights and
    groups (where given), folds, task, metric."""
    features = data.X
    digest = hashlib.sha256(json.dumps([task, metric, features.numeric_names, features.categorical_names,
                                        features.cardinalities]).encode())
    rows = {name: getattr(data, name) for name in ("sample_weight", "groups") if getattr(data, name) is not None}
    digest.update(",".join(rows).encode())  # nothing for a run without either: older runs keep their fingerprint
    raw = [] if features.raw is None else [features.raw]  # likewise for raw levels
    digest.update(",".join(features.raw_names).encode())
    for array in (features.numeric, features.categorical, *raw, np.asarray(data.y), np.asarray(fold_of),
                  *rows.values()):
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def saved_fold_count(run: Path) -> int | None:
    """The number of folds of the run in ``run`` (None when there is none): a resumed run keeps its plan."""
    path = run / STORE_DIR / "fold_of.npy"
    return len(np.unique(np.load(path, allow_pickle=False))) if path.exists() else None


def _same_config(saved: dict, config: ModelConfig) -> bool:
    def canonical(value) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    return saved["family"] == config.family and canonical(saved["params"]) == canonical(config.params) \
        and canonical(saved.get("options", {})) == canonical(config.options)
