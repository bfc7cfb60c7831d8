"""scikit-learn families: random forest, extra trees, linear (logistic / ridge) and kNN."""
from __future__ import annotations

import time

import numpy as np

from ..data.encoder import EncodedTable
from ..data.views import LinearView, tree_view
from .base import Model

# Trees grow in chunks so a forest can stop when its budget ends and keep what it has. The first
# chunk is small and prices a tree; later chunks fit in what is left: a 50-tree chunk on 43,000
# rows (diamonds) took 5 s on one thread and overran a 30 s fit.
FIRST_CHUNK, TREES_PER_CHUNK = 10, 50
# Missing values go to one side of every split, below all real values.
MISSING_SENTINEL = -1e9


class _Forest(Model):
    classifier: str
    regressor: str
    hyperparameters = frozenset({"n_estimators", "max_features", "min_samples_leaf", "min_samples_split",
                                 "max_leaf_nodes", "max_depth", "bootstrap", "max_samples"})

    def fit(self, X, y, X_val=None, y_val=None, budget=None):
        from sklearn import ensemble

        params = {"n_estimators": 300, "max_features": "sqrt" if self.info.is_classification else 1.0,
                  "min_samples_leaf": 1, **self.params}
        n_trees = int(params.pop("n_estimators"))
        estimator = getattr(ensemble, self.classifier if self.info.is_classification else self.regressor)
        self.model_ = estimator(**params, n_estimators=0, warm_start=True, n_jobs=self.n_threads,
                                random_state=self.seed)
        matrix, chunk = self._matrix(X), FIRST_CHUNK
        while self.model_.n_estimators < n_trees:
            start, before = time.perf_counter(), self.model_.n_estimators
            self.model_.n_estimators = min(n_trees, before + chunk)
            self.model_.fit(matrix, y)
            if budget is None or not budget.limited:
                chunk = TREES_PER_CHUNK
                continue
            per_tree = (time.perf_counter() - start) / (self.model_.n_estimators - before)
            chunk = min(TREES_PER_CHUNK, int(budget.remaining() / per_tree))
            if chunk < 1:
                break
        return self

    def predict(self, X: EncodedTable) -> np.ndarray:
        if self.info.is_classification:
            return self._as_output(self.model_.predict_proba(self._matrix(X)), seen_classes=self.model_.classes_)
        return self._as_output(self.model_.predict(self._matrix(X)))

    @staticmethod
    def _matrix(X: EncodedTable) -> np.ndarray:
        matrix, _ = tree_view(X)
        return np.nan_to_num(matrix, nan=MISSING_SENTINEL)


class RandomForestModel(_Forest):
    family = "random_forest"
    classifier, regressor = "RandomForestClassifier", "RandomForestRegressor"


class ExtraTreesModel(_Forest):
    family = "extra_trees"
    classifier, regressor = "ExtraTreesClassifier", "ExtraTreesRegressor"


class _OnLinearView(Model):
    """A scikit-learn estimator trained on standardized numbers + one-hot categories."""

    def _estimator(self, n_rows: int):
        raise NotImplementedError

    def fit(self, X, y, X_val=None, y_val=None, budget=None):
        self.view_ = LinearView().fit(X)
        self.model_ = self._estimator(len(y)).fit(self.view_.transform(X), y)
        return self

    def predict(self, X: EncodedTable) -> np.ndarray:
        matrix = self.view_.transform(X)
        if self.info.is_classification:
            return self._as_output(self.model_.predict_proba(matrix), seen_classes=self.model_.classes_)
        return self._as_output(self.model_.predict(matrix))


class LinearModel(_OnLinearView):
    """Logistic regression (classification) or ridge regression."""

    family = "linear"
    hyperparameters = frozenset({"C", "alpha"})  # C: logistic regression, alpha: ridge

    def _estimator(self, n_rows):
        from sklearn.linear_model import LogisticRegression, Ridge

        if self.info.is_classification:
            return LogisticRegression(C=self.params.get("C", 1.0), max_iter=1000)
        return Ridge(alpha=self.params.get("alpha", 1.0))


class KNNModel(_OnLinearView):
    family = "knn"
    hyperparameters = frozenset({"n_neighbors", "weights", "p"})

    def _estimator(self, n_rows):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        params = {"n_neighbors": 15, "weights": "distance", **self.params}
        params["n_neighbors"] = min(int(params["n_neighbors"]), n_rows)
        estimator = KNeighborsClassifier if self.info.is_classification else KNeighborsRegressor
        return estimator(**params, n_jobs=self.n_threads)
