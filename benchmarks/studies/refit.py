"""Refitted members against fold copies, from one fit per dataset (issue 12).

Per dev dataset (BENCHMARK.md split, seed 0): one default fit with ``refit=True`` at --time-limit;
then the test part is predicted twice by the same ensemble: with the refitted members, and with
their fold copies (the refitted copies set aside). Per dataset: test metric and predict seconds
(median of 3) of both, the refit's seconds and its share of the limit, and single-row latency
(median and 99th percentile of --latency-calls calls) of the refitted ensemble, and on the
--throughput datasets its rows per second on 100,000 and 1,000,000 rows (the test part tiled).
Rows are appended as each dataset finishes; a rerun skips the datasets already in --out.

    python -m benchmarks.studies.refit --time-limit 120 --latency-calls 1000 --throughput adult,diamonds \
        --out benchmarks/results/refit.csv

At the end (or alone, with --report-only) it writes a markdown table beside the CSV, with the
peers' predict seconds on the same test parts from --peers (BENCHMARK.md runs of AutoGluon
best_quality and CatBoost default).
"""
from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from ..protocol import DEV, append_row, load_dataset, pending, score, sorted_classes, split

from automl import AutoMLClassifier, AutoMLRegressor

SUITE = DEV
COLUMNS = ["dataset", "task", "time_limit", "fit_seconds", "ensemble", "members", "refitted", "refit_seconds",
           "refit_share", "metric", "bagged_metric", "refit_metric", "relative_change", "bagged_predict_seconds",
           "refit_predict_seconds", "speedup", "single_row_median_ms", "single_row_p99_ms", "rows_per_second_100k",
           "rows_per_second_1m"]
THROUGHPUT_ROWS = {"rows_per_second_100k": 100_000, "rows_per_second_1m": 1_000_000}


def predict_and_score(model, entry, X_test, y_test, classes) -> tuple[float, float]:
    """(test metric, median seconds of 3 predict calls on the test part)."""
    seconds, output = [], None
    for _ in range(3):
        start = time.perf_counter()
        output = model.predict(X_test) if entry["task"] == "regression" else model.predict_proba(X_test)
        seconds.append(time.perf_counter() - start)
    if entry["task"] == "regression":
        value = score("regression", y_test, None, pred=output)["value"]
    else:
        value = score(entry["task"], y_test, classes, proba=output, proba_classes=list(model.classes_),
                      pred=model.classes_[np.argmax(output, axis=1)])["value"]
    return value, statistics.median(seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--datasets", default="", help="comma-separated names (default: the whole dev suite)")
    ap.add_argument("--latency-calls", type=int, default=1000)
    ap.add_argument("--throughput", default="", help="comma-separated datasets whose rows per second are measured")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/refit.csv"))
    ap.add_argument("--peers", type=Path, default=Path("benchmarks/results/dev_peers.csv"))
    ap.add_argument("--before", type=Path, default=None,
                    help="an earlier run of this study (its CSV): the report sets each dataset's bagged ensemble "
                         "of that run beside this one's refitted ensemble")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    if args.report_only:
        return report(args.out, args.peers, args.before)
    for entry in pending(SUITE, args.out, args.datasets):
        X, y = load_dataset(SUITE, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        classes = sorted_classes(y) if entry["task"] != "regression" else None
        estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
        model = estimator(time_limit=args.time_limit, refit=True, random_state=0, verbosity=0).fit(X_train, y_train)
        refit_metric, refit_seconds = predict_and_score(model, entry, X_test, y_test, classes)
        latencies = []
        for i in range(args.latency_calls):
            row = X_test.iloc[[i % len(X_test)]]
            start = time.perf_counter()
            model.predict(row)
            latencies.append(time.perf_counter() - start)
        throughput = {}
        if entry["name"] in args.throughput.split(","):
            for column, n_rows in THROUGHPUT_ROWS.items():
                tiled = X_test.iloc[np.arange(n_rows) % len(X_test)]
                start = time.perf_counter()
                model.predict(tiled)
                throughput[column] = round(n_rows / (time.perf_counter() - start))
        members = [model.records_[j].name for j in model.ensemble_.used_models]
        for name in members:  # the same ensemble, predicting with the fold copies
            model.models_[name].full_ = None
        bagged_metric, bagged_seconds = predict_and_score(model, entry, X_test, y_test, classes)
        shutil.rmtree(model.run_dir_, ignore_errors=True)
        row = {"dataset": entry["name"], "task": entry["task"], "time_limit": args.time_limit,
               "fit_seconds": round(model.fit_seconds_, 1), "ensemble": model.ensemble_.describe(),
               "members": len(members),
               "refitted": len(model.refitted_), "refit_seconds": round(model.refit_seconds_, 2),
               "refit_share": round(model.refit_seconds_ / args.time_limit, 4), "metric": model.metric_,
               "bagged_metric": bagged_metric, "refit_metric": refit_metric,
               "relative_change": (refit_metric - bagged_metric) / abs(bagged_metric),
               "bagged_predict_seconds": round(bagged_seconds, 4), "refit_predict_seconds": round(refit_seconds, 4),
               "speedup": round(bagged_seconds / refit_seconds, 2),
               "single_row_median_ms": round(1000 * statistics.median(latencies), 2),
               "single_row_p99_ms": round(1000 * float(np.percentile(latencies, 99)), 2), **throughput}
        append_row(args.out, row, COLUMNS)
        print(row, flush=True)
    report(args.out, args.peers, args.before)


def report(out: Path, peers: Path, before: Path | None = None) -> None:
    rows = list(csv.DictReader(open(out)))
    peer_seconds = {}
    for r in csv.DictReader(open(peers)):
        if r["status"] == "ok" and r["seed"] == "0":
            peer_seconds[(r["dataset"], r["system"])] = float(r["predict_seconds"])

    def peer(dataset: str, system: str) -> str:
        value = peer_seconds.get((dataset, system))
        return "-" if value is None else f"{value:.3f}"

    lines = ["# Refitted members against fold copies (issue 12)", "",
             f"One default fit per dataset with `refit=True` at {rows[0]['time_limit']} s; the same ensemble predicts "
             "the test part with its refitted members and with their fold copies. Peers' predict seconds: "
             f"`{peers.name}` (other runs of the same test parts).", "",
             "| dataset | members (refitted) | bagged | refit | change | bagged s | refit s | speedup | AutoGluon s | "
             "CatBoost s | 1 row median / p99 ms | refit s (share) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['members']} ({r['refitted']}) | {float(r['bagged_metric']):.5g} | "
            f"{float(r['refit_metric']):.5g} | {100 * float(r['relative_change']):+.2f}% | {r['bagged_predict_seconds']} | "
            f"{r['refit_predict_seconds']} | {r['speedup']}x | {peer(r['dataset'], 'autogluon_best')} | "
            f"{peer(r['dataset'], 'catboost_default')} | {r['single_row_median_ms']} / {r['single_row_p99_ms']} | "
            f"{r['refit_seconds']} ({100 * float(r['refit_share']):.1f}%) |")
    # Relative change oriented so that negative is worse, whatever the metric's direction.
    worse = [float(r["relative_change"]) * (1 if r["metric"] == "roc_auc" else -1) for r in rows]
    ag = [(float(r["refit_predict_seconds"]), peer_seconds[(r["dataset"], "autogluon_best")]) for r in rows
          if (r["dataset"], "autogluon_best") in peer_seconds]
    lines += ["", f"Median change of the test metric with refit: {100 * statistics.median(worse):+.3f}% "
              "(oriented: negative is worse); "
              f"median predict seconds bagged {statistics.median(float(r['bagged_predict_seconds']) for r in rows):.3f}, "
              f"refit {statistics.median(float(r['refit_predict_seconds']) for r in rows):.3f}; "
              f"median single-row latency {statistics.median(float(r['single_row_median_ms']) for r in rows):.1f} ms; "
              f"median refit share of the limit {100 * statistics.median(float(r['refit_share']) for r in rows):.1f}%."]
    if ag:
        lines.append(f"Where AutoGluon ran ({len(ag)} datasets): median refit predict seconds "
                     f"{statistics.median(a for a, _ in ag):.3f} against AutoGluon's {statistics.median(b for _, b in ag):.3f} "
                     f"(median per-dataset ratio {statistics.median(a / b for a, b in ag):.3f}).")
    for r in rows:
        if r.get("rows_per_second_1m"):
            lines.append(f"Throughput of the refitted ensemble on {r['dataset']} (test part tiled): "
                         f"{int(r['rows_per_second_100k']):,} rows/s on 100,000 rows, "
                         f"{int(r['rows_per_second_1m']):,} rows/s on 1,000,000.")
    if before is not None:
        lines += _against_before(rows, {r["dataset"]: r for r in csv.DictReader(open(before))}, before)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def _against_before(rows: list[dict], earlier: dict[str, dict], before: Path) -> list[str]:
    """This run's refitted ensemble against an earlier run's bagged one (test metric, predict seconds)."""
    lines = ["", f"Against the bagged ensemble of an earlier run (`{before.name}`):", "",
             "| dataset | earlier bagged | refit now | change | earlier bagged s | refit now s |", "|---|---|---|---|---|---|"]
    changes, ratios = [], []
    for r in rows:
        if r["dataset"] not in earlier:
            continue
        old = earlier[r["dataset"]]
        change = (float(r["refit_metric"]) - float(old["bagged_metric"])) / abs(float(old["bagged_metric"]))
        changes.append(change * (1 if r["metric"] == "roc_auc" else -1))  # oriented: negative is worse
        ratios.append(float(r["refit_predict_seconds"]) / float(old["bagged_predict_seconds"]))
        lines.append(f"| {r['dataset']} | {float(old['bagged_metric']):.5g} | {float(r['refit_metric']):.5g} | "
                     f"{100 * changes[-1]:+.2f}% | {old['bagged_predict_seconds']} | {r['refit_predict_seconds']} |")
    lines += ["", f"Median change of the test metric {100 * statistics.median(changes):+.3f}% (oriented: negative is "
              f"worse); median predict-time ratio {statistics.median(ratios):.3f}."]
    return lines


if __name__ == "__main__":
    main()
