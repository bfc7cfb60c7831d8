"""A learned portfolio ordered for the table at hand: the cost model and the fit-time order."""
import numpy as np
import pytest

import automl.estimator
from automl import AutoMLRegressor
from automl.models.base import ModelConfig
from automl.portfolio import load_portfolio, read_portfolio
from automl.portfolio.cost import CostModel, TableShape
from automl.portfolio.order import order_for_table


def _timings(slopes, intercepts, shapes):
    """Exact timings seconds = exp(a + slopes . log shape) of each configuration on each shape."""
    return [{"config": name, "family": "gbm", "dataset": dataset, "rows": rows, "features": features,
             "outputs": outputs, "seconds": float(np.exp(a + np.dot(slopes, np.log([rows, features, outputs]))))}
            for name, a in intercepts.items() for dataset, rows, features, outputs in shapes]


def test_the_cost_model_recovers_slopes_and_each_configurations_intercept():
    slopes, intercepts = [1.3, 0.5, 0.8], {"fast": -2.0, "slow": 1.0}
    # every dataset at 2,000 rows, two of them also at 16,000: the row slope comes from those pairs
    shapes = [(f"d{i}", 2_000, features, outputs) for i, (features, outputs) in
              enumerate([(5, 1), (20, 2), (8, 10), (40, 3), (12, 26)])]
    shapes += [("d0", 16_000, 5, 1), ("d2", 16_000, 8, 10)]
    model = CostModel.fit(_timings(slopes, intercepts, shapes))
    assert model.slopes["gbm"] == pytest.approx(slopes, abs=1e-3)
    assert model.intercepts == pytest.approx(intercepts, abs=1e-3)
    table = TableShape("multiclass", 50_000, 30, 18)
    expected = np.exp(1.0 + np.dot(slopes, np.log([50_000, 30, 18])))
    assert model.seconds(ModelConfig("slow", "gbm", {}), table) == pytest.approx(expected, rel=1e-2)
    # a configuration it has not seen costs its family's mean; an unknown family is not priced
    unseen = np.exp(-0.5 + np.dot(slopes, np.log([50_000, 30, 18])))
    assert model.seconds(ModelConfig("other", "gbm", {}), table) == pytest.approx(unseen, rel=1e-2)
    assert np.isnan(model.seconds(ModelConfig("x", "knn", {}), table))
    assert CostModel.from_json(model.to_json()) == model


def test_without_timings_at_two_sizes_seconds_grow_in_proportion_to_rows():
    timings = _timings([0.2, 0.0, 0.0], {"a": 0.0}, [("d0", 1_000, 4, 1), ("d1", 3_000, 4, 1)])
    assert CostModel.fit(timings).slopes["gbm"][0] == 1.0


def _evidence(tasks, test_error, oof_loss):
    return {"datasets": [{"name": f"d{i}", "task": t} for i, t in enumerate(tasks)],
            "test_error": test_error, "oof_loss": oof_loss}


def test_a_configuration_whose_cost_grows_with_rows_goes_later_on_a_large_table():
    configs = [ModelConfig("knn", "knn", {}), ModelConfig("gbm", "gbm", {})]
    evidence = _evidence(["binary"] * 12, {"knn": [0.5] * 12, "gbm": [0.2] * 12},
                         {"knn": [0.5] * 12, "gbm": [0.2] * 12})
    # knn: 0.01 s at 1,000 rows, x100 per 10x rows; gbm: 1 s at 1,000 rows, x10 per 10x rows
    cost = CostModel({"knn": [2.0, 0.0, 0.0], "gbm": [1.0, 0.0, 0.0]}, {},
                     {"knn": np.log(0.01) - 2 * np.log(1_000), "gbm": -np.log(1_000)})
    small, large = TableShape("binary", 1_000, 5, 2), TableShape("binary", 100_000, 5, 2)
    assert [c.name for c in order_for_table(configs, evidence, cost, small)] == ["knn", "gbm"]
    assert [c.name for c in order_for_table(configs, evidence, cost, large)] == ["gbm", "knn"]


def test_the_order_follows_the_evidence_of_the_tables_own_task():
    configs = [ModelConfig("forest", "forest", {}), ModelConfig("linear", "linear", {})]
    tasks = ["regression"] * 10 + ["binary"] * 10
    evidence = _evidence(tasks, {"forest": [0.6] * 10 + [0.1] * 10, "linear": [0.1] * 10 + [0.6] * 10},
                         {"forest": [0.6] * 10 + [0.1] * 10, "linear": [0.1] * 10 + [0.6] * 10})
    cost = CostModel({"forest": [0.0, 0.0, 0.0], "linear": [0.0, 0.0, 0.0]}, {}, {"forest": 0.0, "linear": 0.0})
    order = {task: [c.name for c in order_for_table(configs, evidence, cost, TableShape(task, 500, 5, 1))]
             for task in ("regression", "binary")}
    assert order == {"regression": ["linear", "forest"], "binary": ["forest", "linear"]}
    # a configuration the evidence does not cover keeps its place after the covered ones
    extra = ModelConfig("mine", "linear", {})
    assert order_for_table([extra] + configs, evidence, cost, TableShape("binary", 500, 5, 1))[-1] is extra


def test_the_shipped_portfolio_is_reordered_per_table_and_a_hand_written_one_is_not():
    shipped = load_portfolio("default")
    assert "evidence" in read_portfolio("default") and "cost" in read_portfolio("default")
    small = load_portfolio("default", table=TableShape("regression", 300, 8, 1))
    large = load_portfolio("default", table=TableShape("multiclass", 50_000, 16, 26))
    assert sorted(c.name for c in small) == sorted(c.name for c in large) == sorted(c.name for c in shipped)
    assert [c.name for c in small] != [c.name for c in large]
    handpicked = load_portfolio("handpicked")
    assert load_portfolio("handpicked", table=TableShape("regression", 300, 8, 1)) == handpicked


def test_fit_orders_the_portfolio_for_its_own_table(monkeypatch):
    seen = []

    def recording(portfolio, families, table):
        seen.append(table)
        return [ModelConfig("linear_base", "linear", {})]

    monkeypatch.setattr(automl.estimator, "load_portfolio", recording)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    AutoMLRegressor(time_limit=None, n_folds=2, random_state=0).fit(X, X[:, 0] + rng.normal(size=120))
    assert seen == [TableShape("regression", 120, 3, 1)]


def test_a_slope_that_comes_out_negative_is_held_at_zero():
    # wide tables that are also small: unconstrained, seconds would fall with columns
    shapes = [("d0", 1_000, 100, 1), ("d1", 1_000, 10, 1), ("d0", 8_000, 100, 1)]
    timings = _timings([1.0, 0.0, 0.0], {"a": 0.0}, shapes)
    timings[1]["seconds"] *= 4  # d1, the narrow one, slower
    assert CostModel.fit(timings).slopes["gbm"][1] == 0.0
