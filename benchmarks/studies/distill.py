"""One fast model from the ensemble (issue 28): the distilled student and the early-exit cascade
against the full ensemble, its best single model and CatBoost's defaults, on the dev suite.

Per dataset (BENCHMARK.md split, seed 0): one fit at --time-limit, then ``distill`` (LightGBM
student) at --distill-limit; CatBoost's defaults trained in the same process. For each predictor:
the test metric, predict seconds of the test part (median of 3), and single-row latency (median
over --row-calls calls of ``predict_proba`` / ``predict`` on one row of the test part, cycling
through its rows; fewer for the ensemble and the cascade, --ensemble-row-calls, whose calls are
slow). One row per dataset is appended to --out as it finishes; a rerun resumes.

    nice python -m benchmarks.studies.distill --out benchmarks/results/distill.csv
    python -m benchmarks.studies.distill --out benchmarks/results/distill.csv --report
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocol import DEV, MAIN_METRIC, RESULTS, append_row, captured_log, load_dataset, pending, sorted_classes, \
    score, split
from ..systems import catboost_default

COLUMNS = ["dataset", "task", "metric", "time_limit", "ensemble_describe", "ensemble_oof", "student_oof",
           "cascade_first", "cascade_exit_oof", "cascade_exit_test"]
PREDICTORS = ("ensemble", "distilled", "cascade", "best_model", "catboost")
for _name in PREDICTORS:
    COLUMNS += [f"{_name}_value", f"{_name}_predict_s", f"{_name}_row_ms"]
COLUMNS += ["fit_seconds", "distill_seconds", "catboost_fit_seconds", "distill_log", "status", "error"]


def median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def row_latency_ms(fn, X_test: pd.DataFrame, calls: int) -> float:
    rows = [X_test.iloc[[i % len(X_test)]] for i in range(calls)]
    fn(rows[0])  # first call: lazy set-up
    times = []
    for row in rows:
        start = time.perf_counter()
        fn(row)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def measure(entry: dict, args) -> dict:
    from automl import AutoMLClassifier, AutoMLRegressor

    task = entry["task"]
    regression = task == "regression"
    X, y = load_dataset(DEV, entry)
    X_train, X_test, y_train, y_test = split(X, y, task, seed=0)
    classes = None if regression else sorted_classes(y)
    estimator = AutoMLRegressor if regression else AutoMLClassifier
    row = {"dataset": entry["name"], "task": task, "metric": MAIN_METRIC[task], "time_limit": args.time_limit}
    start = time.perf_counter()
    model = estimator(time_limit=args.time_limit, random_state=0, verbosity=0, metric=MAIN_METRIC[task]).fit(
        X_train, y_train)
    row["fit_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    with captured_log() as lines:  # why a student failed, if it did
        model.set_params(verbosity=1).distill(time_limit=args.distill_limit)
    model.set_params(verbosity=0)
    row["distill_seconds"] = time.perf_counter() - start
    row["distill_log"] = " | ".join(line for line in lines if "istill" in line)
    row.update(ensemble_describe=model.ensemble_.describe(), ensemble_oof=model.ensemble_score_,
               student_oof=model.student_["oof_score"] if model.student_ else np.nan)

    def answer_of(estimator):
        """What is scored of a fitted estimator: its values, or its class probabilities."""
        return estimator.predict if regression else estimator.predict_proba

    def scored(answer: np.ndarray, estimator) -> float:
        """The test value of an answer for the test rows: values, or class probabilities with
        columns in ``estimator.classes_``' order (the main metric reads the probabilities; the
        label, for accuracy, is the most probable class)."""
        if regression:
            return score(task, y_test, None, pred=np.ravel(answer))["value"]
        labels = np.asarray(estimator.classes_)[answer.argmax(axis=1)]
        return score(task, y_test, classes, proba=answer, proba_classes=list(estimator.classes_), pred=labels)["value"]

    answer = answer_of(model)
    for predictor in ("ensemble", "distilled", "cascade"):
        if (predictor == "distilled" and model.student_ is None) or (predictor == "cascade" and regression):
            continue
        model.set_params(predictor=predictor)
        row[f"{predictor}_value"] = scored(answer(X_test), model)
        row[f"{predictor}_predict_s"] = median_seconds(lambda: answer(X_test))
        calls = args.row_calls if predictor == "distilled" else args.ensemble_row_calls
        row[f"{predictor}_row_ms"] = row_latency_ms(answer, X_test, calls)
    if model.cascade_ is not None:
        row.update(cascade_first=model.cascade_.first, cascade_exit_oof=model.cascade_.exit_share,
                   cascade_exit_test=float(model.cascade_.exits(
                       model._bag(model.cascade_.first).predict(model._encode(X_test))).mean()))
    model.set_params(predictor="ensemble")
    best = model.leaderboard().query("family != 'ensemble' and adapted != 'distilled'")["config"].iloc[0]
    bag = model._bag(best)

    def best_raw(frame):
        return bag.predict(model._encode(frame))

    raw = best_raw(X_test)
    row["best_model_value"] = scored(raw if regression else model._probabilities(raw), model)
    row["best_model_predict_s"] = median_seconds(lambda: best_raw(X_test))
    row["best_model_row_ms"] = row_latency_ms(best_raw, X_test, args.row_calls)

    catboost, prep, cat_columns = catboost_default(X_train, task)
    start = time.perf_counter()
    catboost.fit(prep(X_train), y_train, cat_features=cat_columns)
    row["catboost_fit_seconds"] = time.perf_counter() - start
    test = prep(X_test)
    catboost_answer = answer_of(catboost)
    row["catboost_value"] = scored(catboost_answer(test), catboost)
    row["catboost_predict_s"] = median_seconds(lambda: catboost_answer(test))
    row["catboost_row_ms"] = row_latency_ms(catboost_answer, test, args.row_calls)
    row["status"] = "ok"
    return row


def report(out: Path) -> str:
    """A table per dataset: test metrics (the student's and the cascade's change against the
    ensemble, + is worse), seconds to predict the test part, and single-row milliseconds."""
    table = pd.read_csv(out)
    table = table[table["status"] == "ok"]
    lines = ["| dataset | metric | ensemble | student (worse by) | cascade (worse by; exit) | best model | "
             "CatBoost | test-part s: ensemble / student / cascade / CatBoost | "
             "row ms: ensemble / student / cascade / CatBoost |", "|" + "---|" * 9]

    def cell(value, digits=4):
        return "-" if pd.isna(value) else f"{value:.{digits}f}"

    for r in table.itertuples():
        sign = -1 if r.metric == "roc_auc" else 1  # + is worse

        def worse(value):
            return "-" if pd.isna(value) else f"{100 * sign * (value - r.ensemble_value) / abs(r.ensemble_value) + 0.0:+.2f}%"

        exits = "" if pd.isna(r.cascade_value) else f"; {100 * np.nan_to_num(r.cascade_exit_test):.0f}%"
        lines.append(
            f"| {r.dataset} | {r.metric} | {cell(r.ensemble_value)} | {cell(r.distilled_value)} ({worse(r.distilled_value)}) | "
            f"{cell(r.cascade_value)} ({worse(r.cascade_value)}{exits}) | {cell(r.best_model_value)} | "
            f"{cell(r.catboost_value)} | {cell(r.ensemble_predict_s, 3)} / {cell(r.distilled_predict_s, 4)} / "
            f"{cell(r.cascade_predict_s, 3)} / {cell(r.catboost_predict_s, 4)} | {cell(r.ensemble_row_ms, 2)} / "
            f"{cell(r.distilled_row_ms, 2)} / {cell(r.cascade_row_ms, 2)} / {cell(r.catboost_row_ms, 2)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=RESULTS / "distill.csv")
    ap.add_argument("--datasets", default="")
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--distill-limit", type=float, default=60)
    ap.add_argument("--row-calls", type=int, default=1000)
    ap.add_argument("--ensemble-row-calls", type=int, default=200)
    ap.add_argument("--report", action="store_true", help="print the table of --out and exit")
    args = ap.parse_args()
    if args.report:
        print(report(args.out))
        return
    for entry in pending(DEV, args.out, args.datasets):
        try:
            row = measure(entry, args)
        except Exception as exc:  # one dataset's failure is a row, not the end of the run
            row = {"dataset": entry["name"], "task": entry["task"], "status": "error",
                   "error": f"{type(exc).__name__}: {exc}"}
        append_row(args.out, row, COLUMNS)
        print({k: row.get(k) for k in ("dataset", "ensemble_value", "distilled_value", "cascade_value",
                                        "catboost_value", "distilled_row_ms", "status")}, flush=True)


if __name__ == "__main__":
    main()
