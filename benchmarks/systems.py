"""One benchmark job: fit one system on one dataset split, score it, write a JSON result.

run_benchmark.py starts this file as a subprocess, once per (dataset, system, seed):

    python -m benchmarks.systems --suite-dir DIR --dataset NAME --system NAME \
        --seed 0 --time-limit 120 --result result.json [--automl-kwargs JSON]

Each system is one small function `fit_predict_<system>(X_train, y_train, X_test, task,
time_limit, **kwargs)` that returns a `Prediction`; timing, data, split and metrics are
shared (protocol.py), so every system is measured the same way.

fit_seconds is the wall time of the fit call. predict_seconds is the wall time of the
call that gives the main metric on the test part: predict_proba for classification,
predict for regression (the extra predict call for accuracy is not timed).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import protocol


@dataclass
class Prediction:
    fit_seconds: float
    predict_seconds: float
    pred: object  # predicted labels (classification) or values (regression)
    proba: object = None  # classification: n x k probabilities ...
    proba_classes: list | None = None  # ... whose columns are these labels
    notes: dict = field(default_factory=dict)
    # other predictions of the same fit to score on the test part, e.g. its single best model;
    # each is scored into notes["test_<name>"]
    alternatives: dict[str, "Prediction"] = field(default_factory=dict)


def _is_categorical(s: pd.Series) -> bool:
    """String, object and category columns are the ones a system must encode."""
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
    )


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def fit_predict_sklearn_api(model, X_train, y_train, X_test, task, **fit_kwargs) -> Prediction:
    _, fit_s = _timed(model.fit, X_train, y_train, **fit_kwargs)
    if task == "regression":
        pred, pred_s = _timed(model.predict, X_test)
        return Prediction(fit_s, pred_s, np.asarray(pred).ravel())
    proba, pred_s = _timed(model.predict_proba, X_test)
    pred = np.asarray(model.predict(X_test)).ravel()
    return Prediction(fit_s, pred_s, pred, proba, list(model.classes_))


# --------------------------------------------------------------------------- systems


def fit_predict_automl(X_train, y_train, X_test, task, time_limit, automl_kwargs=None) -> Prediction:
    from automl import AutoMLClassifier, AutoMLRegressor

    kwargs = dict(time_limit=time_limit, random_state=0, verbosity=0, metric=protocol.MAIN_METRIC[task])
    kwargs.update(automl_kwargs or {})
    cls = AutoMLRegressor if task == "regression" else AutoMLClassifier
    model = cls(**kwargs)
    out = fit_predict_sklearn_api(model, X_train, y_train, X_test, task)
    # which configurations finished within the limit (e.g. whether TabM ran), and their weights
    board = model.leaderboard()
    out.notes["models"] = dict(zip(board["config"], board["ensemble_weight"].round(3)))
    out.notes["families"] = sorted(set(board["family"]))
    # the search's honesty: the chosen ensemble's and the single best model's OOF scores, whose
    # test scores run_job adds (notes["test_best_model"])
    out.notes["ensemble"] = model.ensemble_.describe()
    out.notes["ensemble_oof"] = float(model.ensemble_score_)
    report = model.ensemble_report()
    if "honest_score" in report:  # the search's cross-fitted + guard estimate of the chosen strategy
        out.notes["ensemble_honest"] = float(report.loc[report["chosen"], "honest_score"].iloc[0])
    out.notes["best_model"] = board["config"].iloc[0]
    out.notes["best_model_oof"] = float(board.iloc[0][f"oof_{model.metric_}"])
    out.alternatives["best_model"] = _single_model_prediction(model, board["config"].iloc[0], X_test, task)
    # Each OOF row comes from one fold copy, each test row from the mean of all copies, and a single
    # model gains more from that mean than an ensemble does. Test predictions from the first copy of
    # every model compare like with like: notes["test_best_model_one_copy"], "test_ensemble_one_copy".
    out.alternatives["best_model_one_copy"] = _single_model_prediction(model, board["config"].iloc[0], X_test, task,
                                                                       one_copy=True)
    out.alternatives["ensemble_one_copy"] = _ensemble_one_copy(model, X_test, task)
    return out


def _encoded(model, X_test):
    return model.encoder_.transform(X_test[list(model.feature_names_in_)])


def _copy_predict(model, name: str, features, one_copy: bool):
    bag = model.models_[name]
    return bag.models_[0].predict(features) if one_copy else bag.predict(features)


def _as_prediction(model, raw, task) -> Prediction:
    if task == "regression":
        return Prediction(0.0, 0.0, raw[:, 0])
    return Prediction(0.0, 0.0, model.classes_[raw.argmax(axis=1)], raw, list(model.classes_))


def _single_model_prediction(model, name: str, X_test, task, one_copy: bool = False) -> Prediction:
    """What one bagged model of a fitted automl estimator predicts for X_test (its internals)."""
    return _as_prediction(model, _copy_predict(model, name, _encoded(model, X_test), one_copy), task)


def _ensemble_one_copy(model, X_test, task) -> Prediction:
    """The chosen ensemble fed with the first fold copy of each member instead of the bag's mean."""
    features, names = _encoded(model, X_test), model.store_.names
    predictions = np.zeros((len(names), len(X_test), model.store_.n_outputs), dtype=np.float32)
    for j in model.ensemble_.used_models:
        predictions[j] = _copy_predict(model, names[j], features, one_copy=True)
    return _as_prediction(model, model.ensemble_.predict(predictions, features), task)


def catboost_default(X_train: pd.DataFrame, task: str):
    """(CatBoost with its defaults, the table preparation it needs, its cat_features): string
    columns as cat_features with NaN filled by "NA"."""
    from catboost import CatBoostClassifier, CatBoostRegressor

    cat_cols = [c for c in X_train.columns if _is_categorical(X_train[c])]

    def prep(X):
        X = X.copy()
        for c in cat_cols:
            X[c] = X[c].astype(object).where(X[c].notna(), "NA").astype(str)
        return X

    cls = CatBoostRegressor if task == "regression" else CatBoostClassifier
    # allow_writing_files=False only stops the catboost_info/ folder; the model is the default
    return cls(random_seed=0, verbose=0, allow_writing_files=False), prep, cat_cols


def fit_predict_catboost_default(X_train, y_train, X_test, task, time_limit, **_) -> Prediction:
    """CatBoost defaults (``catboost_default``)."""
    model, prep, cat_cols = catboost_default(X_train, task)
    return fit_predict_sklearn_api(model, prep(X_train), y_train, prep(X_test), task, cat_features=cat_cols)


def fit_predict_lightgbm_default(X_train, y_train, X_test, task, time_limit, **_) -> Prediction:
    """LightGBM defaults; string columns as pandas category, with the training part's
    categories for both parts (a value unseen in training becomes NaN)."""
    from lightgbm import LGBMClassifier, LGBMRegressor

    cat_cols = [c for c in X_train.columns if _is_categorical(X_train[c])]
    X_train, X_test = X_train.copy(), X_test.copy()
    for c in cat_cols:
        cats = sorted(X_train[c].dropna().astype(str).unique().tolist())
        dtype = pd.CategoricalDtype(categories=cats)
        X_train[c] = X_train[c].astype(object).where(X_train[c].notna(), None).astype(dtype)
        X_test[c] = X_test[c].astype(object).where(X_test[c].notna(), None).astype(dtype)

    cls = LGBMRegressor if task == "regression" else LGBMClassifier
    return fit_predict_sklearn_api(cls(random_state=0, verbose=-1), X_train, y_train, X_test, task)


def fit_predict_autogluon_best(X_train, y_train, X_test, task, time_limit, **_) -> Prediction:
    from autogluon.tabular import TabularPredictor

    eval_metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "root_mean_squared_error"}[task]
    label = y_train.name
    train = X_train.copy()
    train[label] = y_train.to_numpy()
    tmp = tempfile.mkdtemp(prefix="ag_")
    try:
        predictor = TabularPredictor(label=label, problem_type=task, eval_metric=eval_metric,
                                     path=str(Path(tmp) / "model"))
        _, fit_s = _timed(predictor.fit, train, time_limit=time_limit, presets="best_quality")
        if task == "regression":
            pred, pred_s = _timed(predictor.predict, X_test)
            out = Prediction(fit_s, pred_s, np.asarray(pred).ravel())
        else:
            proba, pred_s = _timed(predictor.predict_proba, X_test, as_multiclass=True)
            pred = np.asarray(predictor.predict(X_test)).ravel()
            out = Prediction(fit_s, pred_s, pred, proba.to_numpy(), list(proba.columns))
        try:
            out.notes["best_model"] = predictor.model_best
            out.notes["n_models"] = len(predictor.model_names())
        except Exception:  # noqa: BLE001 - notes are optional
            pass
        # without these, AutoGluon fits bagging folds one after another / skips its fastai net
        for module in ("ray", "fastai"):
            try:
                __import__(module)
            except ImportError:
                out.notes[f"{module}_absent"] = True
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SYSTEMS = {
    "automl": fit_predict_automl,
    "catboost_default": fit_predict_catboost_default,
    "lightgbm_default": fit_predict_lightgbm_default,
    "autogluon_best": fit_predict_autogluon_best,
}

# packages whose versions are recorded with each result
_VERSION_PACKAGES = {
    "automl": ["automl", "lightgbm", "xgboost", "catboost", "torch", "optuna"],
    "catboost_default": ["catboost"],
    "lightgbm_default": ["lightgbm"],
    "autogluon_best": ["autogluon.tabular", "lightgbm", "catboost", "xgboost", "torch", "ray"],
}


def versions(system: str) -> dict:
    out = {"python": platform.python_version()}
    for pkg in ["numpy", "pandas", "scikit-learn"] + _VERSION_PACKAGES.get(system, []):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            try:  # e.g. AutoGluon installs xgboost as the distribution "xgboost-cpu"
                out[pkg] = metadata.version(pkg + "-cpu")
                continue
            except metadata.PackageNotFoundError:
                pass
            if pkg == "automl":
                try:
                    import automl  # not installed, but importable from the repo

                    out[pkg] = getattr(automl, "__version__", "source")
                except Exception:  # noqa: BLE001
                    out[pkg] = "absent"
            else:
                out[pkg] = "absent"
    return out


# --------------------------------------------------------------------------- worker


def run_job(suite_dir: Path, dataset: str, system: str, seed: int, time_limit: float, automl_kwargs: dict) -> dict:
    entry = next((e for e in protocol.read_manifest(suite_dir) if e["name"] == dataset), None)
    if entry is None:
        raise SystemExit(f"dataset {dataset!r} is not in {suite_dir}/manifest.json")
    task = entry["task"]
    X, y = protocol.load_dataset(suite_dir, entry)
    classes = None if task == "regression" else protocol.sorted_classes(y)
    X_train, X_test, y_train, y_test = protocol.split(X, y, task, seed)

    kwargs = {"automl_kwargs": automl_kwargs} if system == "automl" else {}
    p = SYSTEMS[system](X_train, y_train, X_test, task, time_limit, **kwargs)
    scores = protocol.score(task, y_test, classes, proba=p.proba, proba_classes=p.proba_classes, pred=p.pred)
    for name, alt in p.alternatives.items():
        p.notes[f"test_{name}"] = protocol.score(task, y_test, classes, proba=alt.proba,
                                                 proba_classes=alt.proba_classes, pred=alt.pred)["value"]
    return {
        "task": task,
        **scores,
        "fit_seconds": p.fit_seconds,
        "predict_seconds": p.predict_seconds,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "notes": p.notes,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite-dir", type=Path, required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--automl-kwargs", default="{}", help="JSON dict of extra AutoML constructor arguments")
    ap.add_argument("--result", type=Path, required=True, help="where to write the JSON result")
    args = ap.parse_args(argv)

    result = {"versions": versions(args.system)}
    try:
        result.update(run_job(args.suite_dir, args.dataset, args.system, args.seed, args.time_limit,
                              json.loads(args.automl_kwargs)))
        result["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a failing system is a result, not a crash
        traceback.print_exc()
        result["status"] = "error"
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
    args.result.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
