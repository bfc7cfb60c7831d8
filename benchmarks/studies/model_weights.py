"""Whether a model was trained in each benchmark run, and its weight in the final ensemble.

    python -m benchmarks.studies.model_weights benchmarks/results/dev_tabm_ablation_full.csv --model tabm_base

Reads the ``notes`` column that run_benchmark.py writes for automl systems (the fitted
leaderboard's ensemble weights); prints a markdown table, one row per dataset, one column per
system: the weight, or "not trained" when the model is absent from the leaderboard (skipped
for time, failed, or not in that system's portfolio). Strategies without weights (stacking,
dynamic selection) report 1.0 for every model they read and 0.0 for the others.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def weights(csv_path: Path, model: str) -> tuple[list[str], list[str], dict]:
    """(datasets, systems, {(dataset, system): weight or None}) from the rows with status ok."""
    datasets, systems, cells = [], [], {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "ok" or not row["notes"].startswith("{"):
                continue
            datasets += [row["dataset"]] if row["dataset"] not in datasets else []
            systems += [row["system"]] if row["system"] not in systems else []
            cells[row["dataset"], row["system"]] = json.loads(row["notes"]).get("models", {}).get(model)
    return datasets, systems, cells


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--model", required=True, help="model name as in the leaderboard, e.g. tabm_base")
    args = ap.parse_args(argv)
    datasets, systems, cells = weights(args.csv, args.model)
    print(f"| dataset | {' | '.join(systems)} |\n| --- |{' ---: |' * len(systems)}")
    for dataset in datasets:
        shown = []
        for system in systems:
            w = cells.get((dataset, system), "missing")
            shown.append("—" if w == "missing" else "not trained" if w is None else f"{w:.3f}")
        print(f"| {dataset} | {' | '.join(shown)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
