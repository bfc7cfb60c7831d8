"""PredictionStore: every model's out-of-fold predictions and metadata, on disk in the run folder.

Ensemble strategies read only this store, so they can be searched and re-run without
retraining any base model.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .data.encoder import EncodedTable


@dataclass
class ModelRecord:
    name: str
    family: str
    params: dict
    fit_seconds: float
    predict_seconds_per_1k: float
    oof_score: float
    adapted: str = ""  # how the configuration was adapted to its time budget ("" = as written)


class PredictionStore:
    """OOF predictions [n_models, n_rows, n_outputs] (float32), targets and per-model records.

    ``features`` keeps the encoded training rows for strategies that look at them (stacking,
    dynamic selection); ``fold_of`` is the FoldPlan the OOF predictions came from.
    """

    def __init__(self, y: np.ndarray, task: str, metric: str, fold_of: np.ndarray,
                 features: EncodedTable | None = None):
        self.features = features
        self.y = np.asarray(y)
        self.task = task
        self.metric = metric
        self.fold_of = np.asarray(fold_of)
        self.records: list[ModelRecord] = []
        self._oof: list[np.ndarray] = []
        self._stacked: np.ndarray | None = None  # ``oof`` built once per set of models

    def add(self, record: ModelRecord, oof: np.ndarray) -> None:
        if oof.shape[0] != len(self.y):
            raise ValueError(f"OOF predictions have {oof.shape[0]} rows; the store has {len(self.y)}.")
        self.records.append(record)
        self._oof.append(np.asarray(oof, dtype=np.float32))
        self._stacked = None

    def __len__(self) -> int:
        return len(self.records)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.records]

    @property
    def n_outputs(self) -> int:
        return self._oof[0].shape[1]

    @property
    def oof(self) -> np.ndarray:
        """All OOF predictions as one array [n_models, n_rows, n_outputs]."""
        if not self._oof:
            raise ValueError("The prediction store is empty: no model finished training.")
        if self._stacked is None:
            self._stacked = np.stack(self._oof)
        return self._stacked

    def __getstate__(self) -> dict:
        # The stacked copy is a cache: pickling it would double a saved model's size.
        return {**self.__dict__, "_stacked": None}

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "oof.npy", self.oof)
        np.save(folder / "y.npy", self.y)
        np.save(folder / "fold_of.npy", self.fold_of)
        meta = {"task": self.task, "metric": self.metric, "models": [asdict(r) for r in self.records]}
        if self.features is not None:
            np.save(folder / "features_numeric.npy", self.features.numeric)
            np.save(folder / "features_categorical.npy", self.features.categorical)
            meta["features"] = {"numeric_names": self.features.numeric_names,
                                "categorical_names": self.features.categorical_names,
                                "cardinalities": self.features.cardinalities}
        (folder / "models.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> "PredictionStore":
        folder = Path(folder)
        meta = json.loads((folder / "models.json").read_text())
        features = None
        if "features" in meta:
            features = EncodedTable(np.load(folder / "features_numeric.npy"),
                                    np.load(folder / "features_categorical.npy"), **meta["features"])
        store = cls(np.load(folder / "y.npy", allow_pickle=False), meta["task"], meta["metric"],
                    np.load(folder / "fold_of.npy"), features)
        oof = np.load(folder / "oof.npy")
        for record, predictions in zip(meta["models"], oof):
            store.add(ModelRecord(**record), predictions)
        return store
