"""Which selection objective generalizes: 5-fold cross-validation over the meta datasets.

The leave-one-dataset-out study (``portfolio_loo``) runs one selection per held-out dataset; this
one runs five per objective (each learned on 4/5 of the datasets, scored on the other fifth), so
several objectives can be compared in minutes. Every objective runs the ensemble-aware greedy
(``select.greedy_portfolio``, GES on the prefix's OOF predictions) on the candidate pool plus the
hand-written configurations; they differ in how a dataset's test loss is normalized for the
selection (the held-out score is always ``DatasetResults.normalized_error``: 0 = the dataset's best
configuration, 1 = its worst):
- ``worst``: that same normalization (what ``python -m automl.portfolio select`` uses);
- ``median``: TabRepo's, the median configuration at 1 and clipped there, so a dataset where a
  few configurations fail badly is not compressed towards 0;
- ``rank``: the share of configurations the ensemble does not beat;
- ``families_first``: ``worst``, but the first picks must each add a family not yet chosen,
  as the hand-written portfolio does.

    python -m benchmarks.studies.portfolio_selection_cv --results portfolios/evaluation \\
        --out benchmarks/results/portfolio_selection_cv.csv      # ~5 minutes per objective on 1 core
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from automl.portfolio import load_portfolio
from automl.portfolio.select import DatasetResults, greedy_portfolio, load_results

SIZES = (5, 10, 15, 20)
FIELDS = ("name", "task", "metric", "oof", "test", "y", "y_test", "fit_seconds", "failed")


class MedianNormalized(DatasetResults):
    def normalized_error(self, loss: float) -> float:
        finished = self._test_losses[~self.failed]
        spread = np.median(finished) - self._best
        return 0.0 if spread <= 0 else float(min((loss - self._best) / spread, 1.0))


class RankNormalized(DatasetResults):
    def normalized_error(self, loss: float) -> float:
        finished = np.sort(self._test_losses[~self.failed])
        return float(np.searchsorted(finished, loss - 1e-12) / len(finished))


OBJECTIVES = {"worst": DatasetResults, "median": MedianNormalized, "rank": RankNormalized,
              "families_first": DatasetResults}


def families_first(train: list[DatasetResults], size: int, families: list[str]) -> list[int]:
    """The ensemble-aware greedy, restricted to new families until every family is in."""
    chosen: list[int] = []
    while len(chosen) < size:
        covered = {families[j] for j in chosen}
        options = [j for j in range(len(families)) if j not in chosen
                   and (families[j] not in covered or covered >= set(families))]
        errors = np.mean([r.extension_errors(chosen)[options] for r in train], axis=0)
        chosen.append(options[int(np.argmin(errors))])
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, required=True, help="the folder `python -m automl.portfolio evaluate` wrote")
    ap.add_argument("--out", type=Path, required=True, help="CSV (rows appended per objective); a markdown beside it")
    ap.add_argument("--objectives", default=",".join(OBJECTIVES))
    args = ap.parse_args()
    pool = load_portfolio("candidates") + load_portfolio("handpicked")
    names, families = [c.name for c in pool], [c.family for c in pool]
    hand = [j for j, name in enumerate(names) if name in {c.name for c in load_portfolio("handpicked")}]
    results = load_results(args.results, names)
    done = {row["objective"] for row in csv.DictReader(open(args.out))} if args.out.exists() else set()
    folds = np.array_split(np.random.default_rng(0).permutation(len(results)), 5)
    for objective in [o for o in args.objectives.split(",") if o and o not in done]:
        targets = [OBJECTIVES[objective](**{f: getattr(r, f) for f in FIELDS}) for r in results]
        rows = []
        for held in folds:
            train = [t for i, t in enumerate(targets) if i not in held]
            order = families_first(train, max(SIZES), families) if objective == "families_first" else \
                greedy_portfolio(train, max(SIZES), "ensemble")
            for i in held:
                rows += [{"objective": objective, "dataset": results[i].name, "size": size,
                          "learned": results[i].prefix_error(order[:size], "ensemble"),
                          "handpicked": results[i].prefix_error(hand[:size], "ensemble")} for size in SIZES]
            print(objective, [names[j] for j in order[:10]], flush=True)
        with open(args.out, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            if f.tell() == 0:
                writer.writeheader()
            writer.writerows(rows)
    args.out.with_suffix(".md").write_text(table(list(csv.DictReader(open(args.out))), len(results)))
    print(args.out.with_suffix(".md").read_text())


def table(rows: list[dict], n_datasets: int) -> str:
    lines = [f"# Selection objectives, 5-fold cross-validation over {n_datasets} meta datasets", "",
             "Held-out mean normalized test error of GES on the learned portfolio's first configurations "
             "(0 = the dataset's best configuration, 1 = its worst) against `handpicked.json`'s first ones.", "",
             "| objective | size | learned | handpicked | wins / losses | mean difference [95% CI] |",
             "|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    for objective in dict.fromkeys(r["objective"] for r in rows):
        for size in SIZES:
            part = [r for r in rows if r["objective"] == objective and int(r["size"]) == size]
            diff = np.array([float(r["learned"]) - float(r["handpicked"]) for r in part])
            boot = [rng.choice(diff, len(diff)).mean() for _ in range(1000)]
            lines.append(f"| {objective} | {size} | {np.mean([float(r['learned']) for r in part]):.4f} | "
                         f"{np.mean([float(r['handpicked']) for r in part]):.4f} | {(diff < -1e-9).sum()} / "
                         f"{(diff > 1e-9).sum()} | {diff.mean():+.4f} [{np.percentile(boot, 2.5):+.4f}, "
                         f"{np.percentile(boot, 97.5):+.4f}] |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
