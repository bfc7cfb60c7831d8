"""A real user's table and objective (issue 25): groups, and a decision tuned for a label metric.

``groups``: per table of ``../shared/datasets/grouped`` (each names its group column), the test
part is unseen groups (``GroupShuffleSplit``, 25%, --seed, default 0). Three fits: ``id_as_feature`` (what a
user who knows nothing of groups does: the group column stays a feature, folds by row),
``no_groups`` (the column left out, folds by row) and ``groups`` (``groups=`` the column, which
leaves it out of the features). Per fit: the chosen ensemble's OOF score and test score in the
fit's metric (RMSE, or log loss for the multiclass table) and the optimism ``(test - OOF) / test``
of a loss (positive: the OOF score promised more than unseen groups got).

``metrics``: per dev table (BENCHMARK.md split, seed 0), one fit optimizing F1 (binary), balanced
accuracy (multiclass) or MAE (regression, beside a fit optimizing RMSE): the test metric of
``predict`` (with the decision rule the fit kept) beside the same probabilities at argmax.

``calibration``: per multiclass dev table, the default fit (log loss): test log loss and expected
calibration error with the calibration the fit kept, and without.

``weights``: per binary dev table in --datasets (BENCHMARK.md split, seed 0), four fits with
``metric="accuracy"``: unweighted; class-balancing weights (each class weighs 1 / its share);
integer weights 1-3 drawn per row; and the same rows duplicated that many times instead. The test
part is scored by accuracy weighted as its fit was (class-balanced accuracy for the first two).

Rows are appended as each fit finishes; a rerun skips what is in --out.

    python -m benchmarks.studies.objectives groups --time-limit 60 --out benchmarks/results/groups.csv
    python -m benchmarks.studies.objectives metrics --time-limit 60 --out benchmarks/results/metrics.csv
    python -m benchmarks.studies.objectives calibration --time-limit 60 --out benchmarks/results/calibration.csv
    python -m benchmarks.studies.objectives weights --time-limit 30 --datasets churn \
        --out benchmarks/results/weights.csv
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from automl import AutoMLClassifier, AutoMLRegressor
from automl.calibration import Calibration, expected_calibration_error
from automl.decision import labels_as_predictions
from automl.metrics import get_metric

from ..protocol import DEV, SHARED, append_row, load_dataset, markdown_table, read_manifest, split

GROUPED = SHARED / "datasets" / "grouped"
GROUP_COLUMNS = ["dataset", "task", "variant", "metric", "n_folds", "oof", "test", "optimism", "ensemble",
                 "fit_seconds", "time_limit", "seed"]
WEIGHT_COLUMNS = ["dataset", "variant", "test_balanced_accuracy", "test_integer_weighted_accuracy", "fit_seconds",
                  "time_limit"]
LABEL_METRIC = {"binary": "f1", "multiclass": "balanced_accuracy", "regression": "mae"}
METRIC_COLUMNS = ["dataset", "task", "fit_metric", "metric", "test", "test_argmax", "rule", "oof_tuned", "oof_argmax",
                  "win_probability", "fit_seconds", "time_limit"]
CALIBRATION_COLUMNS = ["dataset", "calibration", "test_log_loss_raw", "test_log_loss_calibrated", "test_ece_raw",
                       "test_ece_calibrated", "oof_log_loss_raw", "oof_log_loss_calibrated", "win_probability",
                       "fit_seconds", "time_limit"]


def _done(out: Path, key) -> set:
    if not out.exists():
        return set()
    with open(out) as f:
        return {key(r) for r in csv.DictReader(f)}


def groups_study(time_limit: float, out: Path, seed: int = 0) -> None:
    done = _done(out, lambda r: (r["dataset"], r["variant"], r.get("seed") or "0"))
    for entry in read_manifest(GROUPED):
        X, y = load_dataset(GROUPED, entry)
        groups = X[entry["group"]].to_numpy()
        train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=seed).split(X, y, groups))
        for variant in ("id_as_feature", "no_groups", "groups"):
            if (entry["name"], variant, str(seed)) in done:
                continue
            features = X if variant == "id_as_feature" else X.drop(columns=[entry["group"]])
            estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
            model = estimator(time_limit=time_limit, verbosity=0, random_state=seed)
            start = time.perf_counter()
            model.fit(features.iloc[train], y.iloc[train], groups=groups[train] if variant == "groups" else None)
            seconds = time.perf_counter() - start
            X_test = features.iloc[test]
            if entry["task"] == "regression":
                prediction = model.predict(X_test)[:, None]
                y_test = y.iloc[test].to_numpy(dtype=float)
            else:
                prediction = model.predict_proba(X_test)
                y_test = model.label_codec_.encode(y.iloc[test])
            test_score = model.scorer_.score(y_test, prediction)
            oof = model.ensemble_score_
            append_row(out, {"dataset": entry["name"], "task": entry["task"], "variant": variant,
                             "metric": model.metric_, "n_folds": int(model.store_.fold_of.max()) + 1, "oof": oof,
                             "test": test_score, "optimism": (test_score - oof) / test_score,
                             "ensemble": model.ensemble_.describe(), "fit_seconds": seconds,
                             "time_limit": time_limit, "seed": seed}, GROUP_COLUMNS)
            print(entry["name"], variant, f"OOF {oof:.4f} test {test_score:.4f}", flush=True)


def metric_study(time_limit: float, out: Path, datasets: str) -> None:
    """Per dev table, one fit optimizing the task's label or robust metric: F1 (binary), balanced
    accuracy (multiclass), MAE (regression, beside a fit optimizing RMSE, scored in MAE too)."""
    done = _done(out, lambda r: (r["dataset"], r["fit_metric"]))
    for entry in _dev_entries(datasets):
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        metric = LABEL_METRIC[entry["task"]]
        for fit_metric in ([metric, "rmse"] if entry["task"] == "regression" else [metric]):
            if (entry["name"], fit_metric) in done:
                continue
            estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
            model = estimator(time_limit=time_limit, metric=fit_metric, verbosity=0, random_state=0)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            scorer = get_metric(metric, entry["task"])
            row = {"dataset": entry["name"], "task": entry["task"], "fit_metric": fit_metric, "metric": metric,
                   "fit_seconds": seconds, "time_limit": time_limit}
            if entry["task"] == "regression":
                row["test"] = scorer.score(y_test.to_numpy(dtype=float), model.predict(X_test)[:, None])
            else:
                truth = model.label_codec_.encode(y_test)
                proba = model.predict_proba(X_test)
                tuned = model.label_codec_.encode(pd.Series(model.predict(X_test)))
                n_classes = len(model.classes_)
                row.update(test=scorer.score(truth, labels_as_predictions(tuned, n_classes)),
                           test_argmax=scorer.score(truth, labels_as_predictions(proba.argmax(axis=1), n_classes)),
                           rule=model.decision_rule_.describe(), oof_tuned=model.decision_report_.get("tuned_score"),
                           oof_argmax=model.decision_report_.get("argmax_score"),
                           win_probability=model.decision_report_.get("win_probability"))
            append_row(out, row, METRIC_COLUMNS)
            print(entry["name"], fit_metric, row.get("test"), row.get("test_argmax"), flush=True)


def calibration_study(time_limit: float, out: Path, datasets: str) -> None:
    """Per multiclass dev table, the default fit (log loss): test log loss and expected calibration
    error of ``predict_proba`` with the calibration the fit kept, and of the raw ensemble."""
    done = _done(out, lambda r: r["dataset"])
    for entry in _dev_entries(datasets, tasks=("multiclass",)):
        if entry["name"] in done:
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        model = AutoMLClassifier(time_limit=time_limit, verbosity=0, random_state=0)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        truth = model.label_codec_.encode(y_test)
        calibrated = model.predict_proba(X_test)
        kept = model.calibration_
        model.calibration_ = Calibration()
        raw = model.predict_proba(X_test)
        report = model.calibration_report_
        log_loss = model.scorer_
        append_row(out, {"dataset": entry["name"], "calibration": kept.describe(),
                         "test_log_loss_raw": log_loss.score(truth, raw),
                         "test_log_loss_calibrated": log_loss.score(truth, calibrated),
                         "test_ece_raw": expected_calibration_error(truth, raw),
                         "test_ece_calibrated": expected_calibration_error(truth, calibrated),
                         "oof_log_loss_raw": report.get("raw_score"),
                         "oof_log_loss_calibrated": report.get("calibrated_score"),
                         "win_probability": report.get("win_probability"), "fit_seconds": seconds,
                         "time_limit": time_limit}, CALIBRATION_COLUMNS)
        print(entry["name"], kept.describe(), flush=True)


def _dev_entries(datasets: str, tasks=("binary", "multiclass", "regression")) -> list[dict]:
    wanted = {d for d in datasets.split(",") if d}
    return [e for e in read_manifest(DEV) if e["task"] in tasks and (not wanted or e["name"] in wanted)]


def weights_study(time_limit: float, out: Path, datasets: str) -> None:
    done = _done(out, lambda r: (r["dataset"], r["variant"]))
    for name in [d for d in datasets.split(",") if d]:
        entry = next(e for e in read_manifest(DEV) if e["name"] == name)
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, "binary", seed=0)
        share = y_train.value_counts(normalize=True)
        balancing = y_train.map(lambda label: 1.0 / share[label]).to_numpy()
        integer = np.random.default_rng(0).integers(1, 4, len(y_train)).astype(float)
        repeat = np.repeat(np.arange(len(y_train)), integer.astype(int))
        variants = {"unweighted": (X_train, y_train, None), "class_balanced": (X_train, y_train, balancing),
                    "integer_weights": (X_train, y_train, integer),
                    "duplicated_rows": (X_train.iloc[repeat], y_train.iloc[repeat], None)}
        test_balancing = y_test.map(lambda label: 1.0 / share[label]).to_numpy()
        test_integer = np.random.default_rng(1).integers(1, 4, len(y_test)).astype(float)
        for variant, (X_fit, y_fit, weight) in variants.items():
            if (name, variant) in done:
                continue
            model = AutoMLClassifier(time_limit=time_limit, metric="accuracy", verbosity=0, random_state=0)
            start = time.perf_counter()
            model.fit(X_fit.reset_index(drop=True), y_fit.reset_index(drop=True), sample_weight=weight)
            seconds = time.perf_counter() - start
            right = (model.predict(X_test) == y_test.to_numpy()).astype(float)
            append_row(out, {"dataset": name, "variant": variant,
                             "test_balanced_accuracy": np.average(right, weights=test_balancing),
                             "test_integer_weighted_accuracy": np.average(right, weights=test_integer),
                             "fit_seconds": seconds, "time_limit": time_limit}, WEIGHT_COLUMNS)
            print(name, variant, flush=True)


def report(results: Path) -> str:
    """``objectives.md``: the tables of every objectives CSV in ``results`` (and AutoGluon's)."""
    lines = ["# A real user's table and objective (issue 25)", "",
             "Machine: 2 cores, no GPU; fits at the limit in each table; BENCHMARK.md splits (seed 0) unless said.", ""]
    groups = _read(results / "groups.csv")
    if groups is not None:
        table = groups.groupby(["dataset", "variant"], sort=False).agg(
            seeds=("seed", "nunique"), oof=("oof", "mean"), test=("test", "mean"), optimism=("optimism", "mean"),
            optimism_min=("optimism", "min"), optimism_max=("optimism", "max")).reset_index()
        lines += ["## Groups: unseen groups in the test part (GroupShuffleSplit 25%), 60 s fits", "",
                  "Loss metric (RMSE; log loss for Chem97); optimism = (test - OOF) / test, positive when the "
                  "OOF score promised more than unseen groups got; mean over the seeds (min, max).", ""]
        lines += markdown_table(table.round(4).set_index("dataset"))
    weights = _read(results / "weights.csv")
    if weights is not None:
        lines += ["", "## Weights (churn, 30 s fits, metric accuracy)", ""]
        lines += markdown_table(weights[["dataset", "variant", "test_balanced_accuracy",
                                         "test_integer_weighted_accuracy"]].round(4).set_index("dataset"))
    metrics = _read(results / "metrics.csv")
    if metrics is not None:
        peer = _read(results / "metrics_autogluon.csv")
        ours = metrics[metrics["fit_metric"] == metrics["metric"]].set_index("dataset")
        rows = []
        for name, row in ours.iterrows():
            entry = {"dataset": name, "metric": row["metric"], "automl": row["test"],
                     "automl, argmax": row.get("test_argmax"), "rule kept": row.get("rule")}
            if row["task"] == "regression":
                rmse_fit = metrics[(metrics["dataset"] == name) & (metrics["fit_metric"] == "rmse")]
                entry["automl, fit for rmse"] = rmse_fit["test"].iloc[0] if len(rmse_fit) else np.nan
            if peer is not None and name in set(peer["dataset"]):
                entry["autogluon_best"] = peer.set_index("dataset").loc[name, "test"]
            rows.append(entry)
        lines += ["", "## Any metric and tuned decisions, 60 s fits (AutoGluon best_quality at the same limit)", "",
                  "F1 (binary, higher is better), balanced accuracy (multiclass, higher), MAE (regression, lower). "
                  "`automl, argmax`: the same fit's probabilities at argmax / 0.5; `fit for rmse`: a fit optimizing "
                  "RMSE, scored in MAE.", ""]
        lines += markdown_table(pd.DataFrame(rows).round(4).set_index("dataset"))
    calibration = _read(results / "calibration.csv")
    if calibration is not None:
        lines += ["", "## Calibration on the multiclass dev tables (default fit, log loss), 60 s", ""]
        lines += markdown_table(calibration[["dataset", "calibration", "test_log_loss_raw", "test_log_loss_calibrated",
                                             "test_ece_raw", "test_ece_calibrated", "win_probability"]].round(4)
                                .set_index("dataset"))
    return "\n".join(lines) + "\n"


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", choices=["groups", "metrics", "calibration", "weights", "report"])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--datasets", default="", help="comma-separated dev tables (metrics, calibration: default "
                                                   "every one of the task; weights: binary tables, required)")
    ap.add_argument("--seed", type=int, default=0, help="groups: the split's (and the fits') seed")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.study == "report":  # --out: the markdown file; the CSVs are read beside it
        args.out.write_text(report(args.out.parent))
        print(args.out.read_text())
        return
    if args.study == "groups":
        groups_study(args.time_limit, args.out, args.seed)
    elif args.study == "metrics":
        metric_study(args.time_limit, args.out, args.datasets)
    elif args.study == "calibration":
        calibration_study(args.time_limit, args.out, args.datasets)
    else:
        weights_study(args.time_limit, args.out, args.datasets)
    print(pd.read_csv(args.out).to_string(index=False))


if __name__ == "__main__":
    main()
