"""TabM (Gorishniy et al., ICLR 2025): k MLPs that share their weights, trained as one network.

The architecture is the reference one from the ``tabm`` package (``TabM.make``) with
piecewise-linear embeddings of the numbers; preprocessing, the training loop, early stopping
and prediction are ours:

* numbers go through a quantile transform to a normal distribution (fitted on the rows plus
  tiny noise, so ties do not collapse quantiles), columns with fewer than two distinct values
  are dropped (the embeddings' bins need two edges), missing numbers become 0 (the median)
  plus a missing-indicator category; categories are one-hot inside the model, with missing
  as a level of its own;
* the loss is the mean of the k members' losses (training the average instead would make the
  members one model); the prediction is the mean of the members' probabilities or outputs;
* AdamW without weight decay on biases and embeddings, gradient clipping after ``backward()``,
  a batch size that grows with the rows, early stopping on the inner validation rows with the
  best epoch restored, and an epoch is started only when the time budget can pay for it.

On the CPU a TabM step costs about k times an MLP's, so the CPU variant (``CPU_DEFAULTS``) has
fewer and narrower members, trains 4 copies on groups of folds rather than one per fold
(``FoldPlan.grouped``) and trains on a row sample of large tables; a first copy whose budget
cannot pay for ``min_epochs`` epochs is not started at all (``ModelTimeout``; later copies need
half), so the time budget decides whether TabM runs. Weight initialisation and dropout draw
from torch's process-wide generator, so folds train one at a time (``parallel_folds = False``)
on every thread the model is given.
"""
from __future__ import annotations

import copy
import io
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from rtdl_num_embeddings import PiecewiseLinearEmbeddings, compute_bins
from scipy.special import ndtri
from sklearn.preprocessing import QuantileTransformer
from tabm import TabM

from ..budget import TimeBudget
from ..data.encoder import MISSING_CODE, EncodedTable
from .base import Model, ModelTimeout, Patience, sample_rows

# The paper's setup (k = 32 members of 2 x 512 with embeddings), used on the GPU.
DEFAULTS = {
    "k": 32,
    "n_blocks": 2,
    "d_block": 512,
    "dropout": 0.1,
    "n_bins": 48,
    "d_embedding": 16,
    "lr": 2e-3,
    "weight_decay": 3e-4,
    "clip_norm": 1.0,
    "patience": 16,
    "max_epochs": 1000,
    "batch_size": None,  # None: by training rows (batch_size_for)
}
# How a TabM configuration is run (its ``options``), apart from what it is.
OPTIONS = {
    "max_train_rows": None,  # None: every row
    "min_epochs": 10,  # a first copy whose budget affords fewer epochs is not started
    "fold_copies": None,  # None: one copy per fold of the plan; n: n copies on groups of folds
    "max_threads": None,  # None: the n_threads the model is given
}
# Measured on 2 CPU cores (benchmarks/results/tabm.md, 197_cpu_act): fewer, narrower members cut
# the full model's epoch from 4.8 s to 0.6 s (0.9 s on one thread). Large tables are subsampled
# so that an epoch stays within seconds, and 4 copies on groups of folds (instead of 8, one per
# fold) halve the copies to train, so each gets twice the time: at 120 s on 2 cores, 8 copies
# could not pay for 10 epochs each on 11 of the 18 dev datasets.
CPU_DEFAULTS = {**DEFAULTS, "k": 8, "d_block": 256}
CPU_OPTIONS = {**OPTIONS, "max_train_rows": 20_000, "fold_copies": 4}

# (rows below which, batch size): 32 below 2,800 rows up to 1,024 above 108,000, the steps in
# between spaced geometrically.
BATCH_SIZES = ((2_800, 32), (7_000, 64), (17_500, 128), (43_000, 256), (108_000, 512))
PREDICT_BATCH_SIZE = {"cuda": 8192, "cpu": 4096}
# Timed batches that price an epoch (the fastest counts): each costs ~0.005 s on 2 cores at the
# CPU defaults, a stalled one ~100 times that.
PROBE_CALLS = 3
# scikit-learn's QuantileTransformer: values this close to the fitted range's ends map to its ends.
QUANTILE_BOUNDS = 1e-7


def batch_size_for(n_rows: int) -> int:
    for limit, size in BATCH_SIZES:
        if n_rows < limit:
            return size
    return 1024


class TabMInputs:
    """Turns an EncodedTable into TabM's inputs: normal-scored numbers and category codes.

    Fitted on the rows a model trains on; ``transform`` returns ``(x_num, x_cat)`` with
    ``x_num`` float32 (n, n_numeric) and ``x_cat`` int64 (n, n_categorical), either None when
    the table has no such columns.
    """

    # Noise added to the numbers the quantile transform is fitted on, relative to each column's
    # spread (as in the TabM repository): ties would otherwise pile quantiles on one value.
    NOISE = 1e-3

    def fit(self, table: EncodedTable, seed: int) -> "TabMInputs":
        num = table.numeric
        self.numeric_columns_ = np.array([j for j in range(num.shape[1]) if _n_distinct(num[:, j]) >= 2], dtype=int)
        # Missing numbers get an indicator category; columns dropped as constant keep theirs.
        self.indicator_columns_ = np.flatnonzero(np.isnan(num).any(axis=0))
        if self.numeric_columns_.size:
            kept = num[:, self.numeric_columns_].astype(np.float64)
            rng = np.random.default_rng(seed)
            spread = np.maximum(np.nanstd(kept, axis=0), self.NOISE)
            noisy = kept + rng.normal(scale=self.NOISE * spread, size=kept.shape)
            fitted = QuantileTransformer(
                output_distribution="normal", n_quantiles=max(min(len(kept) // 30, 1000), 10),
                subsample=10**9, random_state=seed).fit(noisy)
            self.quantiles_, self.references_ = fitted.quantiles_, fitted.references_
        # Codes run 0..card-1 with MISSING_CODE for missing: missing becomes level ``card``.
        self.cat_cardinalities_ = [c + 1 for c in table.cardinalities] + [2] * len(self.indicator_columns_)
        if not self.numeric_columns_.size and not self.cat_cardinalities_:
            raise ValueError("TabM has no usable feature: every numeric column is constant and there are no categories.")
        return self

    def get_state(self) -> dict:
        state = {"numeric_columns": self.numeric_columns_, "indicator_columns": self.indicator_columns_,
                 "cat_cardinalities": self.cat_cardinalities_}
        if self.numeric_columns_.size:  # the quantile transform is its fitted quantiles and references
            state["quantiles"] = {"quantiles_": self.quantiles_, "references_": self.references_}
        return state

    @classmethod
    def from_state(cls, state: dict) -> "TabMInputs":
        inputs = cls()
        inputs.numeric_columns_, inputs.indicator_columns_ = state["numeric_columns"], state["indicator_columns"]
        inputs.cat_cardinalities_ = list(state["cat_cardinalities"])
        if "quantiles" in state:
            quantiles = state["quantiles"]
            inputs.quantiles_, inputs.references_ = quantiles["quantiles_"], quantiles["references_"]
        return inputs

    def transform(self, table: EncodedTable) -> tuple[np.ndarray | None, np.ndarray | None]:
        x_num = None
        if self.numeric_columns_.size:
            scored = normal_scores(table.numeric[:, self.numeric_columns_].astype(np.float64), self.quantiles_,
                                   self.references_)
            x_num = np.nan_to_num(scored, nan=0.0).astype(np.float32)
        codes = table.categorical.astype(np.int64)
        codes = np.where(codes == MISSING_CODE, np.asarray(table.cardinalities, dtype=np.int64), codes)
        indicators = np.isnan(table.numeric[:, self.indicator_columns_]).astype(np.int64)
        x_cat = np.hstack([codes, indicators]) if self.cat_cardinalities_ else None
        return x_num, x_cat


def normal_scores(x: np.ndarray, quantiles: np.ndarray, references: np.ndarray) -> np.ndarray:
    """``QuantileTransformer(output_distribution="normal").transform`` from its fitted
    ``quantiles_`` (n_quantiles, n_columns) and ``references_``, with the normal quantile function
    applied to all columns at once: scikit-learn calls scipy's ``norm.ppf`` three times per column,
    7 of the 8 ms a one-row TabM prediction took on spambase's 57 columns."""
    uniform = np.empty_like(x)
    with np.errstate(invalid="ignore"):  # NaN stays NaN
        for j in range(x.shape[1]):
            q, column = quantiles[:, j], x[:, j]
            # Both directions and their mean: repeated quantiles map to the middle of their references.
            uniform[:, j] = 0.5 * (np.interp(column, q, references) - np.interp(-column, -q[::-1], -references[::-1]))
            uniform[column + QUANTILE_BOUNDS > q[-1], j] = 1.0
            uniform[column - QUANTILE_BOUNDS < q[0], j] = 0.0
    edge = QUANTILE_BOUNDS - np.spacing(1)
    return np.clip(ndtri(uniform), ndtri(edge), ndtri(1 - edge))


class TabMModel(Model):
    family = "tabm"
    hyperparameters = frozenset(DEFAULTS)
    option_names = frozenset(OPTIONS)
    uses_validation = True
    supports_gpu = True
    parallel_folds = False
    # Its own embeddings of the kept levels did better than the target encoding beside them on the
    # small tables (defaults, test RMSE: gapminder 1.385 against 1.471, cars_mpg 2.503 against
    # 2.584; movies and football gained < 1%: benchmarks/results/target_encoding.md).
    target_encoded = False

    @classmethod
    def prepare(cls) -> None:
        # The first optimizer imports torch._dynamo (1.2 s). Training pays for it here; loading a
        # saved model to predict never does.
        import torch._dynamo  # noqa: F401

    @classmethod
    def later_copy_options(cls, options: dict, device: str) -> dict:
        # ``min_epochs`` decides on the first copy whether TabM fits; a later copy needs half, so
        # a bag is not lost a few epochs short (letter, 120 s: the third of 4 copies afforded 9.99
        # of 10 epochs, and the two finished copies, 19 s of the fit, were thrown away).
        return {**options, "min_epochs": max(1, int(cls._options(options, device)["min_epochs"]) // 2)}

    @classmethod
    def fold_copies(cls, options: dict, device: str, n_folds: int) -> int:
        limit = cls._options(options, device)["fold_copies"]
        return min(n_folds, int(limit or n_folds))

    @staticmethod
    def _params(params: dict, device: str) -> dict:
        return {**(DEFAULTS if device == "cuda" else CPU_DEFAULTS), **params}

    @staticmethod
    def _options(options: dict, device: str) -> dict:
        return {**(OPTIONS if device == "cuda" else CPU_OPTIONS), **options}

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        options = self._options(self.options, self.device)
        self.threads_ = min(self.n_threads, options["max_threads"] or self.n_threads)
        with torch_threads(self.threads_):
            return self._fit_network(X, y, X_val, y_val, budget or TimeBudget(None), sample_weight, val_weight)

    def _fit_network(self, X, y, X_val, y_val, budget: TimeBudget, sample_weight, val_weight) -> "TabMModel":
        params, options = self._params(self.params, self.device), self._options(self.options, self.device)
        torch.manual_seed(self.seed)
        device = torch.device(self.device)
        if options["max_train_rows"] is not None and len(y) > options["max_train_rows"]:
            rows = sample_rows(len(y), options["max_train_rows"], self.seed)
            X, y = X.take(rows), y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]

        self.inputs_ = TabMInputs().fit(X, self.seed)
        if not self.info.is_classification:  # the network learns a standardized target
            self.y_mean_, self.y_std_ = float(np.mean(y)), float(np.std(y)) or 1.0
        train = self._tensors(X, y, sample_weight, device)
        # None: a refit of fixed epochs
        val = None if X_val is None else self._tensors(X_val, y_val, val_weight, device)
        self.bins_ = self._bins(params, train[0])
        module = self._make_module(params).to(device)
        optimizer = torch.optim.AdamW(_parameter_groups(module, params["weight_decay"]), lr=params["lr"])
        batch_size = params["batch_size"] or batch_size_for(len(y))

        estimate = self._seconds_per_epoch(module, train, batch_size, 0 if y_val is None else len(y_val))
        min_epochs = min(int(options["min_epochs"]), int(params["max_epochs"]))  # a refit may want fewer
        if budget.remaining() < min_epochs * estimate:
            raise ModelTimeout(f"TabM needs ~{estimate:.2f}s per epoch; {budget.remaining():.1f}s left for this fold "
                               f"pays for fewer than {min_epochs} epochs")
        best_state = self._train(module, optimizer, train, val, batch_size, params, budget, estimate)
        module.load_state_dict(best_state)
        self.module_ = module.eval()
        return self

    def _train(self, module, optimizer, train, val, batch_size: int, params: dict, budget: TimeBudget,
               epoch_seconds: float) -> dict:
        """Epochs until patience runs out or the next epoch would overrun; returns the best epoch's
        weights (without validation rows: ``max_epochs`` epochs, the last one's weights)."""
        patience = Patience(int(params["patience"]))
        generator = torch.Generator().manual_seed(self.seed)
        best_state, self.history_ = None, []
        for epoch in range(int(params["max_epochs"])):
            if budget.remaining() < epoch_seconds:
                break
            start = time.perf_counter()
            order = torch.randperm(len(train[2]), generator=generator).to(train[2].device)
            train_loss = self._train_epoch(module, optimizer, train, order.split(batch_size), params["clip_norm"],
                                           budget)
            val_loss = None if val is None else self._validation_loss(self._forward_all(module, val[:2]), *val[2:])
            epoch_seconds = time.perf_counter() - start
            self.history_.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                                  "seconds": epoch_seconds})
            if val is None:  # a refit of fixed epochs: only the budget stops it, the last weights stay
                if budget.expired():
                    break
                continue
            if val_loss < patience.best_loss:
                best_state = copy.deepcopy(module.state_dict())
            if patience.update(epoch, val_loss) or budget.expired():
                break
        if not self.history_:
            raise ModelTimeout(f"TabM needs ~{epoch_seconds:.2f}s per epoch; the budget paid for none")
        if val is None:
            self.best_epoch_ = len(self.history_) - 1
            self.cut_short_ = len(self.history_) < int(params["max_epochs"])
            return module.state_dict()
        if best_state is None:
            raise RuntimeError(f"TabM did not train: the validation loss was never finite ({val_loss}).")
        self.best_epoch_ = patience.best_iteration
        return best_state

    @property
    def usable(self) -> bool:
        """A refit (no validation rows) that its budget stopped before its epochs is not kept."""
        return not getattr(self, "cut_short_", False)

    @classmethod
    def full_params(cls, params: dict, copies: list, scale: float) -> dict:
        """The copies' mean best epoch count, scaled by the rows: trained without validation rows."""
        epochs = max(1, int(round(np.mean([copy.best_epoch_ + 1 for copy in copies]) * scale)))
        return {**params, "max_epochs": epochs}

    @classmethod
    def refit_growth(cls, copies: list, scale: float) -> float:
        """The refit's epochs against those the copies trained (a loaded copy: its best ones)."""
        trained = np.mean([len(copy.history_) if hasattr(copy, "history_") else copy.best_epoch_ + 1
                           for copy in copies])
        return cls.full_params({}, copies, scale)["max_epochs"] / max(1.0, float(trained))

    def _predict(self, X: EncodedTable) -> np.ndarray:
        x_num, x_cat = self.inputs_.transform(X)
        device = self._predict_device()
        with torch_threads(min(self.threads_, self.n_threads)):
            self.module_.to(device)
            inputs = tuple(None if a is None else torch.as_tensor(a, device=device) for a in (x_num, x_cat))
            mean = self._average(self._forward_all(self.module_, inputs)).cpu().numpy()
        return self._as_output(mean if self.info.is_classification else mean * self.y_std_ + self.y_mean_)

    # ------------------------------------------------------------------ training
    @staticmethod
    def _bins(params: dict, x_num: torch.Tensor | None) -> list[np.ndarray] | None:
        """Bin edges of each number's piecewise-linear embedding (from the training rows)."""
        if x_num is None:
            return None
        with warnings.catch_warnings():
            # A two-valued column gets one bin, i.e. min-max scaling: expected, not a problem.
            warnings.filterwarnings("ignore", message=".*has just two bin edges")
            bins = compute_bins(x_num.cpu(), n_bins=min(int(params["n_bins"]), len(x_num) - 1))
        return [edges.numpy() for edges in bins]

    def _make_module(self, params: dict) -> TabM:
        embeddings = None
        if self.bins_ is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*has just two bin edges")
                embeddings = PiecewiseLinearEmbeddings([torch.as_tensor(b) for b in self.bins_],
                                                       int(params["d_embedding"]), activation=False, version="B")
        return TabM.make(
            n_num_features=0 if self.bins_ is None else len(self.bins_),
            cat_cardinalities=self.inputs_.cat_cardinalities_, d_out=self.info.n_outputs, num_embeddings=embeddings,
            k=int(params["k"]), n_blocks=int(params["n_blocks"]), d_block=int(params["d_block"]),
            dropout=float(params["dropout"]))

    def _train_epoch(self, module, optimizer, train, batches, clip_norm: float, budget: TimeBudget) -> float:
        """One pass over the rows; stops early when the budget ends mid-epoch. Returns the mean loss."""
        x_num, x_cat, y, weight = train
        module.train()
        total = 0.0
        for i, rows in enumerate(batches):
            loss = self._member_loss(self._forward(module, _take(x_num, rows), _take(x_cat, rows)), y[rows],
                                     _take(weight, rows))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Clipping reads the gradients, so it must come after backward().
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip_norm)
            optimizer.step()
            total += float(loss.detach())
            if budget.expired():
                break
        return total / (i + 1)

    def _seconds_per_epoch(self, module, train, batch_size: int, n_val: int) -> float:
        """Times forward + backward of a batch (without a step) to price an epoch before starting one.

        The first call pays for one-off allocations; of the next ``PROBE_CALLS``, the fastest prices
        the batch, so that one call stalled by the machine (a garbage collection, another process)
        does not price TabM out of the fit: on 201_pol one such call, 0.42 s against ~0.005 s,
        priced an epoch at 40 s and the table's best model was skipped. An estimate on the low
        side can overrun by at most the first epoch: ``_train`` prices the next by those it ran."""
        x_num, x_cat, y, _ = train
        rows = torch.arange(min(batch_size, len(y)), device=y.device)
        module.train()
        seconds = []
        for _ in range(1 + PROBE_CALLS):
            start = time.perf_counter()
            self._member_loss(self._forward(module, _take(x_num, rows), _take(x_cat, rows)), y[rows]).backward()
            seconds.append(time.perf_counter() - start)
        module.zero_grad(set_to_none=True)
        n_batches = -(-len(y) // batch_size)
        # Evaluating a row costs about a third of training on it (forward only, larger batches).
        return min(seconds[1:]) * (n_batches + n_val / batch_size / 3)

    def _member_loss(self, out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """The mean of the k members' losses, each row's weighted by ``weight``; out: (batch, k, outputs)."""
        out = out.float()
        if self.info.is_classification:
            losses = F.cross_entropy(out.flatten(0, 1), y.repeat_interleave(out.shape[1]), reduction="none")
            losses = losses.view(-1, out.shape[1])
        else:
            losses = (out[..., 0] - y[:, None]) ** 2
        return _weighted_mean(losses.mean(dim=1), weight)

    def _validation_loss(self, out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None) -> float:
        """The early-stopping loss: (weighted) log loss or squared error of the members' mean prediction."""
        mean = self._average(out)
        if self.info.is_classification:
            losses = F.nll_loss(torch.log(mean.clamp_min(1e-15)), y, reduction="none")
        else:
            losses = (mean[:, 0] - y) ** 2
        return float(_weighted_mean(losses, weight))

    def _average(self, out: torch.Tensor) -> torch.Tensor:
        """Mean of the members' probabilities (classification) or standardized outputs (regression)."""
        out = out.float()
        return out.softmax(dim=-1).mean(dim=1) if self.info.is_classification else out.mean(dim=1)

    @torch.no_grad()
    def _forward_all(self, module, inputs) -> torch.Tensor:
        """Members' outputs (n, k, outputs) for all rows, in prediction-sized batches."""
        x_num, x_cat = inputs
        module.eval()
        first = x_num if x_num is not None else x_cat
        rows = torch.arange(len(first), device=first.device).split(PREDICT_BATCH_SIZE[first.device.type])
        return torch.cat([self._forward(module, _take(x_num, r), _take(x_cat, r)).float() for r in rows])

    @staticmethod
    def _forward(module, x_num, x_cat) -> torch.Tensor:
        # bf16 on the GPU (TabM's reference setting); the CPU stays in float32, where bf16 is slower.
        on_cuda = (x_num if x_num is not None else x_cat).is_cuda
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
            return module(x_num, x_cat)

    def _tensors(self, X: EncodedTable, y: np.ndarray, weight: np.ndarray | None, device) -> tuple:
        """(numbers, categories, target, row weights or None) as tensors on ``device``."""
        x_num, x_cat = self.inputs_.transform(X)
        if self.info.is_classification:
            target = torch.as_tensor(y, dtype=torch.long)
        else:
            target = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)
        return (None if x_num is None else torch.as_tensor(x_num, device=device),
                None if x_cat is None else torch.as_tensor(x_cat, device=device), target.to(device),
                None if weight is None else torch.as_tensor(weight, dtype=torch.float32, device=device))

    def _predict_device(self) -> torch.device:
        # A model trained on a GPU predicts on the CPU where there is none.
        return torch.device("cuda" if self.device == "cuda" and torch.cuda.is_available() else "cpu")

    # ------------------------------------------------------------------ saving
    def fitted_state(self) -> dict:
        """Weights as arrays (no torch.load on reading), with what rebuilds the network around them."""
        state = {"inputs": self.inputs_.get_state(), "bins": self.bins_, "threads": self.threads_,
                 "best_epoch": getattr(self, "best_epoch_", None),
                 "weights": {name: tensor.detach().cpu().numpy() for name, tensor in self.module_.state_dict().items()}}
        if not self.info.is_classification:
            state["target"] = [self.y_mean_, self.y_std_]
        return state

    def restore(self, fitted: dict) -> None:
        self.inputs_ = TabMInputs.from_state(fitted["inputs"])
        self.bins_, self.threads_ = fitted["bins"], fitted["threads"]
        if fitted.get("best_epoch") is not None:  # folders saved before it was kept have none: no refit
            self.best_epoch_ = fitted["best_epoch"]
        if "target" in fitted:
            self.y_mean_, self.y_std_ = fitted["target"]
        module = self._make_module(self._params(self.params, self.device))
        module.load_state_dict({name: torch.from_numpy(np.asarray(w)) for name, w in fitted["weights"].items()})
        self.module_ = module.eval()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if "module_" in state:
            buffer = io.BytesIO()
            torch.save(state["module_"], buffer)
            state["module_"] = buffer.getvalue()
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state.get("module_"), bytes):
            # map_location: tensors saved on a GPU load on a CPU-only machine.
            state["module_"] = torch.load(io.BytesIO(state["module_"]), map_location="cpu", weights_only=False)
        self.__dict__.update(state)


def _parameter_groups(module: TabM, weight_decay: float) -> list[dict]:
    """Weight decay on weights only: biases and the numeric embeddings are left free."""
    embedding_ids = {id(p) for p in module.num_module.parameters()} if module.num_module is not None else set()
    free = [p for name, p in module.named_parameters() if name.endswith("bias") or id(p) in embedding_ids]
    free_ids = {id(p) for p in free}
    decayed = [p for p in module.parameters() if id(p) not in free_ids]
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": free, "weight_decay": 0.0}]


# torch's thread count and random generator are process-wide: one TabM call uses them at a time.
_TORCH_STATE = threading.Lock()


@contextmanager
def torch_threads(n_threads: int):
    """torch's intra-op thread count set to ``n_threads`` for one fit or prediction, then put back.
    Calls from several threads (fold copies predicting side by side) take turns, so none runs on
    another's setting, and nothing is left changed for the rest of the process."""
    with _TORCH_STATE:
        previous = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _weighted_mean(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    return values.mean() if weight is None else (values * weight).sum() / weight.sum().clamp_min(1e-12)


def _n_distinct(column: np.ndarray) -> int:
    return len(np.unique(column[~np.isnan(column)]))


def _take(x: torch.Tensor | None, rows: torch.Tensor) -> torch.Tensor | None:
    return None if x is None else x[rows]
