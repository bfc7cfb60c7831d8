"""Greedy forward selection of an ordered portfolio from evaluation results (``evaluate.py``).

Each dataset's test loss is normalized over the candidates that finished on it:
- ``worst``: ``(loss - best) / (worst - best)``, not clipped (an ensemble that beats every
  candidate scores below 0); the held-out score of every study, so that studies compare;
- ``median`` (TabRepo's, for selection): ``(loss - best) / (median - best)`` clipped at 1, so a
  dataset where a few candidates fail badly is not compressed towards 0 and no dataset counts
  for more than the median configuration's error (on 86 meta datasets, 5-fold over datasets, it
  won 45 of 73 decided datasets against the hand-written portfolio where ``worst`` won 35 of 73:
  ``benchmarks/results/portfolio_selection_cv.md``).
A portfolio prefix is scored on a dataset by what a fit would make of it:
- ``single`` (TabRepo's published greedy): the prefix member with the best OOF score, on test;
- ``ensemble`` (ours): GES fitted on the prefix's OOF predictions, on test.
Starting from the empty portfolio (error 1 everywhere), each step adds the candidate that most
lowers the mean normalized error across the datasets.

Scoring a step fits GES on the prefix plus each candidate: thousands of small GES fits per step,
and N times as many in a leave-one-dataset-out evaluation. ``extension_errors`` fits them all in
one pass, exactly: GES on ``prefix + [j]`` follows GES on ``prefix`` until the first iteration
that picks j, so one shared path scores every candidate's addition per iteration (a vector of
candidates, not a fit each), and only the candidates that get picked continue on their own
(measured on ~32 meta datasets: the first 4 steps 17.4 s -> 4.7 s, 30 steps in 28 s; the test
checks the result against a GES fit per extension). The time-aware variant values each step's
gain per second of the candidate's median measured fit time, so a short budget gets the
configurations that pay most per second; the budget-aware variant scores each step at the fit
time limits given (a candidate counts under a limit only where it still fits after the prefix, at
its measured seconds on each dataset), so it weighs a strong slow configuration against the time
it leaves the others, not per second. Ties go to the candidate better on its own.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..ensemble.data import EnsembleData
from ..ensemble.base import weighted_mean
from ..ensemble.greedy import GesPath, GreedyEnsemble, pick, tolerance
from ..ensemble.mixture_loss import MixtureLoss
from ..metrics import get_metric
from ..folds import fold_ids
from ..schedule import SCHEDULE
from .evaluate import SECONDS_PER_PAIR

GES_ITERATIONS = 25  # AutoGluon's default; TabRepo saw no gain above it
NORMALIZATIONS = ("worst", "median")
# A dataset enters selection when at least this share of the candidates finished on it.
MIN_FINISHED_SHARE = 0.9


@dataclass
class DatasetResults:
    """One dataset's evaluation: [candidates, rows, outputs] predictions, targets, fit seconds."""

    name: str
    task: str
    metric: str
    oof: np.ndarray
    test: np.ndarray
    y: np.ndarray
    y_test: np.ndarray
    fit_seconds: np.ndarray
    # Candidates that failed on this dataset (timed out, crashed): a fit would not have them, so a
    # prefix is scored on its other members. None: every candidate finished.
    failed: np.ndarray | None = None
    normalization: str = "worst"  # one of NORMALIZATIONS

    def __post_init__(self):
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {self.normalization!r}; choose from {NORMALIZATIONS}.")
        self._metric = get_metric(self.metric, self.task)
        self._errors: dict[tuple, float] = {}  # prefix_error by (scorer, members): LOO folds share prefixes
        self._extensions: dict[tuple, np.ndarray] = {}  # extension_errors by prefix
        self._mixture: MixtureLoss | None = None  # the OOF columns GES reads, made on first use
        self.failed = np.zeros(len(self.oof), dtype=bool) if self.failed is None else np.asarray(self.failed)
        # Each candidate alone, computed once: the single-best scorer only compares these.
        self._test_losses = np.array([np.inf if bad else self._metric.loss(self.y_test, p)
                                      for p, bad in zip(self.test, self.failed)])
        self._oof_losses = np.array([np.inf if bad else self._metric.loss(self.y, p)
                                     for p, bad in zip(self.oof, self.failed)])
        finished = self._test_losses[~self.failed]
        self._best = finished.min()
        self._scale = (finished.max() if self.normalization == "worst" else np.median(finished)) - self._best

    def normalized_error(self, loss: float) -> float:
        if self._scale <= 0:
            return 0.0
        error = float((loss - self._best) / self._scale)
        return error if self.normalization == "worst" else min(error, 1.0)

    def normalized(self, normalization: str) -> "DatasetResults":
        """This dataset with its losses normalized by ``normalization`` (predictions shared, not copied)."""
        return self if normalization == self.normalization else replace(self, normalization=normalization)

    def alone(self) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate on its own: normalized test error and OOF loss (nan where it failed)."""
        test = np.array([np.nan if bad else self.normalized_error(t) for t, bad in zip(self._test_losses, self.failed)])
        return test, np.where(self.failed, np.nan, self._oof_losses)

    def prefix_error(self, members: list[int], scorer: str) -> float:
        key = (scorer, tuple(sorted(members)))
        if key not in self._errors:
            self._errors[key] = self._prefix_error(sorted(members), scorer)
        return self._errors[key]

    def _prefix_error(self, members: list[int], scorer: str) -> float:
        members = [j for j in members if not self.failed[j]]
        if not members:
            return 1.0
        if scorer == "single":
            chosen = members[int(np.argmin(self._oof_losses[members]))]
            return self.normalized_error(self._test_losses[chosen])
        ges = GreedyEnsemble(self._metric, self.task, n_iterations=GES_ITERATIONS).fit(
            EnsembleData(self.oof[members], self.y))
        return self.normalized_error(self._metric.loss(self.y_test, ges.predict(self.test[members])))

    def cross_fitted(self, seed: int = 0) -> list["DatasetResults"]:
        """This dataset scored twice more from its OOF rows alone: GES fitted on one half of them,
        scored on the other (together 3x the test part's rows). On the 43 smallest meta datasets
        (test parts of 38-156 rows) a selection scored on the test part alone fitted its noise
        (benchmarks/README.md, "Portfolio learning")."""
        views = []
        halves = fold_ids(self.y, 2, self.task, seed)
        for k in range(2):
            fit_rows, score_rows = np.flatnonzero(halves != k), np.flatnonzero(halves == k)
            if self.task != "regression" and len(np.unique(self.y[score_rows])) < 2:
                continue  # a half with one class cannot be scored by every metric
            views.append(DatasetResults(f"{self.name}[oof half {k}]", self.task, self.metric, self.oof[:, fit_rows],
                                        self.oof[:, score_rows], self.y[fit_rows], self.y[score_rows],
                                        self.fit_seconds, self.failed, self.normalization))
        return views

    def extension_errors(self, prefix: list[int]) -> np.ndarray:
        """``prefix_error(prefix + [j], "ensemble")`` for every candidate j (index j), in one pass."""
        key = tuple(sorted(j for j in set(prefix) if not self.failed[j]))
        if key not in self._extensions:
            self._extensions[key] = self._extension_errors(list(key))
        return self._extensions[key]

    def _extension_errors(self, base: list[int]) -> np.ndarray:
        if not base:  # GES on one member is that member (a failed one: error 1, nothing trained)
            return np.array([1.0 if bad else self.normalized_error(t) for t, bad in zip(self._test_losses, self.failed)])
        if self._mixture is None:
            self._mixture = MixtureLoss(self._metric, self.oof, self.y)
            self._single = self._mixture.of_each_model()  # as GreedyEnsemble scores them: equal ties
        loss, single = self._mixture, self._single
        shared = GesPath.start(loss)  # GES on base: every j's path until j is picked
        waiting = [j for j in range(len(self.oof)) if j not in base and not self.failed[j]]
        apart: dict[int, GesPath] = {}  # candidates picked at least once: each continues on its own
        for _ in range(GES_ITERATIONS):
            for j, path in apart.items():
                members = sorted(base + [j])
                losses = path.losses(loss, single, models=members)
                chosen = pick(losses, path.counts[members], single[members])
                path.add(members[chosen], losses[chosen], loss)
            base_losses = shared.losses(loss, single, models=base)
            new_losses = shared.losses(loss, single, models=waiting) if waiting else np.array([])
            low = base_losses.min()
            base_loss = dict(zip(base, base_losses))
            for j, value in zip(list(waiting), new_losses):
                if value > low + tolerance(low):  # not even tied with the best base member: not picked
                    continue
                members = sorted(base + [j])
                losses = np.array([value if m == j else base_loss[m] for m in members])
                if members[pick(losses, shared.counts[members], single[members])] == j:
                    apart[j] = shared.copy()
                    apart[j].add(j, value, loss)
                    waiting.remove(j)
            chosen = pick(base_losses, shared.counts[base], single[base])
            shared.add(base[chosen], base_losses[chosen], loss)
        base_error = self._ges_error(shared)
        errors = np.full(len(self.oof), base_error)  # a candidate never picked (or failed) changes nothing
        for j, path in apart.items():
            errors[j] = self._ges_error(path)
        return errors

    def _ges_error(self, path: GesPath) -> float:
        """Normalized test error of the GES whose path is ``path`` (GreedyEnsemble's truncation)."""
        _, weights = path.best()
        return self.normalized_error(self._metric.loss(self.y_test, weighted_mean(weights, self.test)))


def greedy_portfolio(results: list[DatasetResults], size: int, scorer: str = "ensemble",
                     time_aware: bool = False, candidates: list[int] | None = None,
                     start: list[int] = (), budgets: tuple[float, ...] = ()) -> list[int]:
    """Indices (among ``candidates``, default all) in training order; ``scorer``: "ensemble" or "single".
    ``start``: the first members, fixed (the order continues from them). ``budgets``: fit time limits
    (``math.inf``: none); each step then adds the candidate that most lowers the mean error over the
    datasets and these limits, a candidate counting only where it and the prefix fit in the training
    share of the limit at their measured seconds on that dataset (``budget_gains``)."""
    candidates = list(range(len(results[0].oof))) if candidates is None else list(candidates)
    seconds = np.median([r.fit_seconds for r in results], axis=0)
    alone = {j: mean_error(results, [j], "single") for j in candidates}
    chosen: list[int] = list(start)
    current = mean_error(results, chosen, scorer) if chosen else 1.0
    while len(chosen) < min(size, len(candidates)):
        options = [j for j in candidates if j not in chosen]
        if scorer == "ensemble":
            errors = np.array([r.extension_errors(chosen)[options] for r in results])
        else:
            errors = np.array([[r.prefix_error(chosen + [j], scorer) for j in options] for r in results])
        if budgets:
            values = budget_gains(results, chosen, options, errors, scorer, budgets)
        else:
            values = current - errors.mean(axis=0)
            if time_aware:
                values = values / np.maximum(seconds[options], 1e-3)
        ties = np.flatnonzero(values >= values.max() - 1e-12)
        pick = int(ties[np.argmin([alone[options[t]] for t in ties])])
        chosen.append(options[pick])
        current = float(errors[:, pick].mean())
    return chosen


def budget_gains(results: list[DatasetResults], prefix: list[int], options: list[int], errors: np.ndarray,
                 scorer: str, budgets: tuple[float, ...]) -> np.ndarray:
    """Mean over datasets and ``budgets`` of the error each option removes when added after
    ``prefix`` (``errors``: [dataset, option], the prefix plus each option): an option counts under
    a limit where the prefix's and its own seconds on that dataset fit in what the fit's schedule
    leaves training of the limit; the first member always counts (a fit trains an any-time
    configuration first, adapted to its limit)."""
    gains = np.zeros(len(options))
    training = [training_seconds(limit) for limit in budgets]
    for r, after in zip(results, errors):
        before = r.prefix_error(prefix, scorer) if prefix else 1.0
        spent = r.fit_seconds[prefix].sum() + r.fit_seconds[options]
        for seconds in training:
            fits = spent <= seconds if prefix else np.ones(len(options), dtype=bool)
            gains += np.where(fits, before - after, 0.0)
    return gains / (len(results) * len(budgets))


def training_seconds(limit: float) -> float:
    """Seconds of a fit's ``limit`` its schedule gives training, with the estimator's defaults (the
    ``auto`` search, ``refit="auto"``)."""
    return limit - SCHEDULE.training_reserve(limit, searched=True, refit=True) if np.isfinite(limit) else np.inf


def with_cross_fitted(results: list[DatasetResults]) -> list[DatasetResults]:
    """Each dataset and its two OOF-half scorings (``DatasetResults.cross_fitted``), as a selection target."""
    return [view for r in results for view in (r, *r.cross_fitted())]


def mean_error(results: list[DatasetResults], members: list[int], scorer: str = "ensemble") -> float:
    return float(np.mean([r.prefix_error(members, scorer) for r in results]))


def load_results(folder, names: list[str]) -> list[DatasetResults]:
    """The evaluation of candidates ``names`` from ``evaluate``'s folder: one DatasetResults per
    dataset on which most of them finished (each failed pair is marked, and scored as not trained)."""
    folder = Path(folder)
    rows: dict[str, dict[str, dict]] = {}
    for row in csv.DictReader(open(folder / "results.csv")):
        rows.setdefault(row["dataset"], {})[row["config"]] = row
    results = []
    for dataset, by_config in sorted(rows.items()):
        if not set(names) <= set(by_config):  # still being evaluated
            continue
        ok = [by_config[name]["status"] == "ok" for name in names]
        if sum(ok) < MIN_FINISHED_SHARE * len(names):  # a few failed pairs are kept, many are not
            continue
        targets = np.load(folder / dataset / "_targets.npz", allow_pickle=False)
        arrays = {name: np.load(folder / dataset / f"{name}.npz", allow_pickle=False)
                  for name, good in zip(names, ok) if good}
        first = next(iter(arrays.values()))
        # A failed pair's predictions are never read (it is marked failed): zeros hold its place.
        oof = np.stack([arrays[n]["oof"] if n in arrays else np.zeros_like(first["oof"]) for n in names])
        test = np.stack([arrays[n]["test"] if n in arrays else np.zeros_like(first["test"]) for n in names])
        task_row = next(by_config[name] for name in arrays)
        results.append(DatasetResults(
            dataset, task_row["task"], task_row["metric"], oof.astype(np.float32), test.astype(np.float32),
            targets["y"], targets["y_test"],
            np.array([charged_seconds(by_config[name]) for name in names]), ~np.array(ok)))
    return results


def charged_seconds(row: dict) -> float:
    """A pair's fit seconds; a failed pair is charged its whole time limit: 86 of the 100 failures of
    the meta evaluation are TabM timeouts that spent most of it, and a fit pays that time too (at
    0 s a configuration that fails looked free to the time-aware greedy and the simulated budgets)."""
    return float(row["fit_seconds"]) if row["status"] == "ok" else SECONDS_PER_PAIR
