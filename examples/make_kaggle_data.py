"""Splits a dev-suite table into a Kaggle-style competition folder, to try the notebook locally.

Writes train.csv (features, an ``id`` column and the target), test.csv (no target),
sample_submission.csv (``id`` and the target column, filled with a placeholder) and, for
checking a submission afterwards, solution.csv (the held-out answers, which Kaggle keeps hidden).

Run: python examples/make_kaggle_data.py ../shared/datasets/dev/titanic.csv.gz survived kaggle-titanic
"""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def make_competition(table: pd.DataFrame, target: str, out: Path, test_share: float = 0.25,
                     seed: int = 0) -> None:
    if target not in table.columns:
        raise SystemExit(f"Column {target!r} not found; the columns are {list(table.columns)}.")
    table = table.dropna(subset=[target]).reset_index(drop=True)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    test_rows = np.random.default_rng(seed).random(len(table)) < test_share
    train, test = table[~test_rows], table[test_rows]
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    test.drop(columns=target).to_csv(out / "test.csv", index=False)
    placeholder = table[target].mode().iloc[0]
    pd.DataFrame({"id": test["id"], target: placeholder}).to_csv(out / "sample_submission.csv", index=False)
    test[["id", target]].to_csv(out / "solution.csv", index=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", help="a CSV file (.csv or .csv.gz)")
    parser.add_argument("target", help="the column to predict")
    parser.add_argument("out", type=Path, help="folder to write the competition files to")
    args = parser.parse_args()
    make_competition(pd.read_csv(args.table), args.target, args.out)
    print(f"Wrote train.csv, test.csv, sample_submission.csv and solution.csv to {args.out}/")
