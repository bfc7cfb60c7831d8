"""Scale on one machine (issue 14): fit time and peak memory as the rows grow.

A synthetic binary table of N rows x 20 columns (16 numeric, 4 categorical as strings, 4 to 500
levels; the label depends on interactions, a few numbers and the categories), the same generator
for a 100,000-row test table. Each size runs in a fresh process under ``/usr/bin/time -v``: a
default ``AutoMLClassifier(time_limit=T)`` fit, then ``predict_proba`` on the test table. Per
size: fit seconds (inside the limit?), peak resident memory, folds, configurations trained, test
ROC AUC, predict seconds, and the growth ratio of fit seconds and memory from the size before.

    python -m benchmarks.studies.scale --sizes 10000,100000,1000000 --time-limit 600 \\
        --out benchmarks/results/scale.csv [--log-dir benchmarks/results/scale_logs]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocol import append_row, markdown_table

COLUMNS = ["rows", "time_limit", "fit_seconds", "within_limit", "peak_gib", "folds", "configurations",
           "trained", "test_roc_auc", "predict_seconds_100k", "fit_growth", "memory_growth"]
LEVELS = (4, 12, 50, 500)
TEST_ROWS = 100_000


def make_table(n_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows from one fixed generator (the category effects are drawn once, whatever the seed)."""
    effects = [np.random.default_rng(1000 + j).normal(scale=0.7, size=k) for j, k in enumerate(LEVELS)]
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(n_rows, 16)).astype(np.float32)
    codes = [rng.integers(0, k, n_rows) for k in LEVELS]
    logit = (numbers[:, 0] + 0.8 * numbers[:, 1] * numbers[:, 2] - 0.6 * np.abs(numbers[:, 3])
             + 0.3 * numbers[:, 4:8].sum(axis=1) + sum(e[c] for e, c in zip(effects, codes)))
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(numbers, columns=[f"n{j}" for j in range(16)])
    for j, c in enumerate(codes):
        frame[f"c{j}"] = pd.Series(c).map(lambda v, j=j: f"level_{j}_{v}")
    return frame, y


def run_one(n_rows: int, time_limit: float) -> dict:
    """One fit and prediction in this process; the result as a dict (printed as JSON)."""
    from sklearn.metrics import roc_auc_score

    from automl import AutoMLClassifier

    X, y = make_table(n_rows, seed=0)
    X_test, y_test = make_table(TEST_ROWS, seed=1)
    model = AutoMLClassifier(time_limit=time_limit, random_state=0, verbosity=1)
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = model.predict_proba(X_test)
    predict_seconds = time.perf_counter() - start
    return {"rows": n_rows, "time_limit": time_limit, "fit_seconds": round(fit_seconds, 1),
            "within_limit": fit_seconds <= 1.05 * time_limit + 5, "folds": int(model.store_.fold_of.max() + 1),
            "configurations": len(model.leaderboard()), "trained": ",".join(model.leaderboard()["config"]),
            "test_roc_auc": round(float(roc_auc_score(y_test, proba[:, 1])), 5),
            "predict_seconds_100k": round(predict_seconds, 2)}


def measure(n_rows: int, time_limit: float, log_dir: Path | None = None) -> dict:
    """``run_one`` in a fresh process under /usr/bin/time -v, with its peak resident memory; the
    fit's log (what each configuration became) is written to ``log_dir`` when given."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "benchmarks.studies.scale", "--one", str(n_rows),
               "--time-limit", str(time_limit)]
    done = subprocess.run(command, capture_output=True, text=True)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{n_rows}_{time_limit:g}.log").write_text(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{n_rows} rows failed:\n{done.stderr[-3000:]}")
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "peak_gib": round(peak_kib / 2**20, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.csv"))
    ap.add_argument("--log-dir", type=Path, help="write each fit's log here")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.time_limit)))
        return
    done = {int(r["rows"]): r for r in csv.DictReader(open(args.out))} if args.out.exists() else {}
    previous = None
    for n_rows in (int(s) for s in args.sizes.split(",")):
        row = done.get(n_rows) or measure(n_rows, args.time_limit, args.log_dir)
        if previous is not None:
            row["fit_growth"] = round(float(row["fit_seconds"]) / float(previous["fit_seconds"]), 2)
            row["memory_growth"] = round(float(row["peak_gib"]) / float(previous["peak_gib"]), 2)
        if n_rows not in done:
            append_row(args.out, row, COLUMNS)
        print({k: row.get(k) for k in COLUMNS if k != "trained"}, flush=True)
        previous = row
    table = pd.DataFrame(list(csv.DictReader(open(args.out)))).set_index("rows").drop(columns=["trained"])
    args.out.with_suffix(".md").write_text("\n".join(markdown_table(table)) + "\n")


if __name__ == "__main__":
    main()
