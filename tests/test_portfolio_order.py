"""The per-table portfolio order studied in benchmarks/studies (measured and not shipped): its cost
model and its greedy order, so that the study's figures come from code that does what it says."""
import numpy as np
import pytest

from automl.models.base import ModelConfig
from benchmarks.studies.portfolio_order import order_for_table
from benchmarks.studies.table_cost import CostModel, TableShape


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
    table = TableShape(50_000, 30, 18)
    expected = np.exp(1.0 + np.dot(slopes, np.log([50_000, 30, 18])))
    assert model.seconds(ModelConfig("slow", "gbm", {}), table) == pytest.approx(expected, rel=1e-2)
    # a configuration it has not seen costs its family's mean; an unknown family is not priced
    unseen = np.exp(-0.5 + np.dot(slopes, np.log([50_000, 30, 18])))
    assert model.seconds(ModelConfig("other", "gbm", {}), table) == pytest.approx(unseen, rel=1e-2)
    assert np.isnan(model.seconds(ModelConfig("x", "knn", {}), table))


def test_without_timings_at_two_sizes_seconds_grow_in_proportion_to_rows():
    timings = _timings([0.2, 0.0, 0.0], {"a": 0.0}, [("d0", 1_000, 4, 1), ("d1", 3_000, 4, 1)])
    assert CostModel.fit(timings).slopes["gbm"][0] == 1.0


def test_a_configuration_whose_cost_grows_with_rows_goes_later_on_a_large_table():
    test, oof = np.array([[0.5] * 12, [0.2] * 12]), np.array([[0.5] * 12, [0.2] * 12])  # knn, gbm
    # knn: 0.01 s at 1,000 rows, x100 per 10x rows; gbm: 1 s at 1,000 rows, x10 per 10x rows
    cost = CostModel({"knn": [2.0, 0.0, 0.0], "gbm": [1.0, 0.0, 0.0]}, {},
                     {"knn": np.log(0.01) - 2 * np.log(1_000), "gbm": -np.log(1_000)})
    configs = [ModelConfig("knn", "knn", {}), ModelConfig("gbm", "gbm", {})]
    for rows, expected in [(1_000, [0, 1]), (100_000, [1, 0])]:
        seconds = np.array([cost.seconds(c, TableShape(rows, 5, 2)) for c in configs])
        assert order_for_table(test, oof, np.ones(12, dtype=bool), seconds) == expected


def test_the_order_follows_the_evidence_of_the_tables_own_task():
    regression = np.array([True] * 10 + [False] * 10)
    test = np.array([[0.6] * 10 + [0.1] * 10, [0.1] * 10 + [0.6] * 10])  # forest, linear
    assert order_for_table(test, test, regression, np.ones(2)) == [1, 0]
    assert order_for_table(test, test, ~regression, np.ones(2)) == [0, 1]
    # a fit keeps the member with the best OOF loss: a configuration better on test but worse on
    # OOF than the prefix's best adds nothing (B), one better on both does (C)
    test, oof = np.array([[0.3] * 20, [0.0] * 20, [0.2] * 20]), np.array([[0.1] * 20, [0.5] * 20, [0.05] * 20])
    assert order_for_table(test, oof, np.ones(20, dtype=bool), np.array([1.0, 10.0, 10.0])) == [0, 2, 1]


def test_a_slope_that_comes_out_negative_is_held_at_zero():
    # wide tables that are also small: unconstrained, seconds would fall with columns
    shapes = [("d0", 1_000, 100, 1), ("d1", 1_000, 10, 1), ("d0", 8_000, 100, 1)]
    timings = _timings([1.0, 0.0, 0.0], {"a": 0.0}, shapes)
    timings[1]["seconds"] *= 4  # d1, the narrow one, slower
    assert CostModel.fit(timings).slopes["gbm"][1] == 0.0
