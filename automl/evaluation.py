"""evaluate: the task's usual metrics on held-out rows, by the names ``metric=`` accepts."""
from __future__ import annotations

import numpy as np

from .decision import labels_as_predictions
from .metrics import get_metric

STANDARD_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "balanced_accuracy", "f1", "average_precision",
               "matthews_corrcoef"),
    "multiclass": ("log_loss", "accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2", "mean_absolute_percentage_error"),
}


def evaluate_predictions(task: str, y: np.ndarray, prediction: np.ndarray, *, labels: np.ndarray | None = None,
                         sample_weight: np.ndarray | None = None, interval: np.ndarray | None = None,
                         sets: np.ndarray | None = None) -> dict:
    """Metrics of ``prediction`` (regression values, or class probabilities) against ``y`` (values,
    or class indices); metrics that read labels score ``labels`` (class indices). ``interval``
    (n, 2) or ``sets`` (n, classes) add their empirical coverage and mean width / set size."""
    results = {}
    for name in STANDARD_METRICS[task]:
        if name == "mean_absolute_percentage_error" and np.any(y == 0):
            continue  # undefined where a target is 0
        metric = get_metric(name, task)
        if task == "regression":
            scored = prediction.reshape(-1, 1)
        elif metric.reads_labels and labels is not None:
            scored = labels_as_predictions(labels, prediction.shape[1])
        else:
            scored = prediction
        results[name] = metric.score(y, scored, sample_weight)
    if interval is not None:
        inside = (interval[:, 0] <= y) & (y <= interval[:, 1])
        results["interval_coverage"] = float(np.average(inside, weights=sample_weight))
        results["interval_mean_width"] = float(np.average(interval[:, 1] - interval[:, 0], weights=sample_weight))
    if sets is not None:
        results["set_coverage"] = float(np.average(sets[np.arange(len(y)), y], weights=sample_weight))
        results["set_mean_size"] = float(np.average(sets.sum(axis=1), weights=sample_weight))
    return results
