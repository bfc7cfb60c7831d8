"""TabM family: preprocessing, training on the CPU, determinism, GPU-to-CPU loading, the estimator."""
from __future__ import annotations

import json
import pickle
import time

import numpy as np
import pytest
import torch

from automl.data.training import TrainingData
from automl import AutoMLClassifier, AutoMLRegressor
from automl.budget import TimeBudget
from automl.data.encoder import TabularEncoder
from automl.models.bagging import BaggedModel
from automl.models.base import ModelTimeout
from automl.models.base import ModelConfig, TaskInfo
from automl.models.tabm import (CPU_DEFAULTS, CPU_OPTIONS, DEFAULTS, TabMInputs, TabMModel, _parameter_groups,
                                batch_size_for, normal_scores)
from automl.folds import FoldPlan, inner_split

# A small network and few epochs keep each fit to a second or two on a CPU.
TINY = {"k": 4, "d_block": 32, "n_bins": 8, "d_embedding": 4, "max_epochs": 20, "patience": 5}
ONE_EPOCH = {"min_epochs": 1}  # options: a fold may start when its budget pays for one epoch


def _fit(frame, y, task, params=TINY, seed=0, budget=None, options=ONE_EPOCH):
    table = TabularEncoder().fit(frame).transform(frame)
    info = TaskInfo(task, 0 if task == "regression" else int(y.max()) + 1)
    fit_rows, val_rows = inner_split(y, task, seed=0)
    model = TabMModel(params, info, seed=seed, n_threads=1, options=options)
    model.fit(table.take(fit_rows), y[fit_rows], table.take(val_rows), y[val_rows], budget=budget)
    return model, table


@pytest.fixture
def binary(mixed_classification):
    frame, label = mixed_classification
    return frame, (label == "yes").to_numpy().astype(int)


@pytest.fixture
def regression(regression_data):
    frame, target = regression_data
    return frame, target.to_numpy()


def test_classification_learns_the_signal(binary):
    frame, y = binary
    model, table = _fit(frame, y, "binary")
    proba = model.predict(table)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(proba.argmax(axis=1) == y) > 0.8  # the label is mostly 2 * x1 + colour
    assert 0 <= model.best_epoch_ < len(model.history_)


def test_regression_beats_the_mean(regression):
    frame, y = regression
    model, table = _fit(frame, y, "regression")
    pred = model.predict(table)
    assert pred.shape == (len(y), 1)
    assert np.sqrt(np.mean((pred[:, 0] - y) ** 2)) < 0.5 * y.std()


def test_same_seed_same_model_other_seed_other_model(binary):
    frame, y = binary
    first, table = _fit(frame, y, "binary", seed=3)
    again, _ = _fit(frame, y, "binary", seed=3)
    other, _ = _fit(frame, y, "binary", seed=4)
    np.testing.assert_array_equal(first.predict(table), again.predict(table))
    assert not np.allclose(first.predict(table), other.predict(table))


def test_model_trained_for_the_gpu_loads_and_predicts_on_the_cpu(binary):
    frame, y = binary
    model, table = _fit(frame, y, "binary")
    expected = model.predict(table)
    model.device = "cuda"  # as if trained on a GPU: the pickle must still load on this CPU-only machine
    loaded = pickle.loads(pickle.dumps(model))
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    if not torch.cuda.is_available():
        np.testing.assert_array_equal(loaded.predict(table), expected)


def test_inputs_drop_constant_numbers_and_keep_missing_as_a_level():
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "constant": 7.0, "colour": rng.choice(["a", "b", None], 60)})
    frame.loc[:9, "x"] = np.nan
    table = TabularEncoder().fit(frame).transform(frame)
    inputs = TabMInputs().fit(table, seed=0)
    x_num, x_cat = inputs.transform(table)
    assert x_num.shape == (60, 1)  # "constant" dropped
    assert np.isfinite(x_num).all() and abs(np.median(x_num[10:])) < 0.2  # normal scores, missing -> 0
    # colour (levels a, b, other, missing) and the missing indicator of x
    assert inputs.cat_cardinalities_ == [table.cardinalities[0] + 1, 2]
    assert (x_cat[:, 0] == table.cardinalities[0])[frame["colour"].isna().to_numpy()].all()
    np.testing.assert_array_equal(x_cat[:, 1], frame["x"].isna().to_numpy().astype(int))
    assert (x_cat < np.array(inputs.cat_cardinalities_)).all()


def test_normal_scores_equal_scikit_learns_quantile_transform():
    from sklearn.preprocessing import QuantileTransformer

    rng = np.random.default_rng(0)
    train = np.column_stack([rng.normal(size=300), rng.integers(0, 4, 300), rng.exponential(size=300)])
    fitted = QuantileTransformer(output_distribution="normal", n_quantiles=50).fit(train)
    # Ties, values past both ends of the fitted range, on its ends, and missing values.
    new = np.vstack([train[:40], [[-50.0, 0, 0.0], [50.0, 3, 1e6], [np.nan, 2, np.nan]],
                     fitted.quantiles_[[0, -1]]])
    expected = fitted.transform(new)
    np.testing.assert_allclose(normal_scores(new, fitted.quantiles_, fitted.references_), expected, rtol=1e-12,
                               atol=1e-12)
    assert np.isnan(expected[-3, [0, 2]]).all()


def test_batch_size_grows_with_rows():
    assert [batch_size_for(n) for n in (500, 2_800, 10_000, 50_000, 108_000, 500_000)] == [32, 64, 128, 512, 1024,
                                                                                            1024]


def test_no_weight_decay_on_biases_and_embeddings(binary):
    frame, y = binary
    model, _ = _fit(frame, y, "binary", params={**TINY, "max_epochs": 1})
    decayed, free = _parameter_groups(model.module_, 3e-4)
    names = {id(p): n for n, p in model.module_.named_parameters()}
    assert all(not names[id(p)].endswith("bias") and not names[id(p)].startswith("num_module")
               for p in decayed["params"])
    assert {names[id(p)] for p in free["params"]} >= {n for n in names.values() if n.startswith("num_module")}
    assert free["weight_decay"] == 0.0 and decayed["weight_decay"] == 3e-4


def test_cpu_gets_the_light_variant(binary):
    frame, y = binary
    model, _ = _fit(frame, y, "binary", params={"max_epochs": 1}, options={"min_epochs": 0})
    assert model.module_.k == CPU_DEFAULTS["k"] < DEFAULTS["k"]
    assert model.threads_ == 1  # the thread count it was given


def test_training_stops_before_an_epoch_would_overrun_the_budget(binary):
    frame, y = binary
    start = time.monotonic()
    model, _ = _fit(frame, y, "binary", params={**TINY, "max_epochs": 10**6, "patience": 10**6},
                    budget=TimeBudget(2.0))
    longest_epoch = max(h["seconds"] for h in model.history_)
    assert 1 <= len(model.history_) < 10**6
    assert time.monotonic() - start < 2.0 + longest_epoch + 1.0  # + preprocessing and the last evaluation


def test_budget_too_small_for_min_epochs_skips_the_fold(binary):
    frame, y = binary
    with pytest.raises(ModelTimeout, match="per epoch"):
        _fit(frame, y, "binary", params={**TINY, "max_epochs": 10**6}, options={"min_epochs": 10**6},
             budget=TimeBudget(5))


def _fit_priced_bag(binary, epoch_prices, fold_copies):
    """Fits a TabM bag (``min_epochs`` 10, a 20 s budget) whose copies are priced in turn at
    ``epoch_prices`` seconds an epoch (patched for this fit only); returns the bag and its OOF
    predictions."""
    frame, y = binary
    table = TabularEncoder().fit(frame).transform(frame)
    prices = iter(epoch_prices)
    config = ModelConfig("t", "tabm", TINY, {"min_epochs": 10, "fold_copies": fold_copies})
    bag = BaggedModel(config, TaskInfo("binary", 2), seed=0, n_threads=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TabMModel, "_seconds_per_epoch", lambda self, *args: next(prices))
        return bag, bag.fit(TrainingData(table, y), FoldPlan.make(y, 8, "binary", seed=0), TimeBudget(20))


def test_after_the_first_copy_refuses_no_later_copy_trains(binary, monkeypatch):
    # spambase at 30 s: the second copy, started by the pool before the refusal reached the bag,
    # trained for 2.1 s and was thrown away with the bag
    trained = []
    train = TabMModel._train
    monkeypatch.setattr(TabMModel, "_train", lambda self, *args: trained.append(1) or train(self, *args))
    with pytest.raises(ModelTimeout, match="per epoch"):  # the first copy is priced out; the later ones are cheap
        _fit_priced_bag(binary, [3.0] + [0.001] * 10, fold_copies=4)
    assert trained == []


def test_one_stalled_batch_does_not_price_tabm_out_of_its_budget(binary, monkeypatch):
    """The first timed batch of the epoch's price stalls (as a garbage collection would): priced
    by it, 5 epochs would need far more than the 10 s budget and the fold would be skipped."""
    frame, y = binary
    forward, calls = TabMModel._forward, []

    def stalling_forward(module, x_num, x_cat):
        calls.append(1)
        if len(calls) == 2:  # the first call after the one-off warm-up
            time.sleep(0.5)
        return forward(module, x_num, x_cat)

    monkeypatch.setattr(TabMModel, "_forward", staticmethod(stalling_forward))
    model, _ = _fit(frame, y, "binary", budget=TimeBudget(10), options={"min_epochs": 5})
    n_batches = -(-len(y) // batch_size_for(len(y)))
    assert 0.5 * n_batches * 5 > 10  # the stalled call alone would have refused the fold
    assert len(model.history_) >= 5


def test_without_validation_rows_a_refit_trains_its_fixed_epochs(binary):
    frame, y = binary
    table = TabularEncoder().fit(frame).transform(frame)
    model = TabMModel({**TINY, "max_epochs": 3}, TaskInfo("binary", 2), seed=0, n_threads=1, options=ONE_EPOCH)
    model.fit(table, y)
    assert len(model.history_) == 3 and model.best_epoch_ == 2  # no early stopping: the last epoch's weights
    assert model.predict(table).shape == (len(y), 2)


def _tiny_portfolio(tmp_path):
    path = tmp_path / "tabm.json"
    path.write_text(json.dumps({"name": "tiny", "configs": [{"name": "tabm_tiny", "family": "tabm", "params": TINY,
                                                                 "options": ONE_EPOCH}]}))
    return str(path)


def test_estimator_fits_tabm_alone(mixed_classification, regression_data, tmp_path):
    frame, label = mixed_classification
    clf = AutoMLClassifier(models=["tabm"], portfolio=_tiny_portfolio(tmp_path), n_folds=2, verbosity=0, n_jobs=1)
    clf.fit(frame, label)
    assert list(clf.leaderboard()["family"]) == ["tabm"]
    assert clf.score(frame, label) > 0.8
    X, target = regression_data
    reg = AutoMLRegressor(models=["tabm"], portfolio=_tiny_portfolio(tmp_path), n_folds=2, verbosity=0, n_jobs=1)
    assert reg.fit(X, target).score(X, target) > 0.5  # R²


def test_cpu_variant_trains_fewer_copies_on_groups_of_folds(binary):
    frame, y = binary
    table = TabularEncoder().fit(frame).transform(frame)
    plan = FoldPlan.make(y, 8, "binary", seed=0)
    bagged = BaggedModel(ModelConfig("t", "tabm", TINY, {**ONE_EPOCH, "fold_copies": 2}), TaskInfo("binary", 2),
                         seed=0, n_threads=1)
    oof = bagged.fit(TrainingData(table, y), plan, TimeBudget(None))
    assert len(bagged.models_) == 2 and np.isfinite(oof).all() and (oof.sum(axis=1) > 0.99).all()
    assert TabMModel.fold_copies({}, "cpu", 8) == CPU_OPTIONS["fold_copies"] < 8
    assert TabMModel.fold_copies({}, "cuda", 8) == 8


def test_a_later_copy_a_few_epochs_short_still_trains_and_the_bag_is_kept(binary):
    # letter at 120 s: the third of 4 copies afforded 9.99 of 10 epochs and the finished copies were lost
    # The first copy is cheap; the second's ~19 s at 3 s an epoch pay for 6 epochs: fewer than 10,
    # more than half of them.
    bag, oof = _fit_priced_bag(binary, [0.001] + [3.0] * 10, fold_copies=2)
    assert len(bag.models_) == 2 and np.isfinite(oof).all()
    assert [m.options["min_epochs"] for m in bag.models_] == [10, 5]
    with pytest.raises(ModelTimeout, match="per epoch"):  # the first copy alone decides whether TabM fits
        _fit_priced_bag(binary, [3.0] * 10, fold_copies=2)
