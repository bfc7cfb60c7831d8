"""PredictionStore: every model's out-of-fold predictions and metadata, on disk in the run folder.

Ensemble strategies read only this store, so they can be searched and re-run without
retraining any base model.

A store given a folder writes itself as it grows, so a fit killed at any moment leaves a folder
that ``PredictionStore.load`` reads with every model that had finished: the targets, fold plan and
features first, then per model its OOF predictions (to a temporary name, then renamed) and only
then one line of ``models.jsonl``. A line that a kill cut short is ignored.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .data.encoder import EncodedTable
from .folds import FoldPlan

MODELS_INDEX = "models.jsonl"  # one JSON line per finished model, written after its predictions
ROW_ARRAYS = ("sample_weight", "groups")  # per-row arrays a store may have (a file each when it does)


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
    dynamic selection); ``fold_of`` is the FoldPlan the OOF predictions came from;
    ``sample_weight`` and ``groups`` (None: none) are the rows' weights and group ids, which every
    score and split of the ensemble step reads.
    """

    def __init__(self, y: np.ndarray, task: str, metric: str, fold_of: np.ndarray,
                 features: EncodedTable | None = None, folder: str | Path | None = None, fingerprint: str = "",
                 sample_weight: np.ndarray | None = None, groups: np.ndarray | None = None):
        self.features = features
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.groups = None if groups is None else np.asarray(groups)
        self.fingerprint = fingerprint  # of the data the predictions belong to (resume checks it)
        self.y = np.asarray(y)
        self.task = task
        self.metric = metric
        self.fold_of = np.asarray(fold_of)
        self.records: list[ModelRecord] = []
        self._oof: list[np.ndarray] = []
        self._stacked: np.ndarray | None = None  # ``oof`` built once per set of models
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self._write_header(self.folder)

    def add(self, record: ModelRecord, oof: np.ndarray) -> None:
        if oof.shape[0] != len(self.y):
            raise ValueError(f"OOF predictions have {oof.shape[0]} rows; the store has {len(self.y)}.")
        oof = np.asarray(oof, dtype=np.float32)
        if self.folder is not None:
            self._write_model(self.folder, record, oof)
        self.records.append(record)
        self._oof.append(oof)
        self._stacked = None

    def retain(self, names: list[str]) -> None:
        """Keeps only the models called ``names``; the index on disk is rewritten in one piece."""
        kept = [j for j, r in enumerate(self.records) if r.name in set(names)]
        self.records = [self.records[j] for j in kept]
        self._oof = [self._oof[j] for j in kept]
        self._stacked = None
        if self.folder is not None:
            lines = "".join(json.dumps({**asdict(r), "file": f"{r.name}.npy"}) + "\n" for r in self.records)
            _write_atomic(self.folder / MODELS_INDEX, lines.encode())

    def __len__(self) -> int:
        return len(self.records)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.records]

    @property
    def plan(self) -> FoldPlan:
        """The fold plan the OOF predictions came from."""
        return FoldPlan(self.fold_of, int(self.fold_of.max()) + 1)

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
        # The stacked copy is a cache: pickling it would double a saved model's size. A copy
        # writes nowhere: its folder belongs to the fit that made it.
        return {**self.__dict__, "_stacked": None, "folder": None}

    def save(self, folder: str | Path) -> None:
        """Writes the whole store to ``folder`` (a store with a folder of its own is already there)."""
        folder = Path(folder)
        self._write_header(folder)
        for record, oof in zip(self.records, self._oof):
            self._write_model(folder, record, oof)

    def _write_header(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "oof").mkdir(exist_ok=True)
        (folder / MODELS_INDEX).write_text("")
        np.save(folder / "y.npy", self.y)
        np.save(folder / "fold_of.npy", self.fold_of)
        for name in ROW_ARRAYS:
            path = folder / f"{name}.npy"
            if getattr(self, name) is not None:
                np.save(path, getattr(self, name))
            else:
                path.unlink(missing_ok=True)
        meta = {"task": self.task, "metric": self.metric, "fingerprint": self.fingerprint}
        if self.features is not None:
            np.save(folder / "features_numeric.npy", self.features.numeric)
            np.save(folder / "features_categorical.npy", self.features.categorical)
            meta["features"] = {"numeric_names": self.features.numeric_names,
                                "categorical_names": self.features.categorical_names,
                                "cardinalities": self.features.cardinalities}
            if self.features.raw is not None:
                np.save(folder / "features_raw.npy", self.features.raw)
                meta["features"]["raw_names"] = self.features.raw_names
        _write_atomic(folder / "store.json", json.dumps(meta, indent=1).encode())

    @staticmethod
    def _write_model(folder: Path, record: ModelRecord, oof: np.ndarray) -> None:
        """The model's predictions first, then its index line: a line always has its file."""
        name, buffer = f"{record.name}.npy", io.BytesIO()
        np.save(buffer, oof)
        _write_atomic(folder / "oof" / name, buffer.getvalue())
        with open(folder / MODELS_INDEX, "a") as f:
            f.write(json.dumps({**asdict(record), "file": name}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def attach(self, folder: str | Path) -> None:
        """Writes from now on to ``folder``, the store's own (as loaded from it): models added later
        append to its index."""
        self.folder = Path(folder)

    @classmethod
    def load(cls, folder: str | Path) -> "PredictionStore":
        """The store in ``folder``, with every model whose index line was written in full."""
        folder = Path(folder)
        meta = json.loads((folder / "store.json").read_text())
        features = None
        if "features" in meta:
            raw = folder / "features_raw.npy"
            features = EncodedTable(np.load(folder / "features_numeric.npy"),
                                    np.load(folder / "features_categorical.npy"),
                                    raw=np.load(raw) if raw.exists() else None, **meta["features"])
        rows = {name: np.load(folder / f"{name}.npy", allow_pickle=False) if (folder / f"{name}.npy").exists()
                else None for name in ROW_ARRAYS}
        store = cls(np.load(folder / "y.npy", allow_pickle=False), meta["task"], meta["metric"],
                    np.load(folder / "fold_of.npy", allow_pickle=False), features,
                    fingerprint=meta.get("fingerprint", ""), **rows)
        for line in (folder / MODELS_INDEX).read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # the last line of a killed fit
                continue
            oof = np.load(folder / "oof" / entry.pop("file"), allow_pickle=False)
            store.add(ModelRecord(**entry), oof)
        return store


def _write_atomic(path: Path, data: bytes) -> None:
    """``data`` on disk under a temporary name, then renamed: ``path`` is whole or absent."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
