"""The portfolio ordered for the table: once every family was tried, the families the table's
ensemble leaves out train their remaining configurations last."""
import logging

import numpy as np

from automl.budget import TimeBudget
from automl.context import FitContext
from automl.data.encoder import EncodedTable
from automl.data.training import TrainingData
from automl.folds import FoldPlan
from automl.metrics import get_metric
from automl.models import training
from automl.models.base import ModelConfig
from automl.portfolio import order
from automl.portfolio.order import families_last, left_out_families, reorder_point
from automl.store import ModelRecord, PredictionStore


def _store(y, predictions: dict[str, np.ndarray]) -> PredictionStore:
    store = PredictionStore(y, "binary", "log_loss", np.arange(len(y)) % 5)
    for name, p in predictions.items():
        store.add(ModelRecord(name, name.split("_")[0], {}, 1.0, 0.1, 0.0), np.column_stack([1 - p, p]))
    return store


def _noisy_truth(y, rng, noise=1.0):
    return 1 / (1 + np.exp(-(3 * (2 * y - 1) + rng.normal(scale=noise * 3, size=len(y)))))


def test_the_reorder_point_follows_the_first_configuration_of_the_last_family():
    configs = [ModelConfig(n, f, {}) for n, f in
               [("a", "lightgbm"), ("b", "linear"), ("c", "lightgbm"), ("d", "knn"), ("e", "linear")]]
    assert reorder_point(configs) == 4
    assert reorder_point(configs[:1]) == 1


def test_families_last_keeps_each_part_in_its_order():
    configs = [ModelConfig(n, f, {}) for n, f in
               [("a", "knn"), ("b", "linear"), ("c", "lightgbm"), ("d", "knn"), ("e", "lightgbm")]]
    assert [c.name for c in families_last(configs, {"knn"})] == ["b", "c", "e", "a", "d"]
    assert families_last(configs, set()) == configs


def test_a_family_that_adds_nothing_to_the_ensemble_is_left_out(monkeypatch):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=4000)
    # Two informative families with independent errors (the ensemble wants both) and one whose
    # predictions carry no information about y.
    predictions = {"lightgbm_a": _noisy_truth(y, rng), "knn_a": _noisy_truth(y, rng),
                   "linear_a": rng.uniform(0.3, 0.7, size=len(y))}
    store = _store(y, predictions)
    metric = get_metric("log_loss", "binary")
    assert left_out_families(store, metric, "binary") == {"linear"}
    monkeypatch.setattr(order, "ORDER_ROWS", 500)  # the same answer from a sample of the rows
    assert left_out_families(store, metric, "binary") == {"linear"}


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, 4)).astype(np.float32)
    table = EncodedTable(numeric, np.zeros((n, 0), dtype=np.int32), [f"x{j}" for j in range(4)], [], [])
    return table, (numeric[:, 0] + numeric[:, 1] * numeric[:, 2] > 0).astype(int)


def test_a_fit_trains_the_left_out_families_configurations_last(monkeypatch, caplog):
    table, y = _table()
    seen = []

    def left_out(store, metric, task, seed):
        seen.append(store.names)
        return {"knn"}

    monkeypatch.setattr(training, "left_out_families", left_out)
    configs = [ModelConfig(n, f, {}) for n, f in
               [("lin_a", "linear"), ("knn_a", "knn"), ("lgb_a", "lightgbm"), ("lin_b", "linear"),
                ("knn_b", "knn"), ("lgb_b", "lightgbm")]]
    plan = FoldPlan.make(y, 3, "binary", seed=0)
    store = PredictionStore(y, "binary", "log_loss", plan.fold_of)
    context = FitContext.of(get_metric("log_loss", "binary"), "binary", 2)
    with caplog.at_level(logging.INFO, logger="automl"):
        training.train_portfolio(configs, TrainingData(table, y), plan, context, TimeBudget(None), store)
    # the boosting one first, then the learned order until every family was tried, then knn last
    assert seen == [["lgb_a", "lin_a", "knn_a"]]
    assert store.names == ["lgb_a", "lin_a", "knn_a", "lin_b", "lgb_b", "knn_b"]
    assert "leaves out knn; their 1 configurations train last" in caplog.text


def test_no_family_is_left_out_without_evidence():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=500)
    metric = get_metric("roc_auc", "binary")
    useless = rng.uniform(0.3, 0.7, size=len(y))
    assert left_out_families(_store(y, {"lightgbm_a": _noisy_truth(y, rng), "linear_a": useless}), metric,
                             "binary") == {"linear"}
    # one family: nothing to compare; rows of one class: ROC AUC is not defined
    assert left_out_families(_store(y, {"lightgbm_a": _noisy_truth(y, rng), "lightgbm_b": useless}), metric,
                             "binary") == set()
    one_class = np.ones_like(y)
    assert left_out_families(_store(one_class, {"lightgbm_a": _noisy_truth(y, rng), "linear_a": useless}), metric,
                             "binary") == set()
