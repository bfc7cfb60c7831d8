"""What the out-of-fold target encoding of high-cardinality columns gives each family (issue 27).

Per table of the text suite (``benchmarks/text_suite.py``) that has such columns, BENCHMARK.md's
split: each family's defaults bagged on the fit's 8-fold plan with no time limit, once with the
raw levels (so every family but CatBoost gets the target encoding) and once without them (the
folded codes only, as before the encoding existed). Rows: OOF and test score per (table, split,
family, arm), appended to --out; a rerun skips what it has.

    nice python -m benchmarks.studies.target_encoding --out benchmarks/results/target_encoding.csv
    python -m benchmarks.studies.target_encoding --out benchmarks/results/target_encoding.csv --report
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocol import HIGHER_IS_BETTER, append_row, load_dataset, markdown_table, read_manifest, score, sorted_classes, split
from ..text_suite import OUT as TEXT

FAMILIES = "lightgbm,xgboost,random_forest,extra_trees,linear,knn"
COLUMNS = ["table", "split", "family", "arm", "oof", "test", "metric", "seconds"]


def run(entry: dict, seed: int, family: str, out: Path) -> None:
    from automl.budget import TimeBudget
    from automl.data.prepare import prepare
    from automl.data.training import TrainingData
    from automl.folds import FoldPlan
    from automl.models.bagging import BaggedModel
    from automl.models.base import ModelConfig, TaskInfo

    X, y = load_dataset(TEXT, entry)
    X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=seed)
    prepared = prepare(X_train, y_train, regression=entry["task"] == "regression")
    task = prepared.task
    info = TaskInfo(task, 0 if task == "regression" else len(prepared.codec.classes_))
    test_table = prepared.encoder.transform(X_test)
    plan = FoldPlan.make(prepared.data.y, 8, task, seed)
    for arm in ("encoded", "codes only"):
        data, table = prepared.data, test_table
        if arm == "codes only":
            data = TrainingData(replace(data.X, raw=None, raw_names=[]), data.y)
            table = replace(table, raw=None, raw_names=[])
        start = time.perf_counter()
        bag = BaggedModel(ModelConfig(f"{family}_defaults", family, {}), info, seed=0, n_threads=2)
        oof = bag.fit(data, plan, TimeBudget(None))
        seconds = time.perf_counter() - start
        proba = bag.predict(table)
        if task == "regression":
            oof_score = score(task, pd.Series(prepared.data.y), None, pred=oof[:, 0])["value"]
            test_score = score(task, y_test, None, pred=proba[:, 0])["value"]
        else:
            classes = list(prepared.codec.classes_)
            labels = np.asarray(classes, dtype=object)

            def scored(truth, p):
                return score(task, truth, sorted_classes(y), proba=p, proba_classes=classes,
                             pred=labels[p.argmax(axis=1)])["value"]
            oof_score, test_score = scored(pd.Series(labels[prepared.data.y]), oof), scored(y_test, proba)
        row = {"table": entry["name"], "split": seed, "family": family, "arm": arm, "oof": round(oof_score, 5),
               "test": round(test_score, 5), "metric": {"regression": "rmse", "binary": "roc_auc"}.get(task, "log_loss"),
               "seconds": round(seconds, 1)}
        append_row(out, row, COLUMNS)
        print(row, flush=True)


def report(rows: pd.DataFrame) -> list[str]:
    """Per (table, family): the mean test score of each arm over the splits, and over the splits in
    how many the encoding was better / equal / worse on test."""
    out = []
    for (table, family), group in rows.groupby(["table", "family"], sort=False):
        arms = group.pivot(index="split", columns="arm", values="test")
        sign = 1 if HIGHER_IS_BETTER[group["metric"].iloc[0]] else -1
        better = np.sign(sign * (arms["encoded"] - arms["codes only"]).round(4))
        out.append({"table": table, "metric": group["metric"].iloc[0], "family": family, "splits": len(arms),
                    "test, encoded": round(arms["encoded"].mean(), 4), "test, codes only": round(arms["codes only"].mean(), 4),
                    "better / equal / worse": f"{(better > 0).sum()} / {(better == 0).sum()} / {(better < 0).sum()}"})
    return markdown_table(pd.DataFrame(out).set_index("table"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="cars_mpg,movies_imdb,football_result,flights_delayed,gapminder_life")
    ap.add_argument("--families", default=FAMILIES)
    ap.add_argument("--splits", default="0")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--report", action="store_true", help="print the markdown table of --out and stop")
    args = ap.parse_args()
    if args.report:
        print("\n".join(report(pd.read_csv(args.out))))
        return
    done = set()
    if args.out.exists():
        done = {(r.table, r.split, r.family) for r in pd.read_csv(args.out).itertuples()}
    entries = {e["name"]: e for e in read_manifest(TEXT)}
    for name in args.tables.split(","):
        for seed in map(int, args.splits.split(",")):
            for family in args.families.split(","):
                if (name, seed, family) not in done:
                    run(entries[name], seed, family, args.out)


if __name__ == "__main__":
    main()
