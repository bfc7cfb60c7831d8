"""Label metrics from confusion matrices equal scikit-learn's, weighted or not."""
import numpy as np
import pytest
from sklearn import metrics as skm

from automl.confusion import confusion_matrices
from automl.metrics import get_metric

CASES = [("accuracy", "binary"), ("balanced_accuracy", "multiclass"), ("qwk", "multiclass"), ("f1", "binary"),
         ("f1_macro", "multiclass"), ("f1_micro", "multiclass"), ("f1_weighted", "multiclass"),
         ("precision", "binary"), ("recall_macro", "multiclass"), ("matthews_corrcoef", "multiclass"),
         ("matthews_corrcoef", "binary"), ("balanced_accuracy", "binary"), ("precision_weighted", "multiclass")]


@pytest.mark.parametrize("name, task", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_metrics_equal_scikit_learns(name, task, weighted):
    rng = np.random.default_rng(0)
    k = 2 if task == "binary" else 4
    y = rng.integers(0, k, 300)
    labels = np.stack([rng.integers(0, k, 300), y.copy(), np.zeros(300, dtype=int), np.where(y == 0, 1, y)])
    labels[1, :20] = (labels[1, :20] + 1) % k
    weight = rng.uniform(0.2, 3.0, 300) if weighted else None
    metric = get_metric(name, task)
    assert metric.confusion is not None
    expected = [metric.loss(y, np.eye(k)[row], weight) for row in labels]  # scikit-learn, one at a time
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(metric.losses_of_labels(y, labels, k, weight), expected, rtol=1e-12, atol=1e-12)


def test_confusion_matrices_count_weighted_rows():
    y, labels = np.array([0, 1, 1, 2]), np.array([[0, 1, 2, 2], [2, 2, 2, 2]])
    counts = confusion_matrices(y, labels, 3, np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(counts[0], skm.confusion_matrix(y, labels[0], sample_weight=[1, 2, 3, 4]))
    assert counts[1][:, 2].tolist() == [1.0, 5.0, 4.0]


def test_a_metric_without_a_confusion_form_is_scored_one_candidate_at_a_time():
    metric = get_metric("jaccard", "binary")
    assert metric.confusion is None
    y = np.array([0, 1, 1, 0])
    losses = metric.losses_of_labels(y, np.array([[0, 1, 1, 0], [1, 1, 1, 1]]), 2)
    np.testing.assert_allclose(losses, [-1.0, -skm.jaccard_score(y, [1, 1, 1, 1])])
