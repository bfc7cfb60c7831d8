"""The ``automl`` command: fit, predict, leaderboard, info and report on table files.

Every mistake a user can make (a missing file, an unknown column, a model folder from an
incompatible version) ends with one line on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from ..data.io import read_table
from ..data.target import TASKS, infer_task
from ..device import DEVICES
from ..distill import STUDENTS
from ..estimator import PREDICTORS
from ..models.executor import EXECUTORS
from ..persistence import MANIFEST, versions
from .progress import show_progress

DEFAULT_MODEL_DIR = "automl-model"
# What the command line knows beyond the estimator: the target's column name and the id column.
COLUMNS_FILE = "columns.json"
# Name of the prediction column when the model was saved from Python, where no column name is known.
DEFAULT_TARGET_NAME = "prediction"
EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


class UsageError(Exception):
    """A mistake in what the user asked for; reported as one line."""


# ------------------------------------------------------------------ commands
def fit(args: argparse.Namespace) -> None:
    from ..estimator import AutoMLClassifier, AutoMLRegressor

    frame = read_table(args.train)
    row_columns = [c for c in (args.id_column, args.weight_column, args.group_column) if c]
    _require_columns(frame, [args.target] + row_columns, args.train)
    if args.id_column:
        frame = frame.drop(columns=[args.id_column])
    task = args.task or infer_task(frame[args.target])
    _check_task(task, frame[args.target])
    out = Path(args.out)
    if args.resume and args.no_run:
        raise UsageError("--resume continues the run kept in --out; it cannot go with --no-run.")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists() and not (out / "store").is_dir():
        raise UsageError(f"{out} exists and is not an automl model folder; choose another --out.")
    if args.resume and not (out / "store").is_dir():
        raise UsageError(f"--resume: {out} holds no run to continue.")
    estimator_class = AutoMLRegressor if task == "regression" else AutoMLClassifier
    # --ensemble left out keeps the estimator's own default strategy.
    chosen = {"ensemble": args.ensemble} if args.ensemble else {}
    if args.refit is not None:  # --refit: when the time left pays for it; --no-refit: never
        chosen["refit"] = "auto" if args.refit else False
    # The run goes straight into --out (each model written as it finishes, so a killed fit can be
    # resumed); with --no-run it goes to a temporary folder and only the predictor is kept.
    run = Path(tempfile.mkdtemp(prefix="automl-run-")) if args.no_run else out
    estimator = estimator_class(
        time_limit=args.time_limit, models=args.models.split(",") if args.models else None,
        metric=args.metric, device=args.device, random_state=args.seed, verbosity=0 if args.quiet else 1,
        output_dir=str(run), executor=args.executor, ray_address=args.ray_address, **chosen)
    try:
        with show_progress(args.quiet, args.time_limit):
            estimator.fit(frame, y=args.target, sample_weight=args.weight_column, groups=args.group_column,
                          resume=args.resume)
        if args.no_run:
            estimator.save(out)
    finally:
        if args.no_run:
            shutil.rmtree(run, ignore_errors=True)
    (out / COLUMNS_FILE).write_text(json.dumps({"target": args.target, "id_column": args.id_column,
                                                "weight_column": args.weight_column,
                                                "group_column": args.group_column}))
    if not args.quiet:
        print(_format_board(estimator.leaderboard().head(10)))
        print(f"\nOOF {estimator.metric_} of the {estimator.ensemble_name_} ensemble: "
              f"{estimator.ensemble_score_:.5f}. Model saved to {out}/ "
              f"(next: automl predict {out} TEST.csv).")


def predict(args: argparse.Namespace) -> None:
    estimator, columns = _load_model(args.model_dir)
    if args.predictor:
        estimator.set_params(predictor=args.predictor)
    frame = read_table(args.test)
    id_column = args.id_column or columns.get("id_column")
    if id_column:
        _require_columns(frame, [id_column], args.test)
    target = columns.get("target") or DEFAULT_TARGET_NAME
    features = _features(estimator, columns, frame, id_column)
    regression = estimator.task_ == "regression"
    if args.proba and regression:
        raise UsageError("--proba needs a classification model; this one is a regression model.")
    if args.interval is not None and not regression:
        raise UsageError("--interval needs a regression model; for a classifier, --set gives prediction sets.")
    if args.set is not None and regression:
        raise UsageError("--set needs a classification model; for a regression model, --interval.")
    if args.proba:
        result = pd.DataFrame(estimator.predict_proba(features), columns=[str(c) for c in estimator.classes_])
    else:
        result = pd.DataFrame({target: estimator.predict(features)})
    if args.interval is not None:
        bounds = estimator.predict_interval(features, args.interval)
        result[f"{target}_lower"], result[f"{target}_upper"] = bounds[:, 0], bounds[:, 1]
    if args.set is not None:  # the classes each row's set holds, separated by "|"
        sets = estimator.predict_set(features, args.set)
        result[f"{target}_set"] = ["|".join(str(c) for c in estimator.classes_[row]) for row in sets]
    if id_column:
        result.insert(0, id_column, frame[id_column].to_numpy())
    result.to_csv(args.out, index=False)
    print(f"Wrote {len(result)} predictions to {args.out}.", file=sys.stderr)


def distill(args: argparse.Namespace) -> None:
    estimator, _ = _load_model(args.model_dir)
    if args.quiet:
        estimator.set_params(verbosity=0)
    with show_progress(args.quiet, args.time_limit):
        estimator.distill(time_limit=args.time_limit, student=args.student, augment=args.augment)
    if estimator.student_ is None:
        raise RuntimeError("distillation failed (the log says why); the model folder is unchanged.")
    if not args.quiet:
        student = estimator.student_
        print(f"{student['name']}: OOF {estimator.metric_} {student['oof_score']:.5f} (ensemble "
              f"{estimator.ensemble_score_:.5f}), {student['predict_seconds_per_1k']:.3f} s per 1,000 rows. "
              f"Saved to {args.model_dir}/ (next: automl predict {args.model_dir} TEST.csv --predictor distilled).")


def importance(args: argparse.Namespace) -> None:
    estimator, columns = _load_model(args.model_dir)
    if args.data is None:
        table = estimator.feature_importance(n_repeats=args.repeats, time_limit=args.time_limit)
    else:
        frame = read_table(args.data)
        target = columns.get("target") or DEFAULT_TARGET_NAME
        _require_columns(frame, [target], args.data)
        table = estimator.feature_importance(_features(estimator, columns, frame), frame[target],
                                             n_repeats=args.repeats, time_limit=args.time_limit)
    print(table.to_string(float_format=lambda v: f"{v:.5g}"))


def evaluate(args: argparse.Namespace) -> None:
    estimator, columns = _load_model(args.model_dir)
    frame = read_table(args.test)
    target = columns.get("target") or DEFAULT_TARGET_NAME
    _require_columns(frame, [target], args.test)
    weight = frame[columns["weight_column"]] if columns.get("weight_column") in frame.columns else None
    results = estimator.evaluate(_features(estimator, columns, frame), frame[target], sample_weight=weight)
    width = max(len(name) for name in results)
    print("\n".join(f"{name:<{width}}  {value:.5f}" for name, value in results.items()))


def _features(estimator, columns: dict, frame: pd.DataFrame, id_column: str | None = None) -> pd.DataFrame:
    """``frame`` without the id, target, weight and group columns, unless the model was trained on
    them as features."""
    set_aside = {id_column, columns.get("id_column"), columns.get("weight_column"), columns.get("group_column"),
                 columns.get("target") or DEFAULT_TARGET_NAME} - set(estimator.feature_names_in_)
    return frame.drop(columns=[c for c in frame.columns if c in set_aside])


def leaderboard(args: argparse.Namespace) -> None:
    estimator, _ = _load_model(args.model_dir)
    print(_format_board(estimator.leaderboard()))


def info(args: argparse.Namespace) -> None:
    estimator, columns = _load_model(args.model_dir)
    saved = json.loads((Path(args.model_dir) / MANIFEST).read_text()).get("versions", {})
    schema = estimator.encoder_.schema_
    lines = [
        f"model      {type(estimator).__name__}, task {estimator.task_}",
        f"metric     {estimator.metric_} (OOF of the {estimator.ensemble_name_} ensemble: "
        f"{estimator.ensemble_score_:.5f})",
    ]
    if estimator.task_ != "regression":
        lines.append(f"classes    {', '.join(map(str, estimator.classes_))}")
    if estimator.decision_report_:
        report = estimator.decision_report_
        lines.append(f"decision   {estimator.decision_rule_.describe()} (cross-fitted OOF {estimator.metric_}: "
                     f"tuned {report['tuned_score']:.5f}, argmax {report['argmax_score']:.5f})")
    if estimator.calibration_report_:
        report = estimator.calibration_report_
        lines.append(f"calibrated {estimator.calibration_.describe()} (cross-fitted OOF {estimator.metric_} "
                     f"{report['raw_score']:.5f} -> {report['calibrated_score']:.5f}, expected calibration error "
                     f"{report['raw_ece']:.4f} -> {report['calibrated_ece']:.4f})")
    if columns:
        set_aside = [f"{kind} column {columns[key]}" for key, kind in
                     (("id_column", "id"), ("weight_column", "weight"), ("group_column", "group")) if columns.get(key)]
        lines.append(f"target     {columns['target']}" +
                     (f"   ({', '.join(set_aside)}: excluded from the features)" if set_aside else ""))
    limit = f" of a {estimator.time_limit:g}s limit" if estimator.time_limit else ""
    lines.append(f"time used  {estimator.fit_seconds_:.1f}s{limit}, "
                 f"{len(estimator.records_)} models trained on {estimator.n_rows_} rows")
    lines.append(f"features   {len(estimator.feature_names_in_)} columns, {len(schema.kinds)} used:")
    width = max(len(str(c)) for c in estimator.feature_names_in_)
    lines += [f"  {name:<{width}}  {how}" for name, how in estimator.encoder_.treatment().items()]
    lines += [f"  {name:<{width}}  dropped: {reason}" for name, reason in schema.dropped.items()]
    lines.append("versions   saved with / installed now:")
    installed = versions()
    lines += [f"  {name:<13} {saved.get(name, '-'):<14} {installed.get(name, '-')}"
              for name in sorted(set(saved) | set(installed))]
    print("\n".join(lines))


def report(args: argparse.Namespace) -> None:
    from .report import write_report

    estimator, columns = _load_model(args.model_dir)
    out = Path(args.out) if args.out else Path(args.model_dir) / "report.html"
    write_report(estimator, out, title=f"automl report: {Path(args.model_dir).resolve().name}",
                 target=columns.get("target"))
    print(f"Wrote {out}.", file=sys.stderr)


# ------------------------------------------------------------------ helpers
def _load_model(model_dir: str):
    """The estimator in a model folder, and what the command line recorded beside it."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise UsageError(f"Model folder not found: {folder}")
    from ..estimator import load

    estimator = load(folder)
    columns_file = folder / COLUMNS_FILE
    columns = json.loads(columns_file.read_text()) if columns_file.exists() else {}
    return estimator, columns


def _require_columns(frame: pd.DataFrame, names: list[str], source: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:20])) + (", ..." if frame.shape[1] > 20 else "")
        raise UsageError(f"Column {missing[0]!r} not found in {source}; its columns are: {shown}")


def _check_task(task: str, target: pd.Series) -> None:
    n_classes = target.dropna().nunique()
    if task == "binary" and n_classes > 2:
        raise UsageError(f"--task binary, but the target {target.name!r} has {n_classes} classes; "
                         "use --task multiclass.")


def _format_board(board: pd.DataFrame) -> str:
    return board.to_string(index=False, float_format=lambda v: f"{v:.5g}")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings for the user (dropped rows, ignored columns) as one plain line each; the libraries'
    own warnings (convergence, deprecations: subclasses of UserWarning or other categories) are noise here."""
    if category is UserWarning:
        print(f"automl: warning: {message}", file=sys.stderr)


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="AutoML for tables: train an ensemble on a CSV file, then predict with it.",
        epilog="example:\n  automl fit train.csv --target survived --time-limit 60\n"
               "  automl predict automl-model test.csv --out submission.csv")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, example: str, run) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(run=run)
        return sub

    sub = command("fit", "Train models on a table and save them to a model folder.",
                  "automl fit train.csv --target price --time-limit 120 --out diamonds-model", fit)
    sub.add_argument("train", help="training table: .csv, .csv.gz, .tsv or .parquet")
    sub.add_argument("--target", required=True, help="name of the column to predict")
    sub.add_argument("--time-limit", type=float, default=None, metavar="S",
                     help="seconds for the whole fit (default: no limit)")
    sub.add_argument("--task", choices=TASKS, help="default: inferred from the target column")
    sub.add_argument("--metric", help="what the fit optimizes: roc_auc, log_loss, f1, average_precision, mae, "
                                      "rmsle, qwk, pinball:0.9 or any scikit-learn scorer name (default: roc_auc "
                                      "for binary, log_loss for multiclass, rmse for regression)")
    sub.add_argument("--models", metavar="A,B", help="model families to train, e.g. lightgbm,catboost "
                                                       "(default: the portfolio)")
    sub.add_argument("--ensemble", metavar="S", help="ensemble strategy, e.g. ges or best "
                                                      "(default: the estimators' default)")
    sub.add_argument("--id-column", metavar="COL", help="a row id: excluded from the features, "
                                                         "written beside the predictions")
    sub.add_argument("--weight-column", metavar="COL", help="row weights: excluded from the features, they weigh "
                                                             "every training loss and score")
    sub.add_argument("--group-column", metavar="COL", help="row groups (a patient, a customer): excluded from the "
                                                            "features; no group is on both sides of any split")
    sub.add_argument("--out", default=DEFAULT_MODEL_DIR, metavar="DIR",
                     help=f"model folder to write (default: {DEFAULT_MODEL_DIR}); it keeps the run (every model "
                          "and its OOF predictions) for re-ensembling and --resume")
    sub.add_argument("--no-run", action="store_true",
                     help="keep only what predicting needs (the models the ensemble uses): a smaller folder")
    sub.add_argument("--refit", action=argparse.BooleanOptionalAction, default=None,
                     help="train each ensemble member once on all rows when the time left pays for it, so "
                          "predicting runs one model per member (the default); --no-refit keeps the fold copies")
    sub.add_argument("--resume", action="store_true",
                     help="continue the run in --out (e.g. a fit that was killed): finished models are kept")
    sub.add_argument("--device", choices=DEVICES, default="auto")
    sub.add_argument("--executor", choices=EXECUTORS, default="local",
                     help="where the fold copies train: this process, or Ray tasks (pip install 'automl[ray]')")
    sub.add_argument("--ray-address", metavar="ADDR",
                     help="the Ray cluster for --executor ray (default: RAY_ADDRESS, else a local Ray)")
    sub.add_argument("--seed", type=int, default=0, metavar="N")
    sub.add_argument("--quiet", action="store_true", help="print nothing but errors")

    sub = command("predict", "Predict a table with a saved model; writes a CSV ready to submit.",
                  "automl predict automl-model test.csv --id-column PassengerId --out submission.csv",
                  predict)
    sub.add_argument("model_dir", metavar="DIR", help="model folder written by automl fit")
    sub.add_argument("test", help="table to predict: .csv, .csv.gz, .tsv or .parquet")
    sub.add_argument("--out", default="predictions.csv", metavar="FILE",
                     help="CSV to write (default: predictions.csv)")
    sub.add_argument("--id-column", metavar="COL",
                     help="column copied into the output (default: the one given at fit)")
    sub.add_argument("--proba", action="store_true", help="one probability column per class")
    sub.add_argument("--interval", type=float, metavar="C",
                     help="regression: add TARGET_lower / TARGET_upper, an interval holding the value with "
                          "probability C (e.g. 0.9)")
    sub.add_argument("--set", type=float, metavar="C",
                     help="classification: add TARGET_set, the classes (joined by |) that hold the true one "
                          "with probability C (e.g. 0.9)")
    sub.add_argument("--predictor", choices=PREDICTORS,
                     help="what predicts: the ensemble (default), the distilled student (automl distill), or "
                          "the early-exit cascade (classification: a cheap model answers the rows it is sure of)")

    sub = command("distill", "Train one fast student model that imitates the ensemble; saved in the model folder.",
                  "automl distill automl-model --time-limit 60", distill)
    sub.add_argument("model_dir", metavar="DIR", help="model folder written by automl fit (with its run)")
    sub.add_argument("--time-limit", type=float, default=None, metavar="S",
                     help="seconds for the distillation (default: no limit)")
    sub.add_argument("--student", choices=STUDENTS, default="catboost", help="the student's family")
    sub.add_argument("--augment", action="store_true",
                     help="also train on synthetic rows (columns resampled from other rows) labelled by the ensemble")
    sub.add_argument("--quiet", action="store_true", help="print nothing but errors")

    sub = command("importance", "Show how much each input column matters (permutation importance).",
                  "automl importance automl-model --data test.csv", importance)
    sub.add_argument("model_dir", metavar="DIR")
    sub.add_argument("--data", metavar="CSV", help="rows with the target column to measure on (default: the "
                                                   "training rows, each predicted by fold copies that never saw it)")
    sub.add_argument("--repeats", type=int, default=5, metavar="N", help="permutations per column (default: 5)")
    sub.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop repeating after S seconds")

    sub = command("evaluate", "Score a saved model on a table with the target: the task's usual metrics.",
                  "automl evaluate automl-model test.csv", evaluate)
    sub.add_argument("model_dir", metavar="DIR")
    sub.add_argument("test", help="table with the target column: .csv, .csv.gz, .tsv or .parquet")

    sub = command("leaderboard", "Show every trained model's OOF score, times and ensemble weight.",
                  "automl leaderboard automl-model", leaderboard)
    sub.add_argument("model_dir", metavar="DIR")

    sub = command("info", "Show a model's task, metric, classes, feature types, time used and versions.",
                  "automl info automl-model", info)
    sub.add_argument("model_dir", metavar="DIR")

    sub = command("report", "Write a self-contained HTML report of a fit.",
                  "automl report automl-model --out report.html", report)
    sub.add_argument("model_dir", metavar="DIR")
    sub.add_argument("--out", metavar="FILE", help="HTML file to write (default: DIR/report.html)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        if getattr(args, "quiet", False):
            warnings.simplefilter("ignore")
        warnings.showwarning = _show_warning
        try:
            args.run(args)
        except KeyboardInterrupt:
            print("automl: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as exc:  # any failure is one line for the user, never a traceback
            print(f"automl: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_ERROR
    return 0


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (UsageError, ValueError, FileNotFoundError, RuntimeError)) \
        else f"{type(exc).__name__}: {text}"
