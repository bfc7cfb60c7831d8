"""MixtureLoss: the metric's loss of weighted means of stored predictions, many at a time.

Every selection strategy (GES, QO/QDO-ES, CMA-ES) scores thousands of candidate mixtures of the
same predictions, so this class keeps only the columns the metric reads and scores candidates
in chunks that stay in cache, on ``n_threads`` threads (numpy releases the GIL):

- log loss reads each model's true-class column (a tenth of a 10-class store) and takes
  float32 logarithms, the dominant cost;
- RMSE reads the single regression column;
- with sample weights, each row's term is weighted (ROC AUC then always counts weighted pairs in
  the histogram);
- a metric that reads labels and has a confusion form (accuracy, F1, balanced accuracy, MCC, QWK:
  ``automl.confusion``) takes each candidate's argmax and scores all of a chunk's confusion matrices
  at once;
- ROC AUC reads the positive-class column (binary) or every class (one-vs-rest, macro mean);
  up to EXACT_AUC_ROWS rows it ranks exactly, above that it counts pairs in a 2^16-bin
  histogram of the probabilities (a positive and a negative in one bin count half, so the
  error is at most the share of such pairs; sorting every candidate would cost ~50x more);
- any other metric reads everything and is scored one candidate at a time by ``Metric.loss``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.stats import rankdata

from ..metrics import EPS, Metric

EXACT_AUC_ROWS = 20_000
AUC_BINS = 1 << 14
# float32 elements per chunk of candidates (1 MB): the add, log and sum of a chunk stay in cache,
# which is ~3x faster than whole-array passes; chunks run on a thread pool.
CHUNK_ELEMENTS = 1 << 18


class MixtureLoss:
    """Scores mixtures of ``predictions`` [n_models, n_rows, n_outputs] against ``y``."""

    def __init__(self, metric: Metric, predictions: np.ndarray, y: np.ndarray,
                 sample_weight: np.ndarray | None = None, n_threads: int = 1):
        self.metric = metric
        self.n_threads = n_threads
        self.y = np.asarray(y)
        self.weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        n_models, n_rows, n_outputs = predictions.shape
        self.kind = metric.name if metric.name in ("log_loss", "rmse", "roc_auc") else \
            "labels" if metric.reads_labels and metric.confusion is not None else "generic"
        if self.kind == "log_loss":  # clipped once here, so a mixture is never 0 and needs no clip per step
            columns = np.maximum(predictions[:, np.arange(n_rows), self.y.astype(int)], EPS)[:, :, None]
        elif self.kind == "rmse":
            columns = predictions[:, :, :1]
        elif self.kind == "roc_auc" and n_outputs == 2:
            columns = predictions[:, :, 1:]
        else:
            columns = predictions
        self.columns = np.ascontiguousarray(columns, dtype=np.float32)  # [n_models, n_rows, k]
        if self.kind == "roc_auc":
            classes = [1] if n_outputs == 2 else range(n_outputs)
            self.positive = [self.y == c for c in classes]

    def empty_sum(self) -> np.ndarray:
        """A zero running sum in the reduced column space (what ``of_additions`` adds to)."""
        return np.zeros(self.columns.shape[1:], dtype=np.float32)

    def of_each_model(self) -> np.ndarray:
        """Loss of every model alone."""
        return self.of_additions(None, 0)

    def of_additions(self, running: np.ndarray | None, count: int, models=None) -> np.ndarray:
        """Loss of (running + P_j) / (count + 1) for each model j (all, or those in ``models``).

        ``running`` is the sum of ``count`` members' reduced columns (None: nothing chosen yet).
        """
        running = self.empty_sum() if running is None else running
        if models is None:  # contiguous slices: no copy of the candidates before the addition
            return self._map(lambda part: self._loss(self.columns[part] + running, count + 1), len(self.columns))
        return self._loss(self.columns[np.asarray(models)] + running, count + 1)

    def of_weights(self, weights: np.ndarray) -> np.ndarray:
        """Loss of each mixture in ``weights`` [n_mixtures, n_models] (rows are normalized here)."""
        weights = np.atleast_2d(np.asarray(weights, dtype=np.float32))
        weights = weights / weights.sum(axis=1, keepdims=True)
        flat = self.columns.reshape(len(self.columns), -1)

        def chunk(part):
            return self._loss((weights[part] @ flat).reshape(-1, *self.columns.shape[1:]), 1)
        return self._map(chunk, len(weights))

    # ------------------------------------------------------------------ internals
    def _map(self, fn, n_items: int) -> np.ndarray:
        per_item = max(1, self.columns[0].size)
        size = max(1, CHUNK_ELEMENTS // per_item)
        chunks = [slice(a, min(a + size, n_items)) for a in range(0, n_items, size)]
        if len(chunks) == 1 or self.n_threads == 1:
            return np.concatenate([fn(chunk) for chunk in chunks])
        with ThreadPoolExecutor(min(self.n_threads, len(chunks))) as pool:
            return np.concatenate(list(pool.map(fn, chunks)))

    def _loss(self, sums: np.ndarray, scale: float) -> np.ndarray:
        """Losses of the mixtures sums / scale, sums [b, n_rows, k] (overwritten)."""
        if self.kind == "log_loss":
            logs = np.log(sums[:, :, 0], out=sums[:, :, 0])
            return np.log(scale) - self._mean(logs)
        if self.kind == "rmse":
            error = sums[:, :, 0] / scale - self.y
            return np.sqrt(self._mean(error ** 2))
        if self.kind == "roc_auc":
            aucs = [_auc(sums[:, :, c], scale, pos, self.weight) for c, pos in enumerate(self.positive)
                    if 0 < pos.sum() < len(pos)]
            return -np.mean(aucs, axis=0)
        if self.kind == "labels":
            return self.metric.losses_of_labels(self.y, sums.argmax(axis=2), sums.shape[2], self.weight)
        return np.array([self.metric.loss(self.y, s / scale, self.weight) for s in sums])

    def _mean(self, values: np.ndarray) -> np.ndarray:
        """Each candidate's (weighted) mean over the rows; values [b, n_rows]."""
        if self.weight is None:
            return values.sum(axis=1, dtype=np.float64) / values.shape[1]
        return values.astype(np.float64) @ self.weight / self.weight.sum()


def _auc(scores: np.ndarray, scale: float, positive: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """ROC AUC of each row of ``scores`` [b, n] (probabilities x ``scale``) for the boolean labels
    ``positive``; weighted rows count as ``weight`` rows each (in the histogram)."""
    n_pos = int(positive.sum()) if weight is None else float(weight[positive].sum())
    n_neg = len(positive) - n_pos if weight is None else float(weight[~positive].sum())
    if len(positive) <= EXACT_AUC_ROWS and weight is None:
        ranks = rankdata(scores, axis=1)  # ties get their mean rank, as in the Mann-Whitney U
        return (ranks[:, positive].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    b = len(scores)
    # One histogram per candidate over (bin, label) cells: index = 2 * (candidate's bin) + label.
    cells = (scores * np.float32(2 * (AUC_BINS - 1) / scale)).astype(np.int64)
    cells &= ~1  # even numbers: 2 x bin; the probabilities are at most 1, so the bin is at most AUC_BINS - 1
    cells += (np.arange(b) * 2 * AUC_BINS)[:, None] + positive
    weights = None if weight is None else np.broadcast_to(weight, cells.shape).ravel()
    counts = np.bincount(cells.ravel(), weights, minlength=b * 2 * AUC_BINS).reshape(b, AUC_BINS, 2)
    neg, pos = counts[:, :, 0], counts[:, :, 1]
    below = np.cumsum(neg, axis=1) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)

