"""Killed fits resume to working models (issue 11): SIGKILL a CLI fit at several moments, then
check the run folder and resume it.

On one dev dataset (BENCHMARK.md split, seed 0): an uninterrupted `automl fit --time-limit T`
gives the reference test score; then for each kill moment (seconds after the start, spread
over the fit) a fresh `automl fit` is killed with SIGKILL at that moment, the run folder is read
(`PredictionStore.load`: how many models it kept), and `automl fit --resume --time-limit T`
continues it. Each row: the moment, models found after the kill, whether the run was readable,
the resumed model's test score and its relative difference to the reference.

    python -m benchmarks.studies.kill_resume --dataset phoneme --time-limit 60 --kills 5,15,25,35,45,55
"""
from __future__ import annotations

import argparse
import csv
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..protocol import DEV, load_dataset, read_manifest, score, sorted_classes, split

import automl
from automl.store import PredictionStore

SUITE = DEV


def fit_command(train: Path, target: str, out: Path, limit: float, resume: bool = False) -> list[str]:
    return [sys.executable, "-m", "automl", "fit", str(train), "--target", target, "--time-limit", str(limit),
            "--out", str(out), "--quiet"] + (["--resume"] if resume else [])


def test_score(folder: Path, entry: dict, X_test, y_test, classes) -> float:
    model = automl.load(folder)
    if entry["task"] == "regression":
        return score("regression", y_test, None, pred=model.predict(X_test))["value"]
    return score(entry["task"], y_test, classes, proba=model.predict_proba(X_test), proba_classes=list(model.classes_),
                 pred=model.predict(X_test))["value"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="phoneme")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--kills", default="5,15,25,35,45,55", help="seconds after the start")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/kill_resume.csv"))
    args = ap.parse_args()
    entry = next(e for e in read_manifest(SUITE) if e["name"] == args.dataset)
    X, y = load_dataset(SUITE, entry)
    X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
    classes = sorted_classes(y) if entry["task"] != "regression" else None
    work = Path(tempfile.mkdtemp(prefix="automl-kill-"))
    train = work / "train.csv"
    X_train.assign(**{entry["target"]: y_train}).to_csv(train, index=False)

    subprocess.run(fit_command(train, entry["target"], work / "reference", args.time_limit), check=True)
    reference = test_score(work / "reference", entry, X_test, y_test, classes)
    print(f"reference {entry['name']} {reference:.5f}", flush=True)
    rows = []
    for moment in [float(k) for k in args.kills.split(",")]:
        out = work / f"killed-{moment:g}"
        process = subprocess.Popen(fit_command(train, entry["target"], out, args.time_limit))
        time.sleep(moment)
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        try:
            models_found, readable = len(PredictionStore.load(out / "store")), True
        except Exception:  # nothing written yet (killed while reading the table) is no run to read
            models_found, readable = 0, False
        resumed = subprocess.run(fit_command(train, entry["target"], out, args.time_limit, resume=readable),
                                 capture_output=True, text=True)
        value = test_score(out, entry, X_test, y_test, classes) if resumed.returncode == 0 else float("nan")
        rows.append({"dataset": entry["name"], "time_limit": args.time_limit, "kill_after_s": moment,
                     "finished_before_kill": finished, "run_readable": readable, "models_found": models_found,
                     "resumed_ok": resumed.returncode == 0, "test_metric": value,
                     "reference_metric": reference, "relative_difference": (value - reference) / abs(reference),
                     "error": resumed.stderr.strip().splitlines()[-1] if resumed.returncode else ""})
        print(rows[-1], flush=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
