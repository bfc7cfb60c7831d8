"""Ensemble quality and honesty: every strategy on the same stored predictions, scored on test.

Needs the cached stores of ensemble_stores.py (one 120 s fit per dev dataset, BENCHMARK.md
split). For each dataset and strategy it fits the strategy on all OOF rows, predicts the test
part from the base models' test predictions, and records the test metric, the strategy's own
OOF score (optimistic for strategies fitted on those rows), and for ``auto`` its cross-fitted
score and whether the guard slice rejected the search's favourite. No base model is retrained.

    flock /tmp/bench.lock python -m benchmarks.studies.ensemble_quality [--datasets a,b]

Writes benchmarks/results/ensemble_quality.csv and ensemble_quality.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from automl.ensemble.data import EnsembleData
from ..protocol import RESULTS, markdown_table
from . import ensemble_stores

from automl.budget import TimeBudget
from automl.context import FitContext
from automl.ensemble import STRATEGIES
from automl.metrics import get_metric
from automl.ensemble.search import search_ensemble

STRATEGY_ORDER = ["best", "ges", "qo", "qdo", "cmaes", "stacking", "des", "auto"]
# The auto search gets what a 120 s fit gives it at most (SEARCH_MAX_SHARE x 120 s); each other
# strategy gets 60 s (only stacking, whose guard and full fit train next-layer models, comes near).
AUTO_SECONDS, STRATEGY_SECONDS = 30.0, 60.0
BOOTSTRAP = 200


def evaluate(folder: Path) -> list[dict]:
    store, test, test_features, y_test, meta = ensemble_stores.load(folder)
    metric = get_metric(store.metric, store.task)
    oof, threads = store.oof, os.cpu_count() or 1
    rows, test_predictions = [], {}
    for name in STRATEGY_ORDER:
        start = time.perf_counter()
        extra = {}
        if name == "auto":
            context = FitContext.of(metric, store.task, store.oof.shape[2], threads=threads)
            result = search_ensemble(EnsembleData.from_store(store), context, TimeBudget(AUTO_SECONDS))
            strategy = result.strategy
            chosen = result.report[result.report["chosen"]].iloc[0] if len(result.report) else None
            if chosen is not None:
                rejected = "lost to GES on the guard" in chosen["reason"]
                extra = {"chosen": chosen["strategy"], "cv_score": chosen["cv_score"], "guard_rejected": rejected,
                         "favourite": chosen["reason"].split()[0] if rejected else chosen["strategy"],
                         "n_trials": len(result.trace)}
        else:
            kwargs = {"n_threads": threads} if name == "stacking" else {}
            strategy = STRATEGIES[name](metric, store.task, seed=0, **kwargs).fit(
                EnsembleData.from_store(store).with_predictions(oof) if oof is not store.oof
                else EnsembleData.from_store(store), TimeBudget(STRATEGY_SECONDS))
            if name == "stacking":
                extra = {"chosen": "stacking" if strategy.active_ else "ges (guard)"}
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = strategy.predict(test, test_features)
        combine_seconds = time.perf_counter() - start
        test_predictions[name] = predicted
        rows.append({"dataset": meta["name"], "task": store.task, "metric": metric.name, "strategy": name,
                     "n_models": len(store), "models_used": len(strategy.used_models),
                     "oof_score": metric.score(store.y, strategy.predict_oof(oof, store.features)),
                     "test_score": metric.score(y_test, predicted), "fit_seconds": fit_seconds,
                     "combine_seconds": combine_seconds, **extra})
    noise = _bootstrap_noise(metric, y_test, test_predictions)
    for row in rows:
        row["test_noise_vs_ges"] = noise[row["strategy"]]
    return rows


def _bootstrap_noise(metric, y, predictions: dict) -> dict:
    """Bootstrap standard error of (strategy - GES) test score, paired over test rows."""
    rng = np.random.default_rng(0)
    samples = [rng.integers(0, len(y), len(y)) for _ in range(BOOTSTRAP)]
    ges = predictions["ges"]
    noise = {}
    for name, p in predictions.items():
        usable = [s for s in samples if metric.name == "rmse" or len(np.unique(y[s])) == len(np.unique(y))]
        differences = [metric.score(y[s], p[s]) - metric.score(y[s], ges[s]) for s in usable]
        noise[name] = float(np.std(differences))
    return noise


def markdown(frame: pd.DataFrame) -> str:
    """Tables: test metric per dataset x strategy, wins/losses vs GES, honesty gaps, auto's choices."""
    frame = frame.copy()
    higher = frame["metric"].isin(["roc_auc"])
    frame["sign"] = np.where(higher, 1.0, -1.0)  # +: better
    ges = frame[frame["strategy"] == "ges"].set_index("dataset")["test_score"]
    frame["vs_ges"] = (frame["test_score"] - frame["dataset"].map(ges)) * frame["sign"]
    lines = [f"# Ensemble strategies on fixed stores ({dt.date.today()}, {platform.node() or 'machine'}, "
             f"{os.cpu_count()} cores, no GPU)", "",
             "Base models: one `ensemble=\"ges\"` fit at 120 s per dataset (seed 0, BENCHMARK.md split); every "
             "strategy runs on the same stored OOF predictions and the same base-model test predictions. "
             f"`auto`: {AUTO_SECONDS:.0f} s search. Test metric: ROC AUC (binary, higher is better), "
             "log loss (multiclass) and RMSE (regression), lower is better.", "",
             "## Test metric", ""]
    table = frame.pivot(index="dataset", columns="strategy", values="test_score")[STRATEGY_ORDER]
    lines += markdown_table(table.map(lambda v: f"{v:.5f}"))
    lines += ["", "## Against GES on test", "",
              "better / equal / worse: strict comparison of test scores; *beyond noise*: worse than GES by more "
              "than 2 bootstrap standard errors of the paired difference (200 resamples of the test rows).", ""]
    summary = []
    for name in STRATEGY_ORDER:
        part = frame[frame["strategy"] == name]
        summary.append({"strategy": name, "better": int((part["vs_ges"] > 1e-12).sum()),
                        "equal": int((part["vs_ges"].abs() <= 1e-12).sum()),
                        "worse": int((part["vs_ges"] < -1e-12).sum()),
                        "worse beyond noise": int((part["vs_ges"] < -2 * part["test_noise_vs_ges"]).sum()),
                        "better beyond noise": int((part["vs_ges"] > 2 * part["test_noise_vs_ges"]).sum()),
                        "median models used": float(part["models_used"].median()),
                        "median fit s": round(float(part["fit_seconds"].median()), 2)})
    lines += markdown_table(pd.DataFrame(summary).set_index("strategy"))
    # Relative gap in percent, + when the OOF score looked better than the test score.
    frame["gap"] = 100 * (frame["oof_score"] - frame["test_score"]) * frame["sign"] / frame["test_score"].abs()
    lines += ["", "## Honesty: OOF score minus test score, % of the test score (positive = OOF was optimistic)", "",
              "Each strategy's score on the OOF rows it was fitted on (cross-fitted for stacking and DES) minus "
              "its test score, in the metric's better direction. A strategy whose gap exceeds GES's overfits "
              "the OOF rows; `auto (cv)` is the search's cross-fitted score of its winner. Test predictions "
              "average all fold models, so they are often better than OOF (negative gaps).", ""]
    gaps = frame.pivot(index="dataset", columns="strategy", values="gap")[STRATEGY_ORDER]
    auto = frame[frame["strategy"] == "auto"].set_index("dataset")
    if "cv_score" in auto:
        gaps["auto (cv)"] = 100 * (auto["cv_score"] - auto["test_score"]) * auto["sign"] / auto["test_score"].abs()
    gaps.loc["mean"] = gaps.mean()
    lines += markdown_table(gaps.map(lambda v: f"{v:+.2f}"))
    if "chosen" in auto:
        lines += ["", "## What auto chose", "",
                  "*favourite*: the simplest strategy within noise of the best cross-fitted score; "
                  "*guard rejected*: the favourite lost to GES on the guard slice, so GES was kept.", ""]
        cols = [c for c in ["favourite", "chosen", "guard_rejected", "n_trials", "cv_score", "test_score"]
                if c in auto]
        lines += markdown_table(auto[cols])
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated names (default: every cached store)")
    parser.add_argument("--out", default=str(RESULTS / "ensemble_quality.csv"))
    args = parser.parse_args()
    folders = sorted(p.parent for p in ensemble_stores.CACHE.glob("*/meta.json"))
    if args.datasets:
        folders = [f for f in folders if f.name in args.datasets.split(",")]
    out = Path(args.out)
    # Datasets not re-run keep their earlier rows, so a subset can be refreshed.
    kept = pd.read_csv(out) if out.exists() and args.datasets else pd.DataFrame({"dataset": []})
    rows = kept[~kept["dataset"].isin([f.name for f in folders])].to_dict("records")
    for folder in folders:
        start = time.perf_counter()
        rows += evaluate(folder)
        print(f"{folder.name}: {time.perf_counter() - start:.0f}s", flush=True)
        frame = pd.DataFrame(rows).sort_values(["dataset"], kind="stable")
        frame.to_csv(out, index=False)
        out.with_suffix(".md").write_text(markdown(frame))


if __name__ == "__main__":
    main()
