"""What a configuration's bagged fit costs on a table of a given shape: one log-linear model per
family, learned from the portfolio evaluations' measured fit seconds (``automl.portfolio.evaluate``).
Used by ``portfolio_order.py`` (the per-table order it prices was measured and not shipped).

    log seconds = a[configuration] + b·log rows + c·log features + d·log outputs   (per family)

The intercept is the configuration's own (its rounds, leaves, trees, neighbours); the slopes are the
family's (measured row slopes: kNN 0.92, LightGBM 0.64, CatBoost 0.73, random forest 1.06). A pair that
hit its time limit or was adapted to it (fewer rounds) is censored, not a measurement, and is left
out. A configuration the model has not seen gets its family's mean intercept. The row slopes are
measured on the pool evaluated twice, at 3,000 and at 15,000 rows (``evaluate --max-train-rows``,
``portfolios/evaluation_15k``).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automl.models.base import ModelConfig
from automl.portfolio.evaluate import SECONDS_PER_PAIR

SHAPE = ("rows", "features", "outputs")
# Measured fit seconds below this are timer noise and process overhead (kNN folds take 0.01 s at
# 3,000 rows): a floor keeps them from pulling a family's slopes.
MIN_SECONDS = 0.02
# A pair that used this share of its time limit was cut by it: its seconds are censored, not a cost.
CENSORED_SHARE = 0.9


@dataclass(frozen=True)
class TableShape:
    """What the cost of a fit depends on: training rows, input columns, outputs (classes, or 1)."""

    rows: int
    features: int
    outputs: int

    def logs(self) -> np.ndarray:
        return np.log([max(self.rows, 1), max(self.features, 1), max(self.outputs, 1)])


@dataclass(frozen=True)
class CostModel:
    slopes: dict[str, list[float]]  # family -> slopes of log rows, features, outputs
    family_intercepts: dict[str, float]  # family -> mean of its configurations' intercepts
    intercepts: dict[str, float]  # configuration name -> its own intercept

    def seconds(self, config: ModelConfig, table: TableShape) -> float:
        """Predicted seconds of ``config``'s bagged fit on ``table``; nan for a family the model has not seen."""
        if config.family not in self.slopes:
            return float("nan")
        intercept = self.intercepts[config.name] if config.name in self.intercepts \
            else self.family_intercepts[config.family]
        return float(np.exp(intercept + np.dot(self.slopes[config.family], table.logs())))

    @classmethod
    def fit(cls, timings: list[dict]) -> "CostModel":
        """From uncensored timings ``{"config", "family", "dataset", "rows", "features", "outputs", "seconds"}``.

        A family's row slope comes from the same configuration timed on the same dataset at two
        sizes (the median over such pairs); across datasets of up to 3,000 rows the row count is
        confounded with everything else (early stopping ends sooner on more rows: catboost's pooled
        slope came out at -0.15). The intercepts and the other slopes are then fitted on every
        timing, by least squares with slopes of at least 0: more columns or classes never make a
        fit cheaper, but on the meta suite the wide tables are also the small ones (extra trees'
        unconstrained column slope came out at -0.32).
        """
        slopes, family_intercepts, intercepts = {}, {}, {}
        for family in sorted({t["family"] for t in timings}):
            rows = [t for t in timings if t["family"] == family]
            row_slope = _row_slope(rows)
            names = sorted({t["config"] for t in rows})
            one_hot = np.array([[t["config"] == n for n in names] for t in rows], dtype=float)
            shape = np.log([[max(t[k], 1) for k in SHAPE] for t in rows])
            target = np.log(np.maximum([t["seconds"] for t in rows], MIN_SECONDS)) - row_slope * shape[:, 0]
            coef = _least_squares_nonnegative_slopes(one_hot, shape[:, 1:], target)
            slopes[family] = [row_slope] + [float(c) for c in coef[len(names):]]
            intercepts.update({n: float(c) for n, c in zip(names, coef[:len(names)])})
            family_intercepts[family] = float(np.mean(coef[:len(names)]))
        return cls(slopes, family_intercepts, intercepts)


def n_outputs(task: str, y: np.ndarray) -> int:
    """What the cost model counts as a table's outputs: its classes, or 1 for a regression."""
    return 1 if task == "regression" else len(np.unique(y))


def _row_slope(timings: list[dict]) -> float:
    """Median of log(seconds ratio) / log(rows ratio) over one configuration's timings on one
    dataset at different sizes; without such pairs, 1 (seconds proportional to rows)."""
    by_pair: dict[tuple, list[dict]] = {}
    for t in timings:
        by_pair.setdefault((t["config"], t["dataset"]), []).append(t)
    ratios = []
    for same in by_pair.values():
        small, large = min(same, key=lambda t: t["rows"]), max(same, key=lambda t: t["rows"])
        if large["rows"] >= 2 * small["rows"]:
            ratios.append(np.log(max(large["seconds"], MIN_SECONDS) / max(small["seconds"], MIN_SECONDS))
                          / np.log(large["rows"] / small["rows"]))
    return float(np.median(ratios)) if ratios else 1.0


def _least_squares_nonnegative_slopes(one_hot: np.ndarray, logs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Intercepts (free) then slopes (>= 0): a slope that comes out negative is fixed at 0 and the
    rest refitted."""
    free = list(range(logs.shape[1]))
    while True:
        coef = np.linalg.lstsq(np.hstack([one_hot, logs[:, free]]), target, rcond=None)[0]
        slopes = np.zeros(logs.shape[1])
        slopes[free] = coef[one_hot.shape[1]:]
        if slopes.min() >= 0:
            return np.concatenate([coef[:one_hot.shape[1]], slopes])
        free.remove(int(np.argmin(slopes)))


def read_timings(folder: Path, suite: Path) -> list[dict]:
    """The uncensored fit timings of an evaluation folder, with each dataset's shape as evaluated
    (training rows and classes from its saved targets, input columns from the suite's manifest)."""
    folder = Path(folder)
    features = {e["name"]: e["features"] for e in json.loads((Path(suite) / "manifest.json").read_text())}
    shapes: dict[str, tuple[int, int]] = {}
    timings = []
    for row in csv.DictReader(open(folder / "results.csv")):
        if row["status"] != "ok" or row["adapted"] or float(row["fit_seconds"]) >= CENSORED_SHARE * SECONDS_PER_PAIR:
            continue
        dataset = row["dataset"]
        if dataset not in shapes:
            y = np.load(folder / dataset / "_targets.npz", allow_pickle=False)["y"]
            shapes[dataset] = (len(y), n_outputs(row["task"], y))
        rows, outputs = shapes[dataset]
        timings.append({"config": row["config"], "family": row["family"], "dataset": dataset, "rows": rows,
                        "features": features[dataset], "outputs": outputs, "seconds": float(row["fit_seconds"])})
    return timings
