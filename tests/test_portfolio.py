"""Portfolios: validated on load, the candidate pool, resumable evaluation, greedy selection."""
import csv
import math
from dataclasses import replace
import json

import numpy as np
import pandas as pd
import pytest

from automl.models.base import ModelConfig
from automl.portfolio import distinct, load_portfolio
from automl.portfolio.candidates import build
from automl.portfolio.__main__ import main
from automl.portfolio.select import (DatasetResults, greedy_portfolio, load_results, mean_error, training_seconds,
                                     with_cross_fitted)


def _write(tmp_path, configs):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "p", "configs": configs}))
    return path


@pytest.mark.parametrize("configs, message", [
    ([{"name": "a", "family": "lightgbm_v2", "params": {}}], "unknown family 'lightgbm_v2'"),
    ([{"name": "a", "family": "lightgbm", "params": {"num_leafs": 8}}], r"unknown lightgbm hyperparameters \['num_leafs'\]"),
    ([{"name": "a", "family": "tabm", "params": {"min_epochs": 1}}], r"unknown tabm hyperparameters \['min_epochs'\]"),
    ([{"name": "a", "family": "tabm", "options": {"min_epoch": 1}}], r"unknown tabm options \['min_epoch'\]"),
    ([{"name": "a", "family": "linear", "params": {}}, {"name": "a", "family": "knn", "params": {}}], "'a' is used twice"),
    ([{"name": "a", "family": "knn", "params": {"n_neighbors": 5}},
      {"name": "b", "family": "knn", "params": {"n_neighbors": 5}, "options": {}}], "'b' is the same model as 'a'"),
])
def test_a_portfolio_file_with_a_mistake_is_refused_with_its_name(tmp_path, configs, message):
    with pytest.raises(ValueError, match=message):
        load_portfolio(_write(tmp_path, configs))


def test_shipped_portfolios_and_the_candidate_pool_are_valid():
    default = load_portfolio("default")  # the learned one: enough configurations and families to ensemble
    assert len(default) >= 25 and len({c.family for c in default}) >= 5 and "tabm" in {c.family for c in default}
    evaluated = {c.name: c for name in ("candidates", "handpicked") for c in load_portfolio(name)}
    assert all(evaluated[c.name] == c for c in default)  # chosen from what the evaluation ran, unchanged
    pool = load_portfolio("candidates")
    families = {c.family for c in pool}
    assert len(pool) >= 40 and {"lightgbm", "xgboost", "catboost", "tabm"} <= families
    assert len({c.name for c in pool}) == len(pool)
    spaces = json.loads((__import__("pathlib").Path(__file__).parents[1] / "portfolios" / "spaces.json").read_text())
    assert [e["name"] for e in build(spaces)] == [c.name for c in pool]  # candidates.json is up to date


def test_a_pool_that_lists_a_model_twice_offers_it_once():
    pool = [ModelConfig("a", "knn", {"n_neighbors": 5}), ModelConfig("b", "knn", {"n_neighbors": 7}),
            ModelConfig("c", "knn", {"n_neighbors": 5}), ModelConfig("d", "tabm", {}, {"fold_copies": 2}),
            ModelConfig("e", "tabm", {}, {})]
    assert distinct(pool) == [0, 1, 3, 4]  # options make a different model; parameters in any order do not
    assert distinct([ModelConfig("x", "lightgbm", {"a": 1, "b": 2}), ModelConfig("y", "lightgbm", {"b": 2, "a": 1})]) == [0]


def _dataset(seed: int, scales: dict) -> DatasetResults:
    """Regression predictions y + noise: 'A' and 'B' err in opposite directions (their mean is
    nearly exact), 'C' is independent, worse than A and better than B on its own."""
    rng = np.random.default_rng(seed)
    n = 400

    def part():
        y = rng.normal(size=n)
        e, f = rng.normal(size=n), rng.normal(size=n)
        return y, np.stack([y + scales["A"] * e, y - scales["B"] * e, y + scales["C"] * f])[..., None]

    (y, oof), (y_test, test) = part(), part()
    return DatasetResults(f"d{seed}", "regression", "rmse", oof, test, y, y_test, np.array([1.0, 1.0, 0.1]))


def test_ensemble_aware_greedy_picks_the_complement_that_single_best_greedy_misses():
    # C is the best single model on the first dataset only
    results = [_dataset(seed, {"A": 1.0, "B": 1.05, "C": c}) for seed, c in enumerate([0.8, 1.2, 1.2])]
    assert greedy_portfolio(results, 2, scorer="single") == [0, 2]  # A, then the best alone where A is not
    assert greedy_portfolio(results, 2, scorer="ensemble") == [0, 1]  # A, then what completes it
    assert mean_error(results, [0, 1]) < mean_error(results, [0, 2]) - 0.1


def test_a_failed_candidate_counts_as_not_trained():
    scales = {"A": 1.0, "B": 1.05, "C": 0.8}
    whole = _dataset(0, scales)
    failed = DatasetResults(whole.name, whole.task, whole.metric, whole.oof, whole.test, whole.y, whole.y_test,
                            whole.fit_seconds, failed=np.array([False, False, True]))
    assert failed.prefix_error([2], "ensemble") == 1.0 and whole.prefix_error([2], "ensemble") < 1.0
    assert failed.prefix_error([0, 2], "single") == failed.prefix_error([0], "single")
    assert greedy_portfolio([failed], 1) == [0]  # C is best alone, but it did not finish here


def test_time_aware_greedy_starts_with_what_pays_most_per_second():
    results = [_dataset(seed, {"A": 1.0, "B": 1.1, "C": 1.03}) for seed in range(3)]
    assert greedy_portfolio(results, 1) == [0]
    assert greedy_portfolio(results, 1, time_aware=True) == [2]  # C is 10x cheaper and nearly as good


def test_greedy_continues_from_the_members_it_is_given():
    results = [_dataset(seed, {"A": 1.0, "B": 1.05, "C": 0.8}) for seed in range(3)]
    assert greedy_portfolio(results, 1) == [2]  # C alone is best
    assert greedy_portfolio(results, 2, start=[1]) == [1, 0]  # B given first: A, which cancels its error
    assert greedy_portfolio(results, 3, start=[1]) == [1, 0, 2]


def _independent(seed: int, scales: list[float]) -> DatasetResults:
    """Regression candidates y + scale * independent noise: test RMSE close to each scale."""
    rng = np.random.default_rng(seed)
    y, y_test = rng.normal(size=400), rng.normal(size=400)
    oof, test = ([target + s * rng.normal(size=400) for s in scales] for target in (y, y_test))
    return DatasetResults(f"d{seed}", "regression", "rmse", np.stack(list(oof))[..., None],
                          np.stack(list(test))[..., None], y, y_test, np.ones(len(scales)))


def test_budget_aware_greedy_adds_a_strong_slow_candidate_only_where_the_limit_pays_for_it():
    # A is best alone but takes 50 s; C is weaker and takes 1 s; B (5 s) is given first. Under no
    # limit A completes B best; under a 30 s limit (22 s of training) B + A do not fit, B + C do.
    results = [replace(_independent(seed, [1.0, 1.5, 1.4]), fit_seconds=np.array([50.0, 5.0, 1.0]))
               for seed in range(3)]
    assert training_seconds(30) < 55 < training_seconds(120)
    assert greedy_portfolio(results, 2, start=[1], budgets=(math.inf,)) == [1, 0]
    assert greedy_portfolio(results, 2, start=[1], budgets=(30,)) == [1, 2]
    assert greedy_portfolio(results, 2, start=[1], budgets=(120,)) == [1, 0]
    assert greedy_portfolio(results, 1, budgets=(30,)) == [0]  # the first member counts whatever its time
    assert greedy_portfolio(results, 1, time_aware=True) == [2]  # per second, C would come first


def test_median_normalization_keeps_a_failing_candidate_from_compressing_a_dataset():
    # A and B trade places; Z fails badly on the first and third datasets. Scaled by the worst
    # candidate, B's loss there is ~1% of the range and B looks best; scaled by the median (and
    # clipped at 1), A wins two datasets of three and is chosen.
    results = [_independent(seed, scales) for seed, scales in
               enumerate([[1.0, 2.5, 100.0], [1.9, 1.0, 2.1], [1.0, 2.5, 100.0]])]
    assert results[0].normalized_error(results[0]._test_losses[1]) < 0.03
    median = [r.normalized("median") for r in results]
    assert median[0].normalized_error(median[0]._test_losses[1]) == pytest.approx(1.0)
    assert median[0].normalized_error(median[0]._test_losses[2]) == 1.0  # clipped at the median's error
    assert greedy_portfolio(results, 1) == [1]
    assert greedy_portfolio(median, 1) == [0]
    with pytest.raises(ValueError, match="Unknown normalization 'best'"):
        results[0].normalized("best")


def _suite(tmp_path):
    rng = np.random.default_rng(0)
    manifest = []
    for name, task in [("toy_binary", "binary"), ("toy_regression", "regression")]:
        X = rng.normal(size=(240, 4))
        y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) if task == "binary" else X[:, 0] * 3 + X[:, 2]
        frame = pd.DataFrame(X, columns=list("abcd")).assign(target=y)
        frame.to_csv(tmp_path / f"{name}.csv.gz", index=False)
        manifest.append({"name": name, "file": f"{name}.csv.gz", "target": "target", "task": task,
                         "rows": 240, "features": 4, "source": "test"})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_evaluate_is_resumable_and_select_writes_a_valid_portfolio(tmp_path):
    suite = _suite(tmp_path)
    out = tmp_path / "eval"
    names = "linear_000,knn_000,lightgbm_000"
    main(["evaluate", "--suite", str(suite), "--out", str(out), "--configs", names, "--threads", "1"])
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    main(["evaluate", "--suite", str(suite), "--out", str(out), "--configs", names, "--threads", "1"])
    assert len(list(csv.DictReader(open(out / "results.csv")))) == 6  # nothing is evaluated twice
    results = load_results(out, names.split(","))
    assert [r.name for r in results] == ["toy_binary", "toy_regression"] and results[0].oof.shape[:2] == (3, 180)
    order = greedy_portfolio(results, 2)
    assert len(order) == 2 and len(set(order)) == 2
    assert len(greedy_portfolio(with_cross_fitted(results), 2)) == 2
    with pytest.raises(SystemExit, match="no dataset has results for every candidate"):
        main(["select", "--results", str(out), "--out", str(tmp_path / "learned.json")])
    pool = _write(tmp_path, [{"name": c.name, "family": c.family, "params": c.params}
                             for c in load_portfolio("candidates") if c.name in names.split(",")])
    main(["select", "--results", str(out), "--pool", str(pool), "--size", "2", "--time-aware",
          "--out", str(tmp_path / "learned.json")])
    learned = json.loads((tmp_path / "learned.json").read_text())
    assert "2 datasets" in learned["built_from"] and "median-normalized, time-aware" in learned["built_from"]
    assert len(load_portfolio(tmp_path / "learned.json")) == 2
    main(["select", "--results", str(out), "--pool", str(pool), "--size", "3", "--budgets", "30,inf",
          "--out", str(tmp_path / "budgets.json")])
    learned = json.loads((tmp_path / "budgets.json").read_text())
    assert "budget-aware" in learned["built_from"] and "fit limits 30,inf s" in learned["metric"]
    assert len(load_portfolio(tmp_path / "budgets.json")) == 3


def test_evaluate_subsamples_training_rows_to_the_size_asked(tmp_path):
    suite = _suite(tmp_path)
    out = tmp_path / "eval"
    main(["evaluate", "--suite", str(suite), "--out", str(out), "--configs", "linear_000", "--threads", "1",
          "--datasets", "toy_regression", "--max-train-rows", "100"])
    assert len(np.load(out / "toy_regression" / "_targets.npz")["y"]) == 100  # of 180 training rows
    assert [r["status"] for r in csv.DictReader(open(out / "results.csv"))] == ["ok"]


def test_a_pair_that_killed_the_evaluation_twice_is_recorded_and_not_retried(tmp_path):
    suite = _suite(tmp_path)
    out = tmp_path / "eval"
    out.mkdir()
    (out / "started.txt").write_text("toy_binary\tknn_000\n" * 2)  # two native crashes on this pair
    main(["evaluate", "--suite", str(suite), "--out", str(out), "--configs", "linear_000,knn_000", "--threads", "1"])
    rows = {(r["dataset"], r["config"]): r for r in csv.DictReader(open(out / "results.csv"))}
    assert len(rows) == 4
    assert rows["toy_binary", "knn_000"]["status"] == "error" and "died twice" in rows["toy_binary", "knn_000"]["error"]
    assert rows["toy_regression", "knn_000"]["status"] == "ok"


@pytest.mark.parametrize("task, metric, outputs", [("regression", "rmse", 1), ("binary", "roc_auc", 2),
                                                    ("multiclass", "log_loss", 3)])
def test_extension_errors_equal_a_ges_fit_per_extension(task, metric, outputs):
    """The one-pass scoring of every prefix + [j] against GreedyEnsemble fitted on each (the reference)."""
    rng = np.random.default_rng(1)
    n, n_models = 150, 9

    def part():
        y = rng.normal(size=n) if task == "regression" else rng.integers(0, outputs, size=n)
        signal = np.eye(outputs)[y] if task != "regression" else y[:, None]
        raw = signal[None] + rng.normal(scale=rng.uniform(0.5, 2.0, size=(n_models, 1, 1)), size=(n_models, n, outputs))
        if task != "regression":
            raw = np.exp(np.round(raw, 1))  # rounded: ties, as trees predict them
            raw /= raw.sum(axis=2, keepdims=True)
        return y, raw.astype(np.float32)

    (y, oof), (y_test, test) = part(), part()
    oof[4] = oof[3]  # a duplicate candidate: ties between members
    failed = np.zeros(n_models, dtype=bool)
    failed[7] = True
    results = DatasetResults("d", task, metric, oof, test, y, y_test, np.ones(n_models), failed)
    for prefix in ([], [0], [2, 5], [1, 3, 6, 8], [0, 7]):
        expected = [results.prefix_error(prefix + [j], "ensemble") for j in range(n_models)]
        np.testing.assert_allclose(results.extension_errors(prefix), expected, rtol=1e-6, atol=1e-9)


def test_oof_halves_score_each_half_with_a_ges_fitted_on_the_other():
    whole = _dataset(0, {"A": 1.0, "B": 1.05, "C": 0.8})
    views = whole.cross_fitted()
    assert len(views) == 2 and [len(v.y) + len(v.y_test) for v in views] == [len(whole.y)] * 2
    scored = np.sort(np.concatenate([v.y_test for v in views]))
    np.testing.assert_array_equal(scored, np.sort(whole.y))  # every OOF row is scored once
    for view in views:  # and by a GES that did not see it: its fit rows are the other half's
        assert not set(view.y_test.tolist()) & set(view.y.tolist())
    assert [v.name for v in with_cross_fitted([whole])] == ["d0", "d0[oof half 0]", "d0[oof half 1]"]


def test_a_failed_pair_is_charged_its_whole_time_limit(tmp_path, monkeypatch):
    import automl.portfolio.select as select
    from automl.portfolio.evaluate import SECONDS_PER_PAIR
    suite, out = _suite(tmp_path), tmp_path / "eval"
    names = ["linear_000", "knn_000"]
    main(["evaluate", "--suite", str(suite), "--out", str(out), "--configs", ",".join(names), "--threads", "1"])
    rows = list(csv.DictReader(open(out / "results.csv")))
    for row in rows:  # knn_000 timed out on the regression table
        if row["dataset"] == "toy_regression" and row["config"] == "knn_000":
            row.update(status="error", error="ModelTimeout: ...", fit_seconds="", oof_score="", test_score="")
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(select, "MIN_FINISHED_SHARE", 0.5)
    regression = next(r for r in load_results(out, names) if r.name == "toy_regression")
    assert regression.failed.tolist() == [False, True]
    assert regression.fit_seconds[1] == SECONDS_PER_PAIR and regression.fit_seconds[0] < SECONDS_PER_PAIR
