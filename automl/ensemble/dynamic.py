"""Dynamic ensemble selection (DESlib's KNORA-E / KNORA-U; local-error weights for regression).

Each row gets its own ensemble, chosen by how the models did on its k nearest training rows
(the region of competence), judged on their OOF predictions:
- KNORA-E keeps the models right (arg-max = true class) on all k neighbours, shrinking k until
  some model is; if none is right even on the nearest, all models vote;
- KNORA-U weights each model by the number of neighbours it got right;
- regression weights each model by the inverse of its mean squared error on the neighbours.
Neighbours are found in the encoded-feature space (standardized numbers, one-hot categories)
or in the space of the models' OOF predictions. Competence is cross-fitted: when the training
rows themselves are scored (``predict_oof``), a row is never its own neighbour, and with groups no
row of its group is (a group's rows share what makes them hard, as a row shares it with itself). Predicting
costs every model of the pool on every row plus one k-nearest-neighbour query.
"""
from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ..data.views import LinearView
from ..metrics import Metric
from .base import EnsembleStrategy, prediction_columns

METHODS = ("knora_e", "knora_u")
SPACES = ("features", "predictions")
# Neighbours are searched among all rows: above this many, one search trial would take minutes.
MAX_SEARCH_ROWS = 50_000
# With groups, each row's neighbour query reaches this many rows past k at most, to find k outside
# its group; a row whose group is larger keeps the nearest outside ones it found, repeated.
MAX_GROUP_QUERY = 100


class DynamicSelection(EnsembleStrategy):
    name = "des"
    evidence_needed = 0.95
    learns_from_rows = True
    complexity = 5
    # The training rows' points are kept: each new row's competence is judged on its neighbours.
    fitted_attributes = ("n_models_", "space_", "k_", "competence_", "points_", "oof_", "fold_of_")

    def __init__(self, metric: Metric, task: str, seed: int = 0, method: str = "knora_e", k: int = 7,
                 space: str = "features", n_threads: int = 1):
        super().__init__(metric, task, seed, n_threads)
        if method not in METHODS or space not in SPACES or k < 1:
            raise ValueError(f"DES takes method in {METHODS}, space in {SPACES} and k >= 1; "
                             f"got {method!r}, {space!r}, {k}.")
        self.method = method
        self.k = k
        self.space = space

    def fit(self, data, budget=None):
        predictions, y, features = data.predictions, data.y, data.features
        self.n_models_ = len(predictions)
        self.space_ = self.space if features is not None else "predictions"
        if self.space_ == "features":
            self.view_ = LinearView().fit(features)
        points = self.points_ = self._points(predictions, features)
        self.k_ = min(self.k, len(y) - 1)
        if self.task == "regression":  # squared errors, lower is more competent
            self.competence_ = (predictions[:, :, 0].T - np.asarray(y)[:, None]) ** 2
        else:
            self.competence_ = predictions.argmax(axis=2).T == np.asarray(y)[:, None]  # [n_rows, n_models]
        self.index_ = NearestNeighbors(n_neighbors=self.k_ + 1).fit(points)
        self.fold_of_ = data.fold_of  # the reference rows' folds, for predict_out_of_fold
        if data.groups is None:
            neighbours = _without_self(self.index_.kneighbors(points, self.k_ + 1, return_distance=False))
        else:
            reach = min(len(y), self.k_ + 1 + min(int(np.bincount(data.groups).max()), MAX_GROUP_QUERY))
            neighbours = _outside_group(self.index_.kneighbors(points, reach, return_distance=False),
                                        np.asarray(data.groups), self.k_)
        self.oof_ = self._combine(predictions, neighbours)
        return self

    @classmethod
    def suggest(cls, trial, search):
        params = {"k": trial.suggest_categorical("des_k", [5, 7, 11, 15]),
                  "space": trial.suggest_categorical("des_space", list(SPACES))}
        if search.task != "regression":
            params["method"] = trial.suggest_categorical("des_method", list(METHODS))
        # Every pool model runs on every row and neighbours are searched among their outputs: small pools.
        return params, search.suggest_pool(trial, top_k=(5, 10))

    @classmethod
    def too_costly(cls, n_models, n_rows, n_outputs):
        return n_rows > MAX_SEARCH_ROWS

    def get_state(self) -> dict:
        state = super().get_state()
        if self.space_ == "features":
            state["view"] = self.view_.get_state()
        return state

    @classmethod
    def from_state(cls, state: dict, metric: Metric, task: str) -> "DynamicSelection":
        des = super().from_state(state, metric, task)
        if "view" in state:
            des.view_ = LinearView.from_state(state["view"])
        des.index_ = NearestNeighbors(n_neighbors=des.k_ + 1).fit(des.points_)  # a deterministic index
        return des

    def predict(self, predictions, features=None):
        points = self._points(predictions, features)
        return self._combine(predictions, self.index_.kneighbors(points, self.k_, return_distance=False))

    def predict_oof(self, predictions, features=None):
        return self.oof_

    def predict_out_of_fold(self, predictions, features, fold_of):
        """Each row's competence judged on the reference rows of the other folds only."""
        reference_folds = getattr(self, "fold_of_", None)
        if reference_folds is None:  # fitted without a fold plan (or saved before folds were kept)
            return self.predict(predictions, features)
        points, out = self._points(predictions, features), np.zeros(predictions.shape[1:], dtype=np.float32)
        for fold in np.unique(fold_of):
            rows = np.flatnonzero(fold_of == fold)
            others, index = self._index_without(int(fold))
            neighbours = others[index.kneighbors(points[rows], index.n_neighbors, return_distance=False)]
            out[rows] = self._combine(predictions[:, rows], neighbours)
        return out

    def _index_without(self, fold: int) -> tuple[np.ndarray, NearestNeighbors]:
        """(the reference rows outside ``fold``, their neighbour index), built once per fold:
        permutation importance asks for the same folds once per column and repeat."""
        cache = self.__dict__.setdefault("_fold_indexes", {})
        if fold not in cache:
            others = np.flatnonzero(self.fold_of_ != fold)
            cache[fold] = others, NearestNeighbors(n_neighbors=min(self.k_, len(others))).fit(self.points_[others])
        return cache[fold]

    @property
    def used_models(self) -> np.ndarray:
        return np.arange(self.n_models_)

    def describe(self) -> str:
        method = "local error" if self.task == "regression" else self.method
        return f"DES {method}, k={self.k_}, {self.space_} space, {self.n_models_} models"

    def _points(self, predictions, features) -> np.ndarray:
        if self.space_ == "features":
            return self.view_.transform(features)
        return prediction_columns(predictions)

    def _combine(self, predictions: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
        """The per-row weighted mean of the models' predictions, weights from the neighbours."""
        weights = self._weights(self.competence_[neighbours])  # competence_[neighbours]: [n, k, m]
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nm,mnc->nc", weights, predictions.astype(np.float64)).astype(np.float32)

    def _weights(self, local: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return 1.0 / (local.mean(axis=1) + 1e-12)
        if self.method == "knora_u":
            weights = local.sum(axis=1).astype(np.float64)
        else:
            # all_right[:, j]: models right on each of the j+1 nearest; use the largest j with any.
            all_right = np.logical_and.accumulate(local, axis=1)
            deepest = np.where(all_right.any(axis=2), np.arange(local.shape[1]), -1).max(axis=1)
            weights = all_right[np.arange(len(local)), np.maximum(deepest, 0)].astype(np.float64)
            weights[deepest < 0] = 0.0
        weights[weights.sum(axis=1) == 0] = 1.0  # no model is competent here: all vote
        return weights


def _outside_group(neighbours: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` nearest neighbours outside its own group (the nearest outside one repeated
    where fewer were reached; a row with none outside keeps its nearest others, itself excluded)."""
    outside = groups[neighbours] != groups[:, None]
    order = np.argsort(~outside, axis=1, kind="stable")[:, :k]  # positions of outside neighbours first
    kept = np.take_along_axis(neighbours, order, axis=1)
    found = np.take_along_axis(outside, order, axis=1)
    kept = np.where(found, kept, kept[:, :1])  # too few outside: the nearest outside one again
    none = ~found[:, 0]
    if none.any():
        kept[none] = _without_self(neighbours)[none][:, :k]
    return kept


def _without_self(neighbours: np.ndarray) -> np.ndarray:
    """Drops each row from its own neighbour list (or its farthest neighbour if absent, e.g. duplicates)."""
    own = neighbours == np.arange(len(neighbours))[:, None]
    own[~own.any(axis=1), -1] = True
    own &= np.cumsum(own, axis=1) == 1  # drop exactly one entry per row
    return neighbours[~own].reshape(len(neighbours), -1)
