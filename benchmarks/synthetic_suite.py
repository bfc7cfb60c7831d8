"""Writes a small suite of synthetic tables in the shared suite format (manifest.json + gzipped CSVs),
for stress cases the dev suite lacks. Reproducible: every table comes from a fixed seed.

    python -m benchmarks.synthetic_suite            # writes benchmarks/data/synthetic/
    python -m benchmarks.run_benchmark --suite benchmarks/data/synthetic --time-limit 60 ...

``manyclass_30``: 30 classes, 50,000 rows, 20 numeric features (12 informative), the many-class
case of the budget issue: gradient boosting grows 30 trees per round there.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification

OUT = Path(__file__).resolve().parent / "data" / "synthetic"


def manyclass_30() -> pd.DataFrame:
    X, y = make_classification(n_samples=50_000, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=30, n_clusters_per_class=1, class_sep=1.5, random_state=0)
    frame = pd.DataFrame(X.round(5), columns=[f"x{j}" for j in range(X.shape[1])])
    frame["target"] = y
    return frame


TABLES = {"manyclass_30": (manyclass_30, "multiclass")}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, (make, task) in TABLES.items():
        frame = make()
        frame.to_csv(OUT / f"{name}.csv.gz", index=False)
        manifest.append({"name": name, "file": f"{name}.csv.gz", "target": "target", "task": task,
                         "rows": len(frame), "features": frame.shape[1] - 1, "source": "synthetic"})
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {len(manifest)} tables to {OUT}")


if __name__ == "__main__":
    main()
