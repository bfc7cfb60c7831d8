"""Greedy forward selection of an ordered portfolio from evaluation results (``evaluate.py``).

Each dataset's test loss is normalized over the candidates, ``(loss - best) / (worst - best)``
(TabRepo's normalized error, not clipped: an ensemble that beats every candidate scores below 0), and a portfolio prefix is scored on a dataset by
what a fit would make of it:
- ``single`` (TabRepo's published greedy): the prefix member with the best OOF score, on test;
- ``ensemble`` (ours): GES fitted on the prefix's OOF predictions, on test.
Starting from the empty portfolio (error 1 everywhere), each step adds the candidate that most
lowers the mean normalized error across the datasets. The time-aware variant values each step's
gain per second of the candidate's median measured fit time, so a short budget gets the
configurations that pay most per second; ties go to the candidate better on its own.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ensemble.greedy import GreedyEnsemble
from ..metrics import get_metric

GES_ITERATIONS = 25  # AutoGluon's default; TabRepo saw no gain above it
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

    def __post_init__(self):
        self._metric = get_metric(self.metric, self.task)
        self._errors: dict[tuple, float] = {}  # prefix_error by (scorer, members): LOO folds share prefixes
        self.failed = np.zeros(len(self.oof), dtype=bool) if self.failed is None else np.asarray(self.failed)
        # Each candidate alone, computed once: the single-best scorer only compares these.
        self._test_losses = np.array([np.inf if bad else self._metric.loss(self.y_test, p)
                                      for p, bad in zip(self.test, self.failed)])
        self._oof_losses = np.array([np.inf if bad else self._metric.loss(self.y, p)
                                     for p, bad in zip(self.oof, self.failed)])
        finished = self._test_losses[~self.failed]
        self._best, self._worst = finished.min(), finished.max()

    def normalized_error(self, loss: float) -> float:
        if self._worst - self._best <= 0:
            return 0.0
        return float((loss - self._best) / (self._worst - self._best))

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
        ges = GreedyEnsemble(self._metric, self.task, n_iterations=GES_ITERATIONS).fit(self.oof[members], self.y)
        return self.normalized_error(self._metric.loss(self.y_test, ges.predict(self.test[members])))


def greedy_portfolio(results: list[DatasetResults], size: int, scorer: str = "ensemble",
                     time_aware: bool = False, candidates: list[int] | None = None) -> list[int]:
    """Indices (among ``candidates``, default all) in training order; ``scorer``: "ensemble" or "single"."""
    candidates = list(range(len(results[0].oof))) if candidates is None else list(candidates)
    seconds = np.median([r.fit_seconds for r in results], axis=0)
    alone = {j: mean_error(results, [j], "single") for j in candidates}
    chosen: list[int] = []
    current = 1.0
    while len(chosen) < min(size, len(candidates)):
        options = [j for j in candidates if j not in chosen]
        errors = np.array([np.mean([r.prefix_error(chosen + [j], scorer) for r in results]) for j in options])
        gains = current - errors
        values = gains / np.maximum(seconds[options], 1e-3) if time_aware else gains
        ties = np.flatnonzero(values >= values.max() - 1e-12)
        pick = int(ties[np.argmin([alone[options[t]] for t in ties])])
        chosen.append(options[pick])
        current = float(errors[pick])
    return chosen


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
            np.array([float(by_config[name]["fit_seconds"] or 0.0) for name in names]), ~np.array(ok)))
    return results
