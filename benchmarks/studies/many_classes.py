"""Where a many-class fit spends its time (issue 27): one default fit per (table, time limit), and
per configuration of the portfolio what it became: trained (seconds, copies kept of the plan's
folds, what adaptation changed, OOF score), skipped (the log's reason) or never reached.

Tables: ``letter`` (dev, 26 classes) and ``manyclass_30`` (``benchmarks/synthetic_suite.py``, 30
classes, 50,000 rows; written there if absent). BENCHMARK.md split, seed 0. One row per
configuration and one ``(fit)`` row per fit (test log loss, fit seconds, the ensemble) are appended
to --out under --label (say, the commit); a rerun skips the (table, limit, label) it has.

    nice python -m benchmarks.studies.many_classes --label after --out benchmarks/results/many_classes.csv
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import pandas as pd

from .. import synthetic_suite
from ..protocol import DEV, append_row, captured_log, load_dataset, read_manifest, score, sorted_classes, split

COLUMNS = ["label", "table", "time_limit", "config", "status", "seconds", "copies", "folds", "adapted",
           "oof_log_loss", "test_log_loss", "note"]
SKIPPED = re.compile(r"\[\d+/\d+\] (\S+) skipped: (.*)")
FAILED = re.compile(r"\[\d+/\d+\] (\S+) failed and was skipped: (.*)")


def suite_of(table: str) -> Path:
    if table == "manyclass_30":
        if not (synthetic_suite.OUT / "manifest.json").exists():
            synthetic_suite.main()
        return synthetic_suite.OUT
    return DEV


def run(table: str, limit: float, label: str, out: Path, log_dir: Path | None) -> None:
    from automl import AutoMLClassifier
    from automl.models.training import strong_first
    from automl.portfolio import load_portfolio

    suite = suite_of(table)
    entry = next(e for e in read_manifest(suite) if e["name"] == table)
    X, y = load_dataset(suite, entry)
    X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
    with captured_log() as lines:
        start = time.perf_counter()
        model = AutoMLClassifier(time_limit=limit, random_state=0).fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{table}_{limit:.0f}_{label}.log").write_text("\n".join(lines) + "\n")
    test = score(entry["task"], y_test, sorted_classes(y), proba=model.predict_proba(X_test),
                 proba_classes=list(model.classes_),
                 pred=model.predict(X_test))
    n_folds = model.store_.plan.n_folds
    base = {"label": label, "table": table, "time_limit": limit}
    append_row(out, {**base, "config": "(fit)", "status": "fit", "seconds": round(fit_seconds, 1), "folds": n_folds,
                     "test_log_loss": test["value"], "note": model.ensemble_.describe()}, COLUMNS)
    skipped = {m.group(1): m.group(2) for line in lines for m in [SKIPPED.search(line) or FAILED.search(line)] if m}
    trained = {r.name: r for r in model.records_}
    for config in strong_first(load_portfolio(model.portfolio, model.models)):
        row = {**base, "config": config.name, "folds": n_folds}
        if config.name in trained:
            record, bag = trained[config.name], model.models_.get(config.name)
            row.update(status="trained", seconds=round(record.fit_seconds, 1),
                       copies=len(bag.models_) if bag is not None else None,
                       adapted=record.adapted, oof_log_loss=record.oof_score)
        elif config.name in skipped:
            row.update(status="skipped", note=skipped[config.name])
        else:
            row.update(status="not reached")
        append_row(out, row, COLUMNS)
    print(f"{table} {limit:.0f}s [{label}]: test log loss {test['value']:.5f}, fit {fit_seconds:.1f}s, "
          f"{len(trained)} trained, {len(skipped)} skipped", flush=True)


def report(results: Path) -> str:
    """Markdown: per fit, the test log loss and what became of the configurations; per boosting
    configuration, its seconds, copies kept of the plan's folds and adaptation."""
    frame = pd.read_csv(results)
    lines = ["| table | limit s | label | test log loss | fit s | trained | skipped | boosting with every fold "
             "| boosting lr raised | skipped after some folds finished |", "|---" * 10 + "|"]
    for (table, limit, label), fit in frame.groupby(["table", "time_limit", "label"], sort=False):
        head = fit[fit.config == "(fit)"].iloc[0]
        configs = fit[fit.config != "(fit)"]
        boosting = configs[configs.config.str.match(r"(lightgbm|xgboost|catboost)") & (configs.status == "trained")]
        full = int((boosting.copies == boosting.folds).sum())
        raised = int(boosting.adapted.fillna("").str.contains("lr").sum())
        thrown = configs[configs.note.fillna("").str.contains("after [1-9]", regex=True)]
        lines.append(f"| {table} | {limit:.0f} | {label} | {head.test_log_loss:.5f} | {head.seconds:.1f} | "
                     f"{int((configs.status == 'trained').sum())} | {int((configs.status == 'skipped').sum())} | "
                     f"{full} of {len(boosting)} | {raised} | {len(thrown)} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", default="letter,manyclass_30")
    parser.add_argument("--limits", default="60,120")
    parser.add_argument("--label")
    parser.add_argument("--report", action="store_true", help="print the markdown summary of --out and exit")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log-dir", type=Path, help="where each fit's log is written (default: not kept)")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.out), end="")
        return
    if not args.label:
        parser.error("--label is needed to run")
    done = set()
    if args.out.exists():
        old = pd.read_csv(args.out)
        done = {(r.table, float(r.time_limit), str(r.label)) for r in old.itertuples() if r.config == "(fit)"}
    for table in args.tables.split(","):
        for limit in map(float, args.limits.split(",")):
            if (table, limit, args.label) not in done:
                run(table, limit, args.label, args.out, args.log_dir)


if __name__ == "__main__":
    main()
