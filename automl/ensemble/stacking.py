"""Multi-layer stacking (AutoGluon's stack) with a holdout guard against stacked overfitting.

Layer-2 models (a compact, strongly regularized portfolio: linear and LightGBM by default,
CatBoost on request; the search scores the default) are bagged on the store's folds and take the
layer-1 OOF predictions plus the original encoded features; an optional layer 3 does the same on
layer-2 outputs. GES on top picks among all layers' OOF predictions. OOF inputs still carry
second-order label information, so before the full fit the stack is fitted without the last fold
of the plan (~1/8 of the rows) and compared with plain GES on that fold: the held-out rows'
layer-1 predictions come from models that never saw them and no layer-2 model sees their labels.
If stacking does not win there it is turned off and the result is plain GES (AutoGluon's
dynamic-stacking rule).
"""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from ..failures import raise_if_strict
from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..data.training import TrainingData
from .data import EnsembleData
from ..metrics import Metric
from ..models.bagging import BaggedModel
from ..models.base import ModelConfig, TaskInfo
from ..folds import FoldPlan
from .base import EnsembleStrategy, prediction_columns
from .greedy import GreedyEnsemble

log = logging.getLogger("automl")

# The next layer reads rows x models x outputs inputs: above this many, one search trial would
# take minutes.
MAX_SEARCH_CELLS = 20_000_000

# Share of a fit's budget spent on its guard fold (the rest on the full fit).
GUARD_SHARE = 0.5
# A fit passes its fold plan; predictions given without one (a user's own, tests) are bagged on
# this many folds.
FOLDS_WITHOUT_A_PLAN = 8

# Few, shallow, slowly-learning trees: the inputs are already strong predictions.
LAYER_MODELS = {
    "linear": ModelConfig("stack_linear", "linear", {"C": 0.1, "alpha": 10.0}),
    "lightgbm": ModelConfig("stack_lightgbm", "lightgbm", {
        "learning_rate": 0.1, "num_leaves": 8, "min_data_in_leaf": 40, "feature_fraction": 0.5,
        "lambda_l2": 10.0, "max_rounds": 300}),
    "catboost": ModelConfig("stack_catboost", "catboost", {"learning_rate": 0.15, "depth": 4, "l2_leaf_reg": 10.0,
                                                           "max_rounds": 300}),
}


class StackingEnsemble(EnsembleStrategy):
    name = "stacking"
    evidence_needed = 0.95
    learns_from_rows = True
    complexity = 6
    trials_read_every_model = True
    fitted_attributes = ("n_base_", "n_folds_", "guard_losses_", "oof_")

    def __init__(self, metric: Metric, task: str, seed: int = 0, models: tuple[str, ...] = ("linear", "lightgbm"),
                 layers: int = 2, guard: bool = True, n_iterations: int = 25, n_threads: int = 1):
        super().__init__(metric, task, seed, n_threads)
        unknown = sorted(set(models) - set(LAYER_MODELS))
        if unknown or layers not in (2, 3):
            raise ValueError(f"Stacking takes models from {sorted(LAYER_MODELS)} and 2 or 3 layers; "
                             f"got models {list(models)}, layers {layers}.")
        self.models = tuple(models)
        self.layers = layers
        self.guard = guard
        self.n_iterations = n_iterations

    def fit(self, data, budget=None):
        budget = budget or TimeBudget(None)
        if data.fold_of is None:
            data = replace(data, fold_of=FoldPlan.make(data.y, FOLDS_WITHOUT_A_PLAN, self.task, self.seed,
                                                       data.groups).fold_of)
        self.n_base_, self.n_folds_ = data.n_models, 0  # n_folds_: the plan of the next layers, once trained
        self.layers_: list[list[BaggedModel]] = []
        self.guard_losses_ = None
        if self.guard:
            self.guard_losses_ = self._guard(data, budget.fraction(GUARD_SHARE))
        if self.guard_losses_ is None or self.guard_losses_[0] < self.guard_losses_[1]:
            columns = self.fit_layers(data, budget)
        else:
            columns = data.predictions
        self.top_ = self._top().fit(data.with_predictions(columns))
        self.oof_ = self.top_.predict(columns)
        return self

    @property
    def active_(self) -> bool:
        """Whether the fitted ensemble uses next-layer models (False: the guard turned stacking off)."""
        return bool(self.layers_) and (self.top_.used_models >= self.n_base_).any()

    def fit_layers(self, data: EnsembleData, budget: TimeBudget) -> np.ndarray:
        """Trains layers 2.. on ``data``'s folds (weighted, early-stopping on whole groups, as the
        base models did); returns every layer's OOF predictions, stacked along models."""
        predictions, y, fold_of = data.predictions, data.y, data.fold_of
        info = TaskInfo(self.task, predictions.shape[2] if self.task != "regression" else 0)
        plan = FoldPlan(np.unique(fold_of, return_inverse=True)[1].astype(np.int32), len(np.unique(fold_of)))
        self.n_folds_ = plan.n_folds
        columns, inputs = predictions, predictions
        self.layers_ = []
        for _ in range(self.layers - 1):
            table = _stacked_table(data.features, inputs)
            fitted, oof = [], []
            for i, name in enumerate(self.models):
                model = BaggedModel(LAYER_MODELS[name], info, seed=self.seed, n_threads=self.n_threads)
                share = budget.share(len(self.models) - i)
                try:
                    oof.append(model.fit(TrainingData(table, y, data.sample_weight, data.groups), plan, share))
                    fitted.append(model)
                except Exception as exc:  # a failing next-layer model is skipped like a base model
                    raise_if_strict(exc)
                    log.warning("Stacking: %s skipped: %s: %s", name, type(exc).__name__, exc)
            if not fitted:
                break
            self.layers_.append(fitted)
            inputs = np.stack(oof)
            columns = np.concatenate([columns, inputs])
        return columns

    def transform(self, predictions: np.ndarray, features: EncodedTable | None,
                  fold_of: np.ndarray | None = None) -> np.ndarray:
        """Every layer's predictions for new rows, in the order ``fit_layers`` returned them; with
        ``fold_of``, each row's by the next-layer copies that never saw its fold."""
        columns, inputs = predictions, predictions
        for models in self.layers_:
            table = _stacked_table(features, inputs)
            inputs = np.stack([model.predict(table) if fold_of is None else
                               model.predict_out_of_fold(table, fold_of, self.n_folds_) for model in models])
            columns = np.concatenate([columns, inputs])
        return columns

    def predict(self, predictions, features=None):
        return self.top_.predict(self.transform(predictions, features))

    def predict_out_of_fold(self, predictions, features, fold_of):
        if not getattr(self, "n_folds_", 0):  # no next layer, or saved before folds were kept
            return self.predict(predictions, features)
        return self.top_.predict(self.transform(predictions, features, fold_of))

    def predict_oof(self, predictions, features=None):
        return self.oof_

    @property
    def used_models(self) -> np.ndarray:
        if self.layers_:  # every base model feeds layer 2
            return np.arange(self.n_base_)
        return self.top_.used_models

    def describe(self) -> str:
        if self.layers_:
            layers = ", ".join(f"layer {k + 2}: {len(m)} models" for k, m in enumerate(self.layers_))
            return f"stacking ({layers}) + GES"
        guarded = self.guard_losses_ is not None and self.guard_losses_[0] >= self.guard_losses_[1]
        return f"stacking off ({'the guard fold' if guarded else 'no next-layer model finished'}): GES"

    def get_state(self) -> dict:
        return {**super().get_state(), "layers": [[bag.get_state() for bag in bags] for bags in self.layers_],
                "top": self.top_.get_state()}

    @classmethod
    def from_state(cls, state: dict, metric: Metric, task: str) -> "StackingEnsemble":
        stack = super().from_state(state, metric, task)
        stack.layers_ = [[BaggedModel.from_state(bag) for bag in bags] for bags in state["layers"]]
        stack.top_ = GreedyEnsemble.from_state(state["top"], metric, task)
        return stack

    # ------------------------------------------------------------------ the ``auto`` search's hooks
    @classmethod
    def suggest(cls, trial, search):
        # The search's honest validation is the guard; the next layer reads every model.
        return {"n_iterations": GreedyEnsemble.suggest_iterations(trial), "guard": False}, None

    @classmethod
    def too_costly(cls, n_models, n_rows, n_outputs):
        return n_models * n_rows * n_outputs > MAX_SEARCH_CELLS

    @classmethod
    def trial_inputs(cls, search) -> np.ndarray:
        """Layer-1 + next-layer OOF columns for every OOF row: the next layer is trained once per
        search, on the study rows, within the schedule's stacking share of the study (a child of
        the study's budget, so it ends with the study however late it starts); the guard rows get
        its predictions."""
        if cls.name not in search.shared:
            stack = cls(search.metric, search.task, search.seed, guard=False, n_threads=search.n_threads)
            data, rows, guard_rows = search.data, search.study_rows, search.guard_rows
            study_columns = stack.fit_layers(data.take(rows), search.study_budget.sub(search.stacking_seconds))
            columns = np.zeros((len(study_columns), len(data), data.predictions.shape[2]), dtype=np.float32)
            columns[:, rows] = study_columns
            guard = data.take(guard_rows)
            columns[:, guard_rows] = stack.transform(guard.predictions, guard.features)
            search.shared[cls.name] = columns
        return search.shared[cls.name]

    def for_trial(self) -> GreedyEnsemble:
        """GES on top of the shared layers' columns."""
        return self._top()

    def _top(self) -> GreedyEnsemble:
        return GreedyEnsemble(self.metric, self.task, self.seed, n_iterations=self.n_iterations,
                              n_threads=self.n_threads)

    def _guard(self, data: EnsembleData, budget: TimeBudget) -> tuple[float, float]:
        """(stacked, plain GES) losses on the last fold, both fitted without it."""
        held_out = data.fold_of == data.fold_of.max()
        rest, held = data.take(np.flatnonzero(~held_out)), data.take(np.flatnonzero(held_out))
        stack = StackingEnsemble(self.metric, self.task, self.seed, self.models, self.layers, guard=False,
                                 n_iterations=self.n_iterations, n_threads=self.n_threads)
        stack.fit(rest, budget)
        plain = self._top().fit(rest)
        stacked_loss = self.metric.loss(held.y, stack.predict(held.predictions, held.features), held.sample_weight)
        plain_loss = self.metric.loss(held.y, plain.predict(held.predictions), held.sample_weight)
        log.info("Stacking guard: stacked %.5f vs GES %.5f on %d held-out rows.", stacked_loss, plain_loss,
                 held_out.sum())
        return stacked_loss, plain_loss


def _stacked_table(features: EncodedTable | None, predictions: np.ndarray) -> EncodedTable:
    """The original features plus one numeric column per (model, output) of ``predictions``."""
    extra = prediction_columns(predictions).astype(np.float32)
    names = [f"layer_input_{j}" for j in range(extra.shape[1])]
    if features is None:
        return EncodedTable(extra, np.zeros((len(extra), 0), dtype=np.int32), names, [], [])
    return replace(features, numeric=np.hstack([features.numeric, extra]), numeric_names=features.numeric_names + names)



