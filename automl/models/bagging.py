"""BaggedModel: one copy of a model per fold of the FoldPlan.

Each copy trains on its fold's training rows and predicts the held-out rows, which gives the
out-of-fold (OOF) predictions of the whole training set. Families that early-stop get an inner
split of the training rows, so no copy ever looks at the rows it predicts out of fold.

Threads are spent where they pay (``thread_plan``, the one place that decides): small tables train
several folds at once on one thread each, since a single small model cannot keep two cores busy;
large tables train one fold at a time on every thread. Fold copies are seeded by their fold
number, so the result does not depend on which thread ran what.

Any-time families (boosting) are priced before they train: a short probe on fold 0 times a
round, and a configuration whose rounds the budget cannot pay for is adapted (``_adapt``):
fewer copies on groups of folds, fewer rounds at a higher learning rate. A fold that its budget
stops keeps the rounds (or a forest's trees) it has when they are usable; only an unusable fold
abandons the model.
"""
from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..budget import TimeBudget
from ..calibration import NONE as NO_CALIBRATION, Calibration, normalized
from ..data.encoder import EncodedTable
from ..data.training import TrainingData
from ..folds import INNER_FRACTION, FoldPlan
from ..persistence import read_state, write_atomic_folder, write_state
from ..schedule import SCHEDULE, Schedule
from .base import Model, ModelConfig, ModelTimeout, TaskInfo
from .executor import LOCAL, FoldJob, LocalExecutor, RayExecutor, train_copy
from .registry import get_family

# Below this many training cells (rows x features) per extra thread, a model's own threads cost
# more than they give: thread start-up and barriers dominate small fits, and spinning OpenMP pools
# slowed a 300-row LightGBM fit 20x on a busy machine. Such models run on one thread each.
MIN_CELLS_PER_EXTRA_THREAD = 500_000
# Below this many cells to predict, fold copies predict one after another: starting threads cost
# more than they give (spambase, 57 columns, 12 copies: 1 row 20 -> 14 ms and 100 rows 50 -> 42 ms
# one after another; 1,151 rows 341 -> 267 ms side by side).
MIN_CELLS_FOR_COPIES_SIDE_BY_SIDE = 20_000

# The probe's price of predicting a round, times this (see ``_adapt``).
PREDICT_SAFETY = 2.0
# A saved bag is ``bag.json`` + ``bag.npz`` + its copies' native model files in one folder.
BAG = "bag"


def thread_plan(n_threads: int, n_cells: int, parallel_folds: bool, n_folds: int) -> tuple[int, int]:
    """``(folds trained at once, threads per fold model)`` for a model given ``n_threads`` threads.

    Families that are not ``parallel_folds`` (their results would depend on which thread ran
    first) train one fold at a time on all threads.
    """
    if not parallel_folds:
        return 1, n_threads
    per_model = max(1, min(n_threads, n_cells // MIN_CELLS_PER_EXTRA_THREAD))
    return max(1, min(n_folds, n_threads // per_model)), per_model


class BaggedModel:
    def __init__(self, config: ModelConfig, info: TaskInfo, seed: int, n_threads: int, device: str = "cpu"):
        self.config = config
        self.info = info
        self.seed = seed
        self.n_threads = n_threads
        self.device = device
        self.save_seconds_ = 0.0  # what the last ``save`` took (0 until one): a refit saves the bag again

    def fit(self, data: TrainingData, plan: FoldPlan, budget: TimeBudget, schedule: Schedule = SCHEDULE,
            executor: LocalExecutor | RayExecutor = LOCAL,
            targets_for: Callable[[list[int]], TrainingData] | None = None) -> np.ndarray:
        """Trains one copy per fold (per group of folds for families that ask for fewer copies) and
        returns the OOF predictions, shape (n_rows, n_outputs). ``executor`` runs the fold jobs.

        ``targets_for(folds)``: the rows, targets and weights that the copy holding out those folds
        of ``plan`` learns, laid out as ``data`` (a distilled student's, each copy's from a teacher
        that never saw its folds); None: ``data`` for every copy."""
        family = get_family(self.config.family)
        family.prepare()
        self.params_, self.adapted_ = self.config.params, ""
        # The map its probabilities go through (automl.calibration.calibrate_member): set after
        # the fit, by the training step that knows the metric.
        self.calibration_: Calibration = NO_CALIBRATION
        self.train_share_ = 1.0  # of a fold's time, its training's (the rest: predicting its held-out rows)
        n_folds = plan.n_folds

        def data_of(copy: int, n_copies: int) -> TrainingData:
            held = [k for k in range(n_folds) if k * n_copies // n_folds == copy]  # FoldPlan.grouped's rule
            return data if targets_for is None else targets_for(held)

        plan = plan.grouped(family.fold_copies(self.config.options, self.device, plan.n_folds))
        # A GPU model's host side needs no thread pool beyond its own.
        parallel = family.parallel_folds and not (family.supports_gpu and self.device == "cuda")
        workers, threads = thread_plan(self.n_threads, len(data) * data.X.n_features, parallel, plan.n_folds)
        workers = executor.workers(workers, threads, plan.n_folds)
        self.workers_ = workers  # copies trained side by side
        # BLAS and OpenMP pools inside scikit-learn follow the same thread count.
        with threadpool_limits(limits=threads), ThreadPoolExecutor(workers) as pool:
            if family.anytime and budget.limited:
                plan = self._adapt(family, data_of(0, plan.n_folds), plan, budget, workers, threads, schedule)
            return self._fit_folds(family, data_of, plan, budget, pool, workers, threads, schedule, executor)

    def _adapt(self, family, data: TrainingData, plan: FoldPlan, budget: TimeBudget, workers: int, threads: int,
               schedule: Schedule) -> FoldPlan:
        """Prices a round on a probe and returns the plan of copies to train; sets ``params_``
        and ``adapted_`` (what changed, for the log and the leaderboard)."""
        probe_params = {**self.config.params, "max_rounds": schedule.probe_rounds}
        train, held_out = plan.split(0)
        probe = train_copy(self._job(0, train, held_out, threads, probe_params, self.config.options), data, budget)
        rounds = probe.rounds_
        started = time.perf_counter()
        probe.predict(data.X.take(held_out))
        # A fold predicts its held-out rows after its rounds, inside its share of the time: its
        # rounds may take the part of the share that leaves room for predicting them (letter, 26
        # classes: predicting a fold took 1.5-4.7 s, 20-30% of the fold, and every fold overran).
        # The probe's 10 rounds priced prediction at ~0.6x of what 500 rounds cost per round
        # (letter), hence PREDICT_SAFETY; the folds after the first wave use the measured ratio.
        predict_per_round = PREDICT_SAFETY * (time.perf_counter() - started) / max(rounds.done, 1)
        self.train_share_ = 1.0 / (1.0 + predict_per_round / rounds.seconds_per_round())
        probe_rows = len(data) * (plan.n_folds - 1) / plan.n_folds

        def affordable_rounds(copies: int) -> float:
            """Rounds one copy can pay for when ``copies`` copies share what is left (a round's
            cost grows with the rows a copy trains on)."""
            scale = (copies - 1) / copies * len(data) / probe_rows
            return schedule.affordable_rounds(budget.remaining() * self.train_share_, copies, workers,
                                              rounds.setup_seconds() * scale, rounds.seconds_per_round() * scale)

        params, copies, note = family.adapt(self.config.params, plan.n_folds, affordable_rounds)
        self.params_, self.adapted_ = params, note
        return plan.grouped(copies)

    def _fit_folds(self, family, data_of, plan, budget, pool, workers, threads, schedule, executor) -> np.ndarray:
        """Trains the folds on ``workers`` threads (copy k on ``data_of(k, copies)``); each fold, as it
        starts, gets an equal share of what is left, counted in rounds of ``workers`` folds."""
        folds = list(plan)
        data = data_of(0, plan.n_folds)
        fold_seconds: list[float] = []  # wall seconds of each finished fold
        trained, predicted = [], []  # seconds of each finished any-time fold's training, its prediction
        # Copies after the first wave: the first decided that the configuration fits its time.
        later_options = family.later_copy_options(self.config.options, self.device)
        # A fold that failed dooms the bag: the folds after it do not start. (The pool starts the
        # next fold as soon as a worker is free, before the failure reaches this thread: TabM's
        # second copy trained for 2.1 s after its first had refused, on spambase at 30 s.)
        failed = threading.Event()

        def fit_fold(k: int):
            if failed.is_set():
                raise ModelTimeout(f"fold {k} not started: an earlier fold failed")
            try:
                return train_fold(k)
            except BaseException:
                failed.set()
                raise

        def train_fold(k: int):
            # The pool starts folds in order, ``workers`` at a time: this fold's wave and those
            # after it are left. (Counting the folds left from k instead gave fold 1 of 5 on two
            # workers half the time and fold 4 a seventh: letter, 4-15 s per fold of a 30 s bag.)
            waves_left = math.ceil(len(folds) / workers) - k // workers
            if budget.expired():
                raise ModelTimeout(f"time ran out after {len(fold_seconds)} of {plan.n_folds} folds")
            needed = schedule.projected_seconds(fold_seconds, waves_left)
            # A fold cut short by its share keeps its rounds or trees: no need to give up early.
            if not family.keeps_partial and schedule.hopeless(needed, budget.remaining()):
                raise ModelTimeout(f"{len(folds) - k} folds left would need ~{needed:.0f}s, "
                                   f"{budget.remaining():.0f}s remain")
            t = time.perf_counter()
            share = budget.share(waves_left)
            options = self.config.options if k < workers else later_options
            job = self._job(k, *folds[k], threads, self.params_, options, self.train_share_)
            model, prediction, seconds = executor.fit_fold(job, data_of(k, plan.n_folds), share)
            if not model.usable:
                raise ModelTimeout(f"fold {k}, stopped by its {share.elapsed():.1f}s budget, learned nothing usable")
            fold_seconds.append(time.perf_counter() - t)
            if family.anytime and budget.limited:
                trained.append(fold_seconds[-1] - seconds)
                predicted.append(seconds)
                self.train_share_ = sum(trained) / (sum(trained) + sum(predicted))
            return model, folds[k][1], prediction, seconds

        start = time.perf_counter()
        jobs = [pool.submit(fit_fold, k) for k in range(len(folds))]
        try:
            results = [job.result() for job in jobs]
        except BaseException:
            pool.shutdown(cancel_futures=True)  # folds not started yet are dropped
            raise
        oof = np.zeros((len(data), self.info.n_outputs), dtype=np.float32)
        for _, held_out, prediction, _ in results:
            oof[held_out] = prediction
        self.models_: list[Model] = [model for model, *_ in results]
        self.full_: Model | None = None  # one copy refitted on all rows (``refit``)
        # Rows a copy fitted on (its fold's training rows, less the early-stopping rows).
        self.copy_fit_rows_ = float(np.mean([len(train) for train, _ in folds])) * \
            (1 - INNER_FRACTION if family.uses_validation else 1.0)
        predict_seconds = sum(seconds for *_, seconds in results)
        # Prediction ran inside the folds, ``workers`` at a time.
        self.fit_seconds_ = time.perf_counter() - start - predict_seconds / workers
        # Seconds to predict 1,000 rows with all fold copies (each copy saw ~1/k of the rows).
        self.predict_seconds_per_1k_ = predict_seconds * plan.n_folds * 1000.0 / len(data)
        return oof

    def _job(self, k: int, train: np.ndarray, held_out: np.ndarray, threads: int, params: dict, options: dict,
             train_share: float = 1.0) -> FoldJob:
        """Fold ``k``'s copy as a job, seeded by its fold number."""
        return FoldJob(self.config.family, params, options, self.info, self.seed + k, threads, self.device, train,
                       held_out, train_share)

    def refit_cost(self, n_rows: int) -> float:
        """Expected seconds to refit on ``n_rows`` rows and save the bag with it: one wave of
        copies' share of the bag's fit (``workers_`` copies trained side by side), scaled by the
        rows and by the size the refit trains against the copies' (``refit_growth``: rounds,
        epochs), and the last save's seconds with one more copy's share, scaled likewise. (By the
        rows alone, a CatBoost refit on 200,000 rows whose copies stopped at their best round took
        14.1 s priced at 7.0; counting its rounds, 10.1. Per copy
        instead, two copies side by side were priced at half their time: manyclass_30, a refit
        priced at 4 s outlasted its 7 s. Without the save, 201_pol at 120 s: lightgbm_007's five
        copies, 2,100-2,400 rounds of 252 leaves, are 260 MB of text that took 5 s to save, and the
        refit step took 30 s where 18 s were priced, ending the fit 11 s past its limit.)"""
        waves = math.ceil(len(self.models_) / self.workers_)
        scale = n_rows / self.copy_fit_rows_
        growth = scale * get_family(self.config.family).refit_growth(self.models_, scale)
        return self.fit_seconds_ / waves * growth + self.save_seconds_ * (1 + growth / len(self.models_))

    def refit(self, data: TrainingData, budget: TimeBudget) -> None:
        """Trains one copy on all rows (``full_``), which then predicts alone instead of the fold copies.

        Families that early-stop train the rounds / epochs their copies stopped at, scaled by the
        rows (all of them, against the ~(k-1)/k x 0.9 a copy fitted on), with no rows held back:
        the copies' early stopping already chose the size honestly. The OOF predictions stay the
        copies', so the ensemble fitted on them is unchanged.
        """
        family = get_family(self.config.family)
        params = family.full_params(self.params_, self.models_, len(data) / self.copy_fit_rows_)
        _, threads = thread_plan(self.n_threads, len(data) * data.X.n_features, True, 1)  # a small table: one thread
        with threadpool_limits(limits=threads):
            model = family(params, self.info, seed=self.seed, n_threads=threads, device=self.device,
                           options=self.config.options)
            model.fit(data.X, data.y, budget=budget,
                      sample_weight=data.sample_weight if family.uses_weights else None, groups=data.groups)
        if not model.usable:
            raise ModelTimeout(f"the refit of {self.config.name}, stopped by its budget, learned nothing usable")
        self.full_ = model

    def discard_refit(self) -> None:
        """Back to predicting with the fold copies (a refit that could not be saved)."""
        self.full_ = None

    # ------------------------------------------------------------------ saving (automl.persistence)
    def get_state(self) -> dict:
        return {"config": {"name": self.config.name, "family": self.config.family, "params": self.config.params,
                           "options": self.config.options},
                "task": self.info.task, "n_classes": self.info.n_classes, "seed": self.seed,
                "n_threads": self.n_threads, "device": self.device, "params": self.params_, "adapted": self.adapted_,
                "fit_seconds": self.fit_seconds_, "predict_seconds_per_1k": self.predict_seconds_per_1k_,
                "copy_fit_rows": self.copy_fit_rows_, "workers": self.workers_,
                "calibration": self.calibration_.get_state(),
                "copies": [model.get_state() for model in self.models_],
                "full": None if self.full_ is None else self.full_.get_state()}

    @classmethod
    def from_state(cls, state: dict) -> "BaggedModel":
        config = ModelConfig(state["config"]["name"], state["config"]["family"], state["config"]["params"],
                             state["config"].get("options", {}))
        bag = cls(config, TaskInfo(state["task"], state["n_classes"]), state["seed"], state["n_threads"],
                  state["device"])
        family = get_family(config.family)  # the only class a bag's copies can be
        bag.models_ = [family.from_state(copy) for copy in state["copies"]]
        bag.full_ = None if state["full"] is None else family.from_state(state["full"])
        bag.copy_fit_rows_ = state["copy_fit_rows"]
        bag.workers_ = state.get("workers", 1)  # folders saved before it was kept
        bag.calibration_ = Calibration.from_state(state.get("calibration", NO_CALIBRATION.get_state()))
        bag.params_, bag.adapted_ = state["params"], state["adapted"]
        bag.fit_seconds_, bag.predict_seconds_per_1k_ = state["fit_seconds"], state["predict_seconds_per_1k"]
        return bag

    def save(self, folder: Path) -> None:
        """Writes the bag to ``folder`` as a whole (a temporary folder renamed): a kill leaves it or nothing."""
        start = time.perf_counter()
        write_atomic_folder(Path(folder), lambda temporary: write_state(temporary, BAG, self.get_state()))
        self.save_seconds_ = time.perf_counter() - start

    @classmethod
    def load(cls, folder: Path) -> "BaggedModel":
        return cls.from_state(read_state(Path(folder), BAG))

    @staticmethod
    def saved_config(folder: Path) -> dict | None:
        """The configuration of the bag saved in ``folder`` (None if there is none), without loading it."""
        path = Path(folder) / f"{BAG}.json"
        return json.loads(path.read_text())["config"] if path.exists() else None

    def predict_out_of_fold(self, X: EncodedTable, fold_of: np.ndarray, n_folds: int) -> np.ndarray:
        """Rows of the training table, each predicted by the fold copy that never saw it (fold k of
        the shared ``n_folds``-fold plan went to copy k x copies // n_folds, ``FoldPlan.grouped``):
        what ``fit`` stored as OOF predictions, now for changed rows (a permuted column)."""
        copy_of = np.asarray(fold_of) * len(self.models_) // n_folds
        out = np.zeros((len(X), self.info.n_outputs), dtype=np.float32)
        for c in np.unique(copy_of):
            rows = np.flatnonzero(copy_of == c)
            out[rows] = self.models_[c].predict(X.take(rows))
        return self._calibrated(out)

    def predict(self, X: EncodedTable, n_threads: int | None = None, fold_copies: bool = False) -> np.ndarray:
        """The refitted copy's predictions, or (none, or ``fold_copies``) the mean of the fold
        copies', on ``n_threads`` threads (None: those the bag trained with; a loaded bag is given
        this machine's).

        Threads follow ``thread_plan``, as in training: few rows are predicted on one thread per
        copy, copies side by side (a single row on two spinning OpenMP threads took 12 ms in
        LightGBM and 24 ms in XGBoost on a busy machine, 0.03 and 0.1 ms on one), the fewest one
        copy after another; many rows on every thread, a copy at a time. The sum runs in copy
        order, so the result does not depend on which thread finished first.
        """
        copies = self.models_ if self.full_ is None or fold_copies else [self.full_]
        workers, threads = thread_plan(n_threads or self.n_threads, len(X) * X.n_features, True, len(copies))
        for model in copies:  # a setting, not fitted state: the threads its next call may use
            model.n_threads = threads  # (no threadpool_limits here: it reads /proc/self/maps, 3 ms a call)
        if workers == 1 or len(X) * X.n_features < MIN_CELLS_FOR_COPIES_SIDE_BY_SIDE:
            outputs = [model.predict(X) for model in copies]
        else:
            with ThreadPoolExecutor(workers) as pool:
                outputs = list(pool.map(lambda model: model.predict(X), copies))
        if len(outputs) == 1:
            return self._calibrated(outputs[0])
        total = outputs[0].astype(np.float64)
        for output in outputs[1:]:
            total += output
        return self._calibrated((total / len(outputs)).astype(np.float32))

    def _calibrated(self, output: np.ndarray) -> np.ndarray:
        if self.calibration_ == NO_CALIBRATION:  # equal, not the same object, once loaded
            return output
        return self.calibration_.apply(normalized(output)).astype(np.float32)
