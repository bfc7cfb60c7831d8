"""scikit-learn families: random forest, extra trees, linear (logistic / ridge) and kNN."""
from __future__ import annotations

import time
from typing import ClassVar

import numpy as np

from ..data.encoder import EncodedTable
from ..data.views import LinearView, tree_view
from .base import Model, ModelTimeout, sample_rows
from .forest_arrays import ForestArrays

# Trees grow in chunks so a forest can stop when its budget ends and keep what it has. The first
# chunk is small and prices a tree; later chunks fit in what is left: a 50-tree chunk on 43,000
# rows (diamonds) took 5 s on one thread and overran a 30 s fit.
FIRST_CHUNK, TREES_PER_CHUNK = 10, 50
# A forest whose budget cannot grow this many trees is given up as soon as its priced trees say so,
# not when its share ends (at 1M rows, 600 s: after 10 trees, with 23.5 s of the fold's share
# left, benchmarks/results/scale_logs): fully grown trees average into poor probabilities below it
# (extra trees, max_features 0.75, test log loss by trees, 10 / 20 / 40 / 300: letter 0.430 /
# 0.295 / 0.253 / 0.228, satimage 0.511 / 0.343 / 0.299 / 0.257).
MIN_TREES = 40
# Missing values go to one side of every split, below all real values.
MISSING_SENTINEL = -1e9
# Above this many training rows a forest's trees are capped at MAX_LEAVES leaves, a configuration's
# own larger cap included: grown to full depth, 300-tree copies of a bag held ~2 GB each on 750,000
# rows (the 1M-row fit peaked at 13.6 GiB) and the 100k-row fit peaked at 9.3 GiB (issue 14); the
# default's extra trees ask for 18,392 leaves (benchmarks.studies.scale, 200,000 rows at 120 s:
# 3.35 GiB at peak with them, 2.84 GiB capped). Below it (every dev dataset's copies train on
# fewer than 41,000 rows) the trees grow as configured.
MANY_ROWS, MAX_LEAVES = 50_000, 5_000


class _Forest(Model):
    classifier: str
    regressor: str
    hyperparameters = frozenset({"n_estimators", "max_features", "min_samples_leaf", "min_samples_split",
                                 "max_leaf_nodes", "max_depth", "bootstrap", "max_samples"})
    keeps_partial = True  # trees grow in chunks until the budget ends

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        from sklearn import ensemble

        params = {"n_estimators": 300, "max_features": "sqrt" if self.info.is_classification else 1.0,
                  "min_samples_leaf": 1, **self.params}
        n_trees = int(params.pop("n_estimators"))
        if len(y) > MANY_ROWS:
            params["max_leaf_nodes"] = min(params.get("max_leaf_nodes") or MAX_LEAVES, MAX_LEAVES)
        estimator = getattr(ensemble, self.classifier if self.info.is_classification else self.regressor)
        forest = estimator(**params, n_estimators=0, warm_start=True, n_jobs=self.n_threads, random_state=self.seed)
        matrix, chunk, needed = self._matrix(X), FIRST_CHUNK, min(n_trees, MIN_TREES)
        while forest.n_estimators < n_trees:
            start, before = time.perf_counter(), forest.n_estimators
            forest.n_estimators = min(n_trees, before + chunk)
            forest.fit(matrix, y, sample_weight=sample_weight)
            if budget is None or not budget.limited:
                chunk = TREES_PER_CHUNK
                continue
            per_tree = (time.perf_counter() - start) / (forest.n_estimators - before)
            affordable = int(budget.remaining() / per_tree)
            if forest.n_estimators + affordable < needed:
                raise ModelTimeout(f"a tree takes ~{per_tree:.2f}s; {budget.remaining():.1f}s left for this fold "
                                   f"grows {forest.n_estimators + affordable} of the {needed} trees a forest needs")
            chunk = min(TREES_PER_CHUNK, affordable)
            if chunk < 1:
                break
        # Kept as arrays (forest_arrays.py): what a model folder stores, and predicted the same way.
        self.trees_ = ForestArrays.from_estimators(forest.estimators_, matrix.shape[1], self.info.is_classification)
        self.seen_classes_ = forest.classes_ if self.info.is_classification else None
        return self

    @classmethod
    def full_params(cls, params, copies, scale):
        """As many trees as the copies grew (fewer than configured when their budget stopped them)."""
        return {**params, "n_estimators": round(float(np.mean([copy.trees_.n_trees for copy in copies])))}

    def _predict(self, X: EncodedTable) -> np.ndarray:
        return self._as_output(self.trees_.predict(self._matrix(X)), seen_classes=self.seen_classes_)

    def fitted_state(self) -> dict:
        return {"trees": self.trees_.get_state(), "seen_classes": self.seen_classes_}

    def restore(self, fitted: dict) -> None:
        self.trees_, self.seen_classes_ = ForestArrays.from_state(fitted["trees"]), fitted["seen_classes"]

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

    predict_dtype: ClassVar[type] = np.float32  # of the matrix the estimator predicts from
    # Rows a fit samples at most (None: every row).
    max_train_rows: ClassVar[int | None] = None
    # Whether the fitted model is its training rows (kNN): they are kept as given, to be saved.
    keeps_training_rows: ClassVar[bool] = False

    def _estimator(self, n_rows: int):
        raise NotImplementedError

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        self.view_ = LinearView().fit(X)
        if self.max_train_rows is not None and len(y) > self.max_train_rows:
            rows = sample_rows(len(y), self.max_train_rows, self.seed)
            X, y = X.take(rows), y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        matrix = self.view_.transform(X)
        self.model_ = self._estimator(len(y)).fit(matrix, y, **weighted)
        if self.keeps_training_rows:
            self.training_rows_, self.training_targets_ = matrix, np.asarray(y)
        return self

    def _predict(self, X: EncodedTable) -> np.ndarray:
        matrix = self.view_.transform(X, self.predict_dtype)
        if self.info.is_classification:
            return self._as_output(self.model_.predict_proba(matrix), seen_classes=self.model_.classes_)
        return self._as_output(self.model_.predict(matrix))

    def fitted_state(self) -> dict:
        return {"view": self.view_.get_state(), "estimator": self._estimator_state()}

    def restore(self, fitted: dict) -> None:
        self.view_ = LinearView.from_state(fitted["view"])
        self.model_ = self._restore_estimator(fitted["estimator"])


class LinearModel(_OnLinearView):
    """Logistic regression (classification) or ridge regression."""

    family = "linear"
    hyperparameters = frozenset({"C", "alpha"})  # C: logistic regression, alpha: ridge
    # In float32, OpenBLAS sums a row's product in an order that depends on where the row falls
    # in the batch: Ridge's predictions moved by up to 1e-5 (relative) when rows were reordered.
    # In float64 the same row gets the same prediction in any batch.
    predict_dtype = np.float64
    # A linear model has learned what it can long before a million rows: 4 folds of logistic
    # regression on 750,000 rows took 117 s of a 600 s fit (issue 14).
    max_train_rows = 100_000

    def _estimator(self, n_rows):
        from sklearn.linear_model import LogisticRegression, Ridge

        if self.info.is_classification:
            return LogisticRegression(C=self.params.get("C", 1.0), max_iter=1000)
        return Ridge(alpha=self.params.get("alpha", 1.0))

    # A linear model is its coefficients: scikit-learn's documented fitted attributes, set back on
    # a fresh estimator, predict exactly as the fitted one did.
    def _estimator_state(self) -> dict:
        names = ("coef_", "intercept_", "n_features_in_") + (("classes_",) if self.info.is_classification else ())
        return {name: np.asarray(getattr(self.model_, name)) for name in names}

    def _restore_estimator(self, state: dict):
        estimator = self._estimator(0)
        for name, value in state.items():
            setattr(estimator, name, int(value) if name == "n_features_in_" else value)
        return estimator


class KNNModel(_OnLinearView):
    family = "knn"
    uses_weights = False  # scikit-learn's kNN takes no sample weights
    hyperparameters = frozenset({"n_neighbors", "weights", "p"})
    # kNN keeps its rows and predicts by searching them: 75,000 held-out rows against 225,000 ran
    # for minutes (issue 14), and each fold copy holds its rows in memory.
    max_train_rows = 50_000
    keeps_training_rows = True
    refits_alike = False

    def _estimator(self, n_rows):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        params = {"n_neighbors": 15, "weights": "distance", **self.params}
        params["n_neighbors"] = min(int(params["n_neighbors"]), n_rows)
        estimator = KNeighborsClassifier if self.info.is_classification else KNeighborsRegressor
        return estimator(**params, n_jobs=self.n_threads)

    # kNN is its training rows: the rows it was given (no scikit-learn internals), saved as they
    # are and indexed again on load (a deterministic fit).
    def _estimator_state(self) -> dict:
        return {"rows": self.training_rows_, "y": self.training_targets_}

    def _restore_estimator(self, state: dict):
        self.training_rows_, self.training_targets_ = state["rows"], state["y"]
        return self._estimator(len(state["y"])).fit(state["rows"], state["y"])
