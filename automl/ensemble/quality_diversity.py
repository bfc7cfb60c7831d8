"""Population-based ensemble selection: QO-ES and QDO-ES (Purucker et al., AutoML-Conf 2023).

Solutions are GES-style count vectors. The population starts from every single model and
⌊M/2⌋ random pairs; each batch of 40 children takes parents from the archive (two random elites,
or the best elite and a random one; the choice adapts to which kind of parents produced archive
entries), recombines them and adds one count to a random model. The archive keeps 49 elites:
QO the 49 best; QDO the best of each cell of a 7 x 7 MAP-Elites grid over (a) the mean absolute
correlation of the members' per-row losses and (b) the members' mean configuration similarity,
with bin edges refitted to the range seen so far. The budget is 50 evaluations per model. The
result is the mean of the elites if it beats the best elite, else the best elite.
"""
from __future__ import annotations

import numpy as np

from ..metrics import Metric
from .base import WeightedEnsemble, counts_to_weights
from .mixture_loss import MixtureLoss


class QualityOptimizationEnsemble(WeightedEnsemble):
    """QO-ES: a population of count vectors, average crossover, archive of the best elites."""

    name = "qo"
    complexity = 3

    def __init__(self, metric: Metric, task: str, seed: int = 0, evaluations_per_model: int = 50,
                 archive_size: int = 49, batch_size: int = 40, n_threads: int = 1):
        super().__init__(metric, task, seed, n_threads)
        self.evaluations_per_model = evaluations_per_model
        self.archive_size = archive_size
        self.batch_size = batch_size

    def fit(self, data, budget=None):
        rng = np.random.default_rng(self.seed)
        loss = MixtureLoss(self.metric, data.predictions, data.y, data.sample_weight, self.n_threads)
        n_models = data.n_models
        archive = self._archive(data.predictions, data.y, data.records)
        population = _initial_population(n_models, rng)
        archive.add(population, loss.of_weights(population))
        # Success rates of the two parent choices (random pair; best + random), Laplace-smoothed.
        evaluations, successes, trials = len(population), np.ones(2), np.full(2, 2.0)
        while evaluations < self.evaluations_per_model * n_models and not (budget and budget.expired()):
            rates = successes / trials
            random_parents = rng.random(self.batch_size) < rates[0] / rates.sum()
            children = np.array([self._child(archive, choice, rng) for choice in random_parents])
            entered = archive.add(children, loss.of_weights(children))
            for mode, mask in enumerate((random_parents, ~random_parents)):
                successes[mode] += entered[mask].sum()
                trials[mode] += mask.sum()
            evaluations += len(children)
        elites = np.array([counts_to_weights(c) for c in archive.solutions])
        merged = elites.mean(axis=0)
        best = counts_to_weights(archive.best)
        merged_loss, best_loss = loss.of_weights(np.stack([merged, best]))
        self.weights_ = merged if merged_loss < best_loss else best
        self.oof_loss_ = float(min(merged_loss, best_loss))
        self.n_evaluations_ = evaluations
        return self

    def _archive(self, predictions, y, records):
        return _TopArchive(self.archive_size)

    def _child(self, archive, random_parents: bool, rng) -> np.ndarray:
        first = archive.random(rng) if random_parents else archive.best
        child = self._crossover(first, archive.random(rng), rng) if rng.random() < 0.5 else first.copy()
        child[rng.integers(len(child))] += 1
        return child

    @staticmethod
    def _crossover(a: np.ndarray, b: np.ndarray, rng) -> np.ndarray:
        """The mean of the parents' weights, in counts at the larger parent's resolution."""
        size = max(a.sum(), b.sum())
        child = np.round((a / a.sum() + b / b.sum()) / 2 * size)
        return child if child.any() else a.copy()


class QualityDiversityEnsemble(QualityOptimizationEnsemble):
    """QDO-ES: as QO-ES, but elites fill a grid over diversity descriptors; two-point crossover."""

    name = "qdo"
    complexity = 4

    def _archive(self, predictions, y, records):
        grid = int(round(np.sqrt(self.archive_size)))
        return _GridArchive(grid, _loss_correlation(predictions, y), _config_similarity(records, len(predictions)))

    @staticmethod
    def _crossover(a, b, rng):
        """Two-point crossover over the models either parent uses."""
        members = np.flatnonzero((a > 0) | (b > 0))
        start, stop = np.sort(rng.choice(len(members) + 1, size=2, replace=False))
        child = a.copy()
        child[members[start:stop]] = b[members[start:stop]]
        return child if child.any() else a.copy()


def _initial_population(n_models: int, rng) -> np.ndarray:
    """Every single model, plus ⌊M/2⌋ random pairs of distinct models."""
    population = [np.eye(n_models)[j] for j in range(n_models)]
    for _ in range(n_models // 2):
        pair = np.zeros(n_models)
        pair[rng.choice(n_models, size=2, replace=False)] = 1
        population.append(pair)
    return np.array(population)


class _TopArchive:
    """The ``size`` best distinct solutions seen."""

    def __init__(self, size: int):
        self.size = size
        self.solutions, self.losses = np.empty((0, 0)), np.empty(0)

    @property
    def best(self) -> np.ndarray:
        return self.solutions[np.argmin(self.losses)]

    def random(self, rng) -> np.ndarray:
        return self.solutions[rng.integers(len(self.solutions))]

    def add(self, solutions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """Adds what improves the archive; returns, per solution, whether it entered."""
        pool = np.concatenate([self.solutions, solutions]) if self.solutions.size else solutions
        pool_losses = np.concatenate([self.losses, losses])
        keep = self._select(pool, pool_losses)
        self.solutions, self.losses = pool[keep], pool_losses[keep]
        return np.isin(np.arange(len(pool) - len(solutions), len(pool)), keep)

    def _select(self, pool, losses) -> np.ndarray:
        _, first = np.unique(pool / pool.sum(axis=1, keepdims=True), axis=0, return_index=True)
        return first[np.argsort(losses[first], kind="stable")][:self.size]


class _GridArchive(_TopArchive):
    """MAP-Elites: the best solution per cell of a grid x grid map of two descriptors in [0, 1]."""

    def __init__(self, grid: int, correlation: np.ndarray, similarity: np.ndarray):
        super().__init__(grid * grid)
        self.grid, self.pairwise = grid, (np.abs(correlation), similarity)
        self.low, self.high = np.full(2, np.inf), np.full(2, -np.inf)

    def _select(self, pool, losses):
        descriptors = np.array([[_mean_pairwise(matrix, s) for matrix in self.pairwise] for s in pool])
        # Bin edges follow the range seen so far, so the grid spreads over what actually occurs.
        self.low, self.high = np.minimum(self.low, descriptors.min(0)), np.maximum(self.high, descriptors.max(0))
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        cells = np.minimum(((descriptors - self.low) / span * self.grid).astype(int), self.grid - 1)
        cell_id = cells[:, 0] * self.grid + cells[:, 1]
        order = np.argsort(losses, kind="stable")
        _, first = np.unique(cell_id[order], return_index=True)
        return order[first]


def _mean_pairwise(matrix: np.ndarray, counts: np.ndarray) -> float:
    """Mean of ``matrix`` over pairs of distinct members (1 for a single member)."""
    members = np.flatnonzero(counts)
    if len(members) < 2:
        return 1.0
    block = matrix[np.ix_(members, members)]
    return float((block.sum() - np.trace(block)) / (len(members) * (len(members) - 1)))


def _loss_correlation(predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation of the models' per-row errors: 1 - p(true class), or squared error."""
    if predictions.shape[2] == 1:
        errors = (predictions[:, :, 0] - y) ** 2
    else:
        errors = 1.0 - predictions[:, np.arange(len(y)), np.asarray(y, dtype=int)]
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.corrcoef(errors)
    return np.nan_to_num(np.atleast_2d(correlation), nan=0.0)


def _config_similarity(records, n_models: int) -> np.ndarray:
    """0 across families; within a family 0.5 + 0.5 x the share of parameters set alike."""
    similarity = np.eye(n_models)
    if records is None:
        return similarity
    for i, a in enumerate(records):
        for j, b in enumerate(records[:i]):
            if a.family == b.family:
                keys = set(a.params) | set(b.params)
                alike = sum(a.params.get(k) == b.params.get(k) for k in keys) / len(keys) if keys else 1.0
                similarity[i, j] = similarity[j, i] = 0.5 + 0.5 * alike
    return similarity
