"""Each any-time configuration as a fit's opener, alone: what it becomes in the opener's share.

For every dev table (BENCHMARK.md split) and configuration, a fit whose portfolio is that
configuration alone, at ``--limit`` seconds: as a fit's first configuration it is adapted to the
opener's share of the training time (``Schedule.first_share``), the search keeps it alone
(``ensemble="best"``) and nothing is refitted, so the row says what the opener of a fit at that
limit is on that table: its adapted plan, OOF score, seconds and test score. Rows are appended to
``--out`` as they finish; a run that is stopped resumes with the pairs left.

    python -m benchmarks.studies.opener_alone --out opener_alone_30.csv --limit 30
"""
from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import automl
from automl.portfolio import read_portfolio
from benchmarks.protocol import (MAIN_METRIC, append_row, load_dataset, read_manifest, resolve_suite, score,
                                 sorted_classes, split)
from benchmarks.systems import fit_predict_sklearn_api

CONFIGS = ("catboost_shallow", "lightgbm_007", "xgboost_002", "catboost_000", "catboost_004", "lightgbm_005",
           "lightgbm_base", "xgboost_base")


def opener_alone(entry: dict, X, y, config: dict, limit: float, seed: int) -> dict:
    task = entry["task"]
    X_train, X_test, y_train, y_test = split(X, y, task, seed)
    with tempfile.TemporaryDirectory() as folder:
        portfolio = Path(folder) / "alone.json"
        portfolio.write_text(json.dumps({"name": "alone", "configs": [config]}))
        estimator = (automl.AutoMLRegressor if task == "regression" else automl.AutoMLClassifier)(
            time_limit=limit, random_state=0, metric=MAIN_METRIC[task], portfolio=str(portfolio),
            ensemble="best", refit=False, verbosity=0)
        p = fit_predict_sklearn_api(estimator, X_train, y_train, X_test, task)
    test = score(task, y_test, None if task == "regression" else sorted_classes(y), proba=p.proba,
                 proba_classes=p.proba_classes, pred=p.pred)
    board = estimator.leaderboard().iloc[0]
    return {"dataset": entry["name"], "config": config["name"], "seed": seed, "limit": limit,
            "metric": test["metric"], "test": test["value"], "oof": float(board[f"oof_{estimator.metric_}"]),
            "adapted": board["adapted"], "model_seconds": round(float(board["fit_seconds"]), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="CSV, appended to (resumable)")
    ap.add_argument("--limit", type=float, default=30.0, help="the fit's time limit in seconds")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="configurations of the default and "
                    "handpicked portfolios, comma-separated")
    ap.add_argument("--datasets", default="", help="comma-separated dev tables (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="the BENCHMARK.md split")
    args = ap.parse_args()
    pool = {c["name"]: c for name in ("default", "handpicked") for c in read_portfolio(name)["configs"]}
    unknown = sorted(set(args.configs.split(",")) - set(pool))
    if unknown:
        raise SystemExit(f"Unknown configurations {unknown}: not in the default or handpicked portfolio.")
    done = set()
    if args.out.exists():
        done = {(r["dataset"], r["config"]) for r in csv.DictReader(args.out.open())}
    suite = resolve_suite("dev")
    for entry in read_manifest(suite):
        if args.datasets and entry["name"] not in args.datasets.split(","):
            continue
        X, y = load_dataset(suite, entry)
        for name in args.configs.split(","):
            if (entry["name"], name) in done:
                continue
            row = opener_alone(entry, X, y, pool[name], args.limit, args.seed)
            print(row, flush=True)
            append_row(args.out, row, list(row))


if __name__ == "__main__":
    main()
