"""The interface every model family implements, and what a family is told about the task."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..data.target_encoding import TargetEncoding


@dataclass(frozen=True)
class TaskInfo:
    """What every model needs to know about the problem."""

    task: str  # "binary", "multiclass" or "regression"
    n_classes: int  # 0 for regression

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.is_classification else 1


@dataclass(frozen=True)
class ModelConfig:
    """One entry of a portfolio, under a unique name: a family, its hyperparameters (what the
    model is) and its framework options (how it is run: copies, threads, rows, minimum epochs)."""

    name: str
    family: str
    params: dict
    options: dict = field(default_factory=dict)


class ModelTimeout(RuntimeError):
    """The budget ran out before a model could produce anything useful."""


class Model(ABC):
    """One model trained on one set of rows.

    ``fit`` gets encoded rows and targets (class indices 0..n_classes-1, or floats), plus
    early-stopping rows when the family declares ``uses_validation``; such a family given no
    early-stopping rows trains the size its parameters fix (a refit, see ``full_params``). Row
    weights (``sample_weight``, ``val_weight`` for the early-stopping rows; None: equal) weigh
    the training loss and the early-stopping loss of families that declare ``uses_weights``. ``predict`` returns
    probabilities of shape (n, n_classes) for classification, (n, 1) for regression.
    Families that can stop early must stop when ``budget`` expires and keep what they have.

    A family implements ``_fit`` and ``_predict``; ``fit`` and ``predict`` first add the
    out-of-fold target encoding of the high-cardinality columns for families that are
    ``target_encoded`` (``data/target_encoding.py``), fitted on the training rows (cross-fitted
    within them, whole ``groups`` apart).
    """

    family: ClassVar[str]
    # The names a configuration may set in ``params`` and in ``options`` (a portfolio naming
    # another is refused on load).
    hyperparameters: ClassVar[frozenset[str]]
    option_names: ClassVar[frozenset[str]] = frozenset()
    uses_validation: ClassVar[bool] = False
    # Whether ``fit`` trains on per-row ``sample_weight``; the others train unweighted (the fit's
    # log says so once) and are still scored weighted.
    uses_weights: ClassVar[bool] = True
    # Whether ``device="cuda"`` makes this family train on the GPU; the others get "cpu".
    supports_gpu: ClassVar[bool] = False
    # Whether fold copies may train at once on separate threads. True needs a fit whose result
    # depends on its own seed only (no process-wide random state) and that releases the GIL.
    parallel_folds: ClassVar[bool] = True
    # Whether the family improves round by round and can be adapted to the time there is
    # (``adapt``; BaggedModel prices a round on a probe first, see models/boosting.py).
    anytime: ClassVar[bool] = False
    # Whether a fit stopped by its budget keeps what it has grown (rounds, trees) and says through
    # ``usable`` whether that is worth keeping (a forest raises ModelTimeout instead, as soon as
    # its priced trees say it cannot grow enough). BaggedModel never abandons such a model for what
    # its first folds took: the folds after them grow less. (Abandoned instead, extra trees on
    # letter at 30 s threw away 7 s of finished folds; given the time, it was the best model.)
    keeps_partial: ClassVar[bool] = False
    # Whether one copy refitted on all rows predicts like the mean of its fold copies, so that
    # ``refit="auto"`` may swap them. kNN does not: the mean of k copies' neighbour votes is a
    # smoother model than one vote on all rows (letter, k=5: test log loss 0.275 with the copies,
    # 0.399 refitted).
    refits_alike: ClassVar[bool] = True
    # Whether the family is given the out-of-fold target encoding of the high-cardinality columns
    # as numeric columns (data/target_encoding.py). Defaults, 8-fold bags, test score with / without
    # it (benchmarks/results/target_encoding.md): the forests gain most (football log loss 1.077 ->
    # 0.990, gapminder RMSE 3.20 -> 2.06), LightGBM gains on 4 tables of 5.
    target_encoded: ClassVar[bool] = True

    @classmethod
    def prepare(cls) -> None:
        """One-off set-up per process (heavy imports), run by BaggedModel before it shares the
        time out among the folds, so that the first fold's budget does not pay for it."""

    @classmethod
    def later_copy_options(cls, options: dict, device: str) -> dict:
        """The options of a copy trained after the bag's first wave: the first copies decided that
        the configuration fits its time, so a family whose copies refuse a short budget may ask
        less of the later ones rather than have the finished copies thrown away."""
        return options

    @classmethod
    def fold_copies(cls, options: dict, device: str, n_folds: int) -> int:
        """How many copies BaggedModel trains: one per fold, unless a slow family asks for fewer
        (each then trains on the rows outside a group of folds, see ``FoldPlan.grouped``)."""
        return n_folds

    def __init__(self, params: dict, info: TaskInfo, seed: int, n_threads: int, device: str = "cpu",
                 options: dict | None = None):
        self.params = dict(params)
        self.options = dict(options or {})
        self.info = info
        self.seed = seed
        self.n_threads = n_threads
        self.device = device

    @classmethod
    def adapt(cls, params: dict, n_copies: int, affordable_rounds) -> tuple[dict, int, str]:
        """An any-time family's answer to its price: ``(params, copies, note)`` that finish in
        time, where ``affordable_rounds(copies)`` is how many rounds one copy can pay for when
        ``copies`` copies share the budget; the note says what changed (empty: nothing)."""
        return params, n_copies, ""

    # ------------------------------------------------------------------ saving (automl.persistence)
    def get_state(self) -> dict:
        """What predicting needs, as JSON values, arrays and Blobs (no pickle)."""
        return {"params": self.params, "options": self.options, "task": self.info.task,
                "n_classes": self.info.n_classes, "seed": self.seed, "n_threads": self.n_threads, "device": self.device,
                "fitted": self.fitted_state(),
                "target_encoding": None if self.target_encoding_ is None else self.target_encoding_.get_state()}

    @classmethod
    def from_state(cls, state: dict) -> "Model":
        model = cls(state["params"], TaskInfo(state["task"], state["n_classes"]), state["seed"], state["n_threads"],
                    state["device"], state.get("options"))  # folders saved before options had none
        model.restore(state["fitted"])
        encoding = state.get("target_encoding")  # folders saved before it existed have none
        model.target_encoding_ = None if encoding is None else TargetEncoding.from_state(encoding)
        return model

    @abstractmethod
    def fitted_state(self) -> dict:
        """The fitted model as JSON values, arrays and Blobs (a library's own model format)."""

    @abstractmethod
    def restore(self, fitted: dict) -> None:
        """Sets the fitted model from what ``fitted_state`` returned."""

    @classmethod
    def full_params(cls, params: dict, copies: list["Model"], scale: float) -> dict:
        """Parameters to train one model on all the rows, without validation rows, as a refit of
        fitted ``copies`` trained on ``1 / scale`` of them: families that early-stop return the
        size the copies stopped at (rounds, epochs), scaled; the others their parameters."""
        return params

    @classmethod
    def refit_growth(cls, copies: list, scale: float) -> float:
        """The training a refit on ``scale`` times a copy's rows does per row, against what the
        fitted ``copies`` did: 1 for families of fixed size (``full_params`` keeps it); more where
        it scales the size the copies stopped at (rounds, epochs) by the rows."""
        return 1.0

    @property
    def usable(self) -> bool:
        """Whether this fitted model is worth keeping (a fit cut short by its budget may not be)."""
        return True

    def fit(self, X: EncodedTable, y: np.ndarray, X_val: EncodedTable | None = None,
            y_val: np.ndarray | None = None, budget: TimeBudget | None = None,
            sample_weight: np.ndarray | None = None, val_weight: np.ndarray | None = None,
            groups: np.ndarray | None = None) -> "Model":
        self.target_encoding_ = None
        if X.raw is not None and self.target_encoded:
            self.target_encoding_ = TargetEncoding(self.info.task, self.seed)
            X = X.with_numeric(self.target_encoding_.fit_transform(X.raw, X.raw_names, y, groups),
                               self.target_encoding_.names_)
            X_val = None if X_val is None else self._target_encoded(X_val)
        return self._fit(X, y, X_val, y_val, budget, sample_weight, val_weight)

    def predict(self, X: EncodedTable) -> np.ndarray:
        return self._predict(self._target_encoded(X))

    def _target_encoded(self, X: EncodedTable) -> EncodedTable:
        if self.target_encoding_ is None:
            return X
        return X.with_numeric(self.target_encoding_.transform(X.raw), self.target_encoding_.names_)

    @abstractmethod
    def _fit(self, X: EncodedTable, y: np.ndarray, X_val: EncodedTable | None, y_val: np.ndarray | None,
             budget: TimeBudget | None, sample_weight: np.ndarray | None, val_weight: np.ndarray | None) -> "Model":
        """The family's training on rows that hold their target encodings already."""

    @abstractmethod
    def _predict(self, X: EncodedTable) -> np.ndarray:
        ...

    def _as_output(self, raw: np.ndarray, seen_classes: np.ndarray | None = None) -> np.ndarray:
        """Shapes a library's output to the shared convention (every class gets a column)."""
        raw = np.asarray(raw, dtype=np.float64)
        if not self.info.is_classification:
            return raw.reshape(-1, 1).astype(np.float32)
        if raw.ndim == 1:  # positive-class probability of a binary model
            raw = np.column_stack([1.0 - raw, raw])
        if seen_classes is not None and len(seen_classes) != self.info.n_classes:
            full = np.zeros((raw.shape[0], self.info.n_classes))
            full[:, np.asarray(seen_classes, dtype=int)] = raw
            raw = full
        return raw.astype(np.float32)


def sample_rows(n_rows: int, max_rows: int, seed: int) -> np.ndarray:
    """``max_rows`` of ``n_rows`` row indices, drawn without replacement by ``seed``, sorted: the
    one row sampler of the families that train on at most so many rows."""
    return np.sort(np.random.default_rng(seed).choice(n_rows, int(max_rows), replace=False))


class Patience:
    """Early stopping bookkeeping: the best iteration so far, and when to give up."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_loss = np.inf
        self.best_iteration = -1

    def update(self, iteration: int, loss: float) -> bool:
        """Records ``loss`` at ``iteration``; True when training should stop."""
        if loss < self.best_loss:
            self.best_loss, self.best_iteration = loss, iteration
        return iteration - self.best_iteration >= self.patience
