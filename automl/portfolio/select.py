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

    def __post_init__(self):
        self._metric = get_metric(self.metric, self.task)
        self._errors: dict[tuple, float] = {}  # prefix_error by (scorer, members): LOO folds share prefixes
        losses = np.array([self._metric.loss(self.y_test, p) for p in self.test])
        self._best, self._worst = losses.min(), losses.max()

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
        if not members:
            return 1.0
        if scorer == "single":
            oof_losses = [self._metric.loss(self.y, self.oof[j]) for j in members]
            chosen = members[int(np.argmin(oof_losses))]
            return self.normalized_error(self._metric.loss(self.y_test, self.test[chosen]))
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
    dataset on which every one of them finished."""
    folder = Path(folder)
    rows: dict[str, dict[str, dict]] = {}
    for row in csv.DictReader(open(folder / "results.csv")):
        if row["status"] == "ok":
            rows.setdefault(row["dataset"], {})[row["config"]] = row
    results = []
    for dataset, by_config in sorted(rows.items()):
        if not set(names) <= set(by_config):
            continue
        targets = np.load(folder / dataset / "_targets.npz")
        arrays = [np.load(folder / dataset / f"{name}.npz") for name in names]
        first = by_config[names[0]]
        results.append(DatasetResults(
            dataset, first["task"], first["metric"],
            np.stack([a["oof"] for a in arrays]).astype(np.float32),
            np.stack([a["test"] for a in arrays]).astype(np.float32), targets["y"], targets["y_test"],
            np.array([float(by_config[name]["fit_seconds"]) for name in names])))
    return results
