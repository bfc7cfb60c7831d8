"""The ``auto`` ensemble: an Optuna study over strategies, their settings and model pools.

Honest validation, in three parts:
1. A guard slice (15% of the OOF rows, stratified) never enters the study.
2. Each trial is scored by cross-fitting over the remaining rows: fit on 4 of 5 fixed inner
   folds (the same for every trial), score the fifth, report per fold so Optuna's Wilcoxon
   pruner can stop trials that lose to the best fold by fold.
3. The best trial of each strategy is refitted on all study rows and scored on the guard
   slice. Among strategies within noise of the best cross-fitted loss (one standard error of
   the fold-wise difference), the simplest and sparsest wins; it replaces GES only if it also
   beats GES on the guard slice. The winner is then refitted on all OOF rows.

The first trials are enqueued defaults (single best, GES 25, GES 50); the sampler is seeded,
multivariate TPE. Stacking's next-layer models are trained once per search on the study rows
(their OOF predictions become extra candidates for GES on top), not once per trial.
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from .budget import TimeBudget
from .ensemble import STRATEGIES
from .ensemble.base import EnsembleStrategy
from .ensemble.greedy import GreedyEnsemble
from .ensemble.mixture_loss import MixtureLoss
from .ensemble.pool import Pooled, select_pool
from .ensemble.stacking import StackingEnsemble
from .metrics import Metric
from .store import PredictionStore

log = logging.getLogger("automl")

GUARD_SHARE, INNER_FOLDS = 0.15, 5
# Below this many OOF rows the guard slice and inner folds are too small to tell strategies apart.
MIN_SEARCH_ROWS = 100
# Share of the search budget kept for the guard comparison and the final refit.
FINAL_SHARE = 0.3
# Share of the search budget stacking's next-layer models may take.
STACKING_SHARE = 0.4
# Simpler strategies first: among trials within noise of the best, the first in this order wins.
SIMPLICITY = ("best", "ges", "cmaes", "qo", "qdo", "des", "stacking")
# Cost guards: stacking's next layer reads rows x models x outputs inputs, DES searches neighbours
# among all rows; above these sizes one trial would take minutes, so they are left out.
MAX_STACKING_CELLS, MAX_DES_ROWS = 20_000_000, 50_000
DEFAULT_TRIALS = ({"strategy": "best"}, {"strategy": "ges", "ges_iterations": 25},
                  {"strategy": "ges", "ges_iterations": 50})


@dataclass
class SearchResult:
    strategy: EnsembleStrategy  # fitted on all OOF rows
    report: pd.DataFrame  # one row per strategy tried
    trace: list[dict] = field(default_factory=list)  # one entry per trial

    def save_trace(self, path) -> None:
        payload = {"trials": self.trace, "report": self.report.to_dict(orient="records")}
        with open(path, "w") as f:
            json.dump(payload, f, indent=1, default=str)


def search_ensemble(store: PredictionStore, metric: Metric, budget: TimeBudget, *, seed: int = 0,
                    n_trials: int = 50, n_threads: int = 1) -> SearchResult:
    """Runs the study on ``store`` within ``budget`` and returns the winner fitted on all rows."""
    if len(store.y) < MIN_SEARCH_ROWS:
        return _plain_ges(store, metric, seed, [], f"fewer than {MIN_SEARCH_ROWS} rows: no search")
    return _Search(store, metric, seed, n_threads).run(budget, n_trials)


def _plain_ges(store: PredictionStore, metric: Metric, seed: int, trace: list, reason: str) -> SearchResult:
    """GES 50 on every model and row: the fallback when the search cannot decide."""
    log.info("Ensemble search: %s; using GES.", reason)
    strategy = GreedyEnsemble(metric, store.task, seed).fit(store.oof, store.y)
    report = pd.DataFrame([{"strategy": "ges", "chosen": True, "reason": reason}])
    return SearchResult(strategy, report, trace)


class _Search:
    def __init__(self, store: PredictionStore, metric: Metric, seed: int, n_threads: int):
        self.store, self.metric, self.seed, self.n_threads = store, metric, seed, n_threads
        self.task, self.y, self.oof = store.task, store.y, store.oof
        self.families = [r.family for r in store.records]
        rows = np.arange(len(self.y))
        stratify = self.y if self.task != "regression" and np.bincount(self.y).min() >= 2 else None
        self.study_rows, self.guard_rows = (np.sort(part) for part in train_test_split(
            rows, test_size=GUARD_SHARE, random_state=seed, stratify=stratify))
        y_study = self.y[self.study_rows]
        splitter = StratifiedKFold if stratify is not None and np.bincount(y_study).min() >= INNER_FOLDS else KFold
        self.folds = [(self.study_rows[a], self.study_rows[b]) for a, b in splitter(
            INNER_FOLDS, shuffle=True, random_state=seed).split(y_study, y_study)]
        self.single_losses = MixtureLoss(metric, self.oof[:, self.study_rows], y_study).of_each_model()
        self.stacked = None  # layer-1 + layer-2 OOF columns for every row, trained on study rows
        too_costly = {"stacking": self.oof.size > MAX_STACKING_CELLS, "des": len(self.y) > MAX_DES_ROWS}
        self.strategies = [name for name in SIMPLICITY if not too_costly.get(name, False)]
        self.trace: list[dict] = []

    # ------------------------------------------------------------------ the study
    def run(self, budget: TimeBudget, n_trials: int) -> SearchResult:
        study_budget = budget.sub(budget.remaining() * (1 - FINAL_SHARE)) if budget.limited else budget
        self.stacking_seconds = study_budget.remaining() * STACKING_SHARE if budget.limited else None
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, group=True)
                study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.WilcoxonPruner(p_threshold=0.1))
            for params in DEFAULT_TRIALS:
                study.enqueue_trial(params)
            study.optimize(lambda trial: self._objective(trial, study_budget), n_trials=n_trials,
                           timeout=study_budget.remaining() if study_budget.limited else None,
                           catch=(Exception,))
        finally:
            optuna.logging.set_verbosity(verbosity)
        return self._choose(budget)

    def _objective(self, trial: optuna.Trial, budget: TimeBudget) -> float:
        start = time.perf_counter()
        name, params, pool = self._suggest(trial)
        entry = {"trial": trial.number, "strategy": name, "params": params, "pool": pool.tolist(),
                 "fold_losses": [], "state": "complete"}
        self.trace.append(entry)
        try:
            for step, (train, held) in enumerate(self.folds):
                if budget.expired():
                    raise optuna.TrialPruned("search time is up")
                fold_budget = budget.sub(budget.remaining() / (len(self.folds) - step)) if budget.limited else None
                strategy = self._make(name, params, pool).fit(*self._inputs(name, train),
                                                              **self._store_info(train, fold_budget))
                predictions, y_held, features = self._inputs(name, held)
                loss = self.metric.loss(y_held, strategy.predict(predictions, features))
                entry["fold_losses"].append(loss)
                trial.report(loss, step)
                if trial.number >= len(DEFAULT_TRIALS) and trial.should_prune():  # defaults always finish
                    raise optuna.TrialPruned()
        except optuna.TrialPruned:
            entry["state"] = "pruned"
            raise
        except Exception as exc:  # a failing strategy is logged and skipped, like a failing model
            entry["state"] = f"failed: {type(exc).__name__}: {exc}"
            log.warning("Ensemble search: trial %d (%s) failed: %s", trial.number, name, exc)
            raise
        finally:
            entry["seconds"] = time.perf_counter() - start
        entry["cv_loss"] = float(np.mean(entry["fold_losses"]))
        return entry["cv_loss"]

    def _suggest(self, trial: optuna.Trial) -> tuple[str, dict, np.ndarray]:
        name = trial.suggest_categorical("strategy", self.strategies)
        params: dict = {}
        if name in ("ges", "stacking"):
            params["n_iterations"] = trial.suggest_int("ges_iterations", 25, 100, step=25)
        if name == "ges":
            params["sorted_init"] = trial.suggest_categorical("ges_sorted_init", [0, 3, 5])
        if name == "des":
            params["k"] = trial.suggest_categorical("des_k", [5, 7, 11, 15])
            params["space"] = trial.suggest_categorical("des_space", ["features", "predictions"])
            if self.task != "regression":
                params["method"] = trial.suggest_categorical("des_method", ["knora_e", "knora_u"])
        if name in ("best", "stacking"):  # stacking's next layer is trained once, on every model
            return name, params, np.arange(len(self.oof))
        # DES runs every pool model on every row and searches neighbours among their outputs: small pools.
        top_k = trial.suggest_categorical("des_top_k" if name == "des" else "pool_top_k",
                                          [5, 10] if name == "des" else [0, 5, 10, 20])
        family_cap = trial.suggest_categorical("pool_family_cap", [0, 1, 2, 3])
        pool = select_pool(self.single_losses, self.families, top_k or None, family_cap or None)
        return name, params, pool

    # ------------------------------------------------------------------ fitting pieces
    def _make(self, name: str, params: dict, pool: np.ndarray) -> EnsembleStrategy:
        if name == "stacking":  # GES on top of the precomputed layer-1 + layer-2 columns
            return GreedyEnsemble(self.metric, self.task, self.seed, n_threads=self.n_threads, **params)
        return Pooled(STRATEGIES[name](self.metric, self.task, self.seed, n_threads=self.n_threads, **params), pool)

    def _inputs(self, name: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, object]:
        """(predictions, targets, features) of ``rows`` as the strategy ``name`` reads them."""
        features = None if self.store.features is None else self.store.features.take(rows)
        columns = self._stacked_columns() if name == "stacking" else self.oof
        return columns[:, rows], self.y[rows], features

    def _store_info(self, rows: np.ndarray, budget: TimeBudget | None) -> dict:
        return {"fold_of": self.store.fold_of[rows], "records": self.store.records, "budget": budget}

    def _stacked_columns(self) -> np.ndarray:
        if self.stacked is None:
            stack = StackingEnsemble(self.metric, self.task, self.seed, models=("linear", "lightgbm"),
                                     guard=False, n_threads=self.n_threads)
            rows = self.study_rows
            features = self.store.features
            budget = TimeBudget(self.stacking_seconds)
            study_columns = stack.fit_layers(self.oof[:, rows], self.y[rows], _take(features, rows),
                                             self.store.fold_of[rows], budget)
            self.stacked = np.zeros((len(study_columns), len(self.y), self.oof.shape[2]), dtype=np.float32)
            self.stacked[:, rows] = study_columns
            self.stacked[:, self.guard_rows] = stack.transform(self.oof[:, self.guard_rows],
                                                              _take(features, self.guard_rows))
        return self.stacked

    # ------------------------------------------------------------------ the decision
    def _choose(self, budget: TimeBudget) -> SearchResult:
        done = [e for e in self.trace if e["state"] == "complete"]
        best_of = {}
        for entry in sorted(done, key=lambda e: e["cv_loss"]):
            best_of.setdefault(entry["strategy"], entry)
        if "ges" not in best_of:  # time ran out before GES finished: nothing to compare with
            return _plain_ges(self.store, self.metric, self.seed, self.trace, "no GES trial finished in time")
        reference = min(done, key=lambda e: e["cv_loss"])
        rows = []
        for name, entry in best_of.items():
            difference = np.subtract(entry["fold_losses"], reference["fold_losses"])
            noise = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else 0.0
            guard_loss, seconds_per_1k, n_used = self._guard_score(entry, budget)
            rows.append({"strategy": name, "trial": entry["trial"], "params": entry["params"],
                         "pool_size": len(entry["pool"]), "cv_score": self._score(entry["cv_loss"]),
                         "guard_score": self._score(guard_loss), "models_used": n_used,
                         "predict_seconds_per_1k": seconds_per_1k,
                         "within_noise": bool(difference.mean() <= noise + 1e-12), "_guard_loss": guard_loss})
        report = pd.DataFrame(rows)
        report["_simplicity"] = report["strategy"].map(SIMPLICITY.index)
        close = report[report["within_noise"]].sort_values(["_simplicity", "models_used", "cv_score"],
                                                           ascending=[True, True, not self.metric.greater_is_better])
        challenger = close.iloc[0]
        ges = report[report["strategy"] == "ges"].iloc[0]
        if challenger["strategy"] == "ges" or challenger["_guard_loss"] <= ges["_guard_loss"]:
            winner, reason = challenger, (
                "simplest within noise of the best cross-fitted score" + (
                    "" if challenger["strategy"] == "ges" else ", and at least as good as GES on the guard slice"))
        else:
            winner, reason = ges, (f"{challenger['strategy']} was the simplest within noise of the best "
                                   "but lost to GES on the guard slice")
        report["chosen"] = report["strategy"] == winner["strategy"]
        report["reason"] = np.where(report["chosen"], reason, "")
        entry = next(e for e in self.trace if e["trial"] == winner["trial"])
        strategy = self._final(entry, budget)
        log.info("Ensemble search: %d trials, chose %s (%s).", len(self.trace), winner["strategy"], reason)
        report = report.drop(columns=["_simplicity", "_guard_loss"]).sort_values(
            "cv_score", ascending=not self.metric.greater_is_better, ignore_index=True)
        return SearchResult(strategy, report, self.trace)

    def _guard_score(self, entry: dict, budget: TimeBudget) -> tuple[float, float, int]:
        """(guard loss, seconds per 1,000 rows at predict time, models used) of a trial refitted on study rows."""
        name = entry["strategy"]
        strategy = self._make(name, entry["params"], np.array(entry["pool"])).fit(
            *self._inputs(name, self.study_rows), **self._store_info(self.study_rows, budget.sub(None)))
        predictions, y, features = self._inputs(name, self.guard_rows)
        start = time.perf_counter()
        guarded = strategy.predict(predictions, features)
        combine = time.perf_counter() - start
        used = np.arange(len(self.oof)) if name == "stacking" else strategy.used_models  # all feed layer 2
        model_seconds = sum(self.store.records[j].predict_seconds_per_1k for j in used)
        return (self.metric.loss(y, guarded), model_seconds + combine * 1000 / len(self.guard_rows), len(used))

    def _final(self, entry: dict, budget: TimeBudget) -> EnsembleStrategy:
        """The winner refitted on all OOF rows."""
        everything = np.arange(len(self.y))
        if entry["strategy"] == "stacking":
            strategy = StackingEnsemble(self.metric, self.task, self.seed, models=("linear", "lightgbm"),
                                        guard=False, n_threads=self.n_threads, **entry["params"])
            return strategy.fit(self.oof, self.y, self.store.features, fold_of=self.store.fold_of,
                                budget=budget.sub(None))
        strategy = self._make(entry["strategy"], entry["params"], np.array(entry["pool"]))
        return strategy.fit(*self._inputs(entry["strategy"], everything),
                            **self._store_info(everything, budget.sub(None)))

    def _score(self, loss: float) -> float:
        return -loss if self.metric.greater_is_better else loss


def _take(features, rows):
    return None if features is None else features.take(rows)
