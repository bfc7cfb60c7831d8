"""The interface of ensemble strategies: fit on stored OOF predictions, predict from new ones.

``fit`` takes one ``EnsembleData`` (the stored OOF predictions [n_models, n_rows, n_outputs] in
the order of the PredictionStore, the targets, and what some strategies read: features, folds,
weights, groups, records) and a ``budget`` (iterative strategies stop when it runs out and keep
what they have). Every loss a strategy minimizes is the weighted one; DES's competence counts
neighbours unweighted. ``predict`` takes new predictions in the same order, and the encoded
features of the same rows (read by stacking and dynamic selection, ignored by the others).

A strategy also owns its part of the ``auto`` search (``automl.ensemble.search``): its rank
(``complexity``), its settings and model pool for one trial (``suggest``), when a trial would cost
too much (``too_costly``), and, for strategies whose trials share expensive work, the columns
they fit on (``trial_inputs``) and the stand-in a trial fits (``for_trial``).
"""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..metrics import Metric
from .data import EnsembleData

if TYPE_CHECKING:
    import optuna


class TrialContext(Protocol):
    """What a strategy's search hooks may read of the ``auto`` search (``ensemble.search.Search``):
    the study's settings, every OOF row (``data``), the study and guard rows, the study's budget and
    stacking's share of it, a cache of work a strategy's trials share (``shared``, by strategy
    name), and the pool suggestion every strategy may use."""

    metric: Metric
    task: str
    seed: int
    n_threads: int
    data: EnsembleData
    study_rows: np.ndarray
    guard_rows: np.ndarray
    study_budget: TimeBudget
    stacking_seconds: float | None
    shared: dict

    def suggest_pool(self, trial: "optuna.Trial", top_k: tuple[int, ...] = ...) -> np.ndarray:
        ...


class EnsembleStrategy(ABC):
    name: ClassVar[str]
    # The search replaces a simpler ensemble by this strategy only when it wins on at least this
    # share of paired bootstrap resamples of honestly predicted rows (automl.ensemble.evidence).
    evidence_needed: ClassVar[float] = 0.9
    # Strategies that fit models on the rows (stacking, dynamic selection) can find patterns in
    # noise; with few rows the search asks them for more evidence.
    learns_from_rows: ClassVar[bool] = False
    # The fitted attributes ``predict`` reads: with the constructor's parameters, a strategy's
    # saved state (``get_state``), as JSON values and arrays.
    fitted_attributes: ClassVar[tuple[str, ...]] = ()
    # The search lists strategies from the simplest up (the order of its categorical choice).
    complexity: ClassVar[int]
    # The search's decision chain: it starts from the strongest strategy of the lowest step (the
    # single best model); at each later step, the strongest strategy of that step challenges the
    # winner so far (GES at step 1; every other strategy at step 2, the default).
    chain_step: ClassVar[int] = 2
    chain_description: ClassVar[str] = ""  # how the decision names this strategy when it starts the chain
    # Whether ``trial_inputs`` are columns derived from every model (stacking's next layer): a
    # trial's stand-in then reads all of them, whatever its own ``used_models``.
    trials_read_every_model: ClassVar[bool] = False

    def __init__(self, metric: Metric, task: str, seed: int = 0, n_threads: int = 1):
        self.metric = metric
        self.task = task
        self.seed = seed
        self.n_threads = n_threads  # for strategies that train models of their own (stacking)

    @abstractmethod
    def fit(self, data: EnsembleData, budget: TimeBudget | None = None) -> "EnsembleStrategy":
        ...

    @abstractmethod
    def predict(self, predictions: np.ndarray, features: EncodedTable | None = None) -> np.ndarray:
        ...

    def predict_oof(self, predictions: np.ndarray, features: EncodedTable | None = None) -> np.ndarray:
        """Predictions for the rows ``fit`` saw that never used those rows' own targets.

        Equal to ``predict`` for weighted means of OOF predictions; strategies that learn from
        rows (stacking, dynamic selection) return the cross-fitted predictions they kept.
        """
        return self.predict(predictions, features)

    def predict_out_of_fold(self, predictions: np.ndarray, features: EncodedTable | None,
                            fold_of: np.ndarray) -> np.ndarray:
        """Predictions for rows each tied to a fold of the fit's plan (``fold_of``), where
        ``predictions`` are already the members' copies that never saw that fold: strategies that
        learn from rows leave out what they learned from that fold (its labels). A weighted mean
        learns a few weights from every row: it predicts as ``predict``."""
        return self.predict(predictions, features)

    @property
    @abstractmethod
    def used_models(self) -> np.ndarray:
        """Indices of the models whose predictions ``predict`` reads; the others may be zeros."""

    def describe(self) -> str:
        """A short human-readable summary for reports."""
        return f"{self.name} of {len(self.used_models)} models"

    def get_state(self) -> dict:
        params = [name for name in inspect.signature(type(self).__init__).parameters
                  if name not in ("self", "metric", "task")]
        return {"strategy": self.name, "params": {name: getattr(self, name) for name in params},
                "fitted": {name: getattr(self, name) for name in self.fitted_attributes}}

    @classmethod
    def from_state(cls, state: dict, metric: Metric, task: str) -> "EnsembleStrategy":
        strategy = cls(metric, task, **state["params"])
        strategy.__dict__.update(state["fitted"])
        return strategy

    def model_weights(self) -> np.ndarray | None:
        """Each model's weight in the ensemble, or None for strategies whose combination depends on
        the row (stacking, dynamic selection)."""
        return None

    # ------------------------------------------------------------------ the ``auto`` search's hooks
    @classmethod
    def suggest(cls, trial: "optuna.Trial", search: TrialContext) -> tuple[dict, np.ndarray | None]:
        """This strategy's constructor settings for one trial, and the stored models it may use
        (indices; None: every model). By default no settings, and a pool of the best models."""
        return {}, search.suggest_pool(trial)

    @classmethod
    def too_costly(cls, n_models: int, n_rows: int, n_outputs: int) -> bool:
        """Whether one trial on a store of this shape would take minutes (the search leaves it out)."""
        return False

    @classmethod
    def trial_inputs(cls, search: TrialContext) -> np.ndarray:
        """The prediction columns, for every OOF row, that this strategy's trials fit on: the
        stored OOF predictions, or columns computed once per search from them."""
        return search.data.predictions

    def for_trial(self) -> "EnsembleStrategy":
        """What one trial fits on ``trial_inputs``' columns: this strategy itself by default."""
        return self


class WeightedEnsemble(EnsembleStrategy):
    """An ensemble that is a weighted mean of its members' predictions (``weights_`` sums to 1)."""

    weights_: np.ndarray
    fitted_attributes = ("weights_",)

    def predict(self, predictions, features=None):
        return weighted_mean(self.weights_, predictions)

    @property
    def used_models(self) -> np.ndarray:
        return np.flatnonzero(self.weights_ > 0)

    def model_weights(self) -> np.ndarray:
        return self.weights_


def weighted_mean(weights: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """The ``weights``-weighted mean of ``predictions`` [n_models, ...], reading only the models
    with a weight (the others may be zeros)."""
    used = np.flatnonzero(weights > 0)
    return np.tensordot(weights[used], predictions[used].astype(np.float64), axes=1).astype(np.float32)


def prediction_columns(predictions: np.ndarray) -> np.ndarray:
    """[n_models, n_rows, n_outputs] predictions as one row of features per row, (model, output)
    by (model, output); a binary task's first column is left out (it is one minus the second)."""
    outputs = predictions[:, :, 1:] if predictions.shape[2] == 2 else predictions
    return outputs.transpose(1, 0, 2).reshape(predictions.shape[1], -1)


def counts_to_weights(counts: np.ndarray) -> np.ndarray:
    """GES-style count vector (how often each model was picked) -> weights that sum to 1."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts / counts.sum()
