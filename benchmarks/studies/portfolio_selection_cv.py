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
  as the hand-written portfolio does;
- ``cautious``: ``worst``, each step valued by the lower bound of its gain (mean - standard error
  over the training datasets), so an addition that helps everywhere a little beats one that helps
  a few datasets by chance;
- ``clipped_gains``: ``worst``, each dataset's gain clipped to +-0.2, so no one dataset decides a step;
- ``weighted_by_rows``: ``worst``, datasets weighted by the square root of their test rows (their
  noise shrinks with it);
- ``handpicked_head``: the hand-written portfolio's first 7 configurations (one per family but
  random forest) kept, the rest chosen by ``worst``.

    python -m benchmarks.studies.portfolio_selection_cv --results portfolios/evaluation \\
        --out benchmarks/results/portfolio_selection_cv.csv      # ~5 minutes per objective and core
"""
from __future__ import annotations

import argparse
import csv
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from automl.portfolio import load_portfolio
from automl.portfolio.select import DatasetResults, load_results

SIZES = (5, 10, 15, 20)
# What a dataset's evaluation is, without its normalization (each objective sets its own).
FIELDS = [f.name for f in fields(DatasetResults) if f.name != "normalization"]


class RankNormalized(DatasetResults):
    def normalized_error(self, loss: float) -> float:
        finished = np.sort(self._test_losses[~self.failed])
        return float(np.searchsorted(finished, loss - 1e-12) / len(finished))


def mean_gain(gains: np.ndarray, train: list[DatasetResults]) -> np.ndarray:
    return gains.mean(axis=0)


def lower_bound(gains: np.ndarray, train: list[DatasetResults]) -> np.ndarray:
    return gains.mean(axis=0) - gains.std(axis=0) / np.sqrt(len(gains))


def clipped(gains: np.ndarray, train: list[DatasetResults]) -> np.ndarray:
    return np.clip(gains, -0.2, 0.2).mean(axis=0)


def by_rows(gains: np.ndarray, train: list[DatasetResults]) -> np.ndarray:
    weights = np.sqrt([len(t.y_test) for t in train])
    return weights @ gains / weights.sum()


@dataclass(frozen=True)
class Objective:
    """How the study's greedy values a step: the datasets' normalization (one of the package's, or
    a study-only DatasetResults subclass), the value of each candidate's gains ([datasets,
    candidates] -> [candidates]), which candidates may come next, and how many of the hand-written
    portfolio's first configurations are kept as its head."""

    normalization: str = "worst"
    results_type: type = DatasetResults
    value: Callable[[np.ndarray, list], np.ndarray] = mean_gain
    new_families_first: bool = False
    head: int = 0


OBJECTIVES = {"worst": Objective(), "median": Objective("median"), "rank": Objective(results_type=RankNormalized),
              "families_first": Objective(new_families_first=True), "cautious": Objective(value=lower_bound),
              "clipped_gains": Objective(value=clipped), "weighted_by_rows": Objective(value=by_rows),
              "handpicked_head": Objective(head=7)}


def select(train: list[DatasetResults], size: int, objective: Objective, families: list[str],
           hand: list[int]) -> list[int]:
    """The ensemble-aware greedy (``select.greedy_portfolio``'s steps) under ``objective``; ties go
    to the first candidate (``greedy_portfolio`` gives them to the better one alone)."""
    chosen = list(hand[:objective.head])
    current = np.array([t.prefix_error(chosen, "ensemble") if chosen else 1.0 for t in train])
    while len(chosen) < size:
        covered = {families[j] for j in chosen}
        options = [j for j in range(len(families)) if j not in chosen and (
            not objective.new_families_first or families[j] not in covered or covered >= set(families))]
        errors = np.array([t.extension_errors(chosen)[options] for t in train])  # [datasets, options]
        pick = int(np.argmax(objective.value(current[:, None] - errors, train)))
        chosen.append(options[pick])
        current = errors[:, pick]
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, required=True, help="the folder `python -m automl.portfolio evaluate` wrote")
    ap.add_argument("--out", type=Path, required=True, help="CSV (rows appended per objective); a markdown beside it")
    ap.add_argument("--objectives", default=",".join(OBJECTIVES))
    ap.add_argument("--jobs", type=int, default=os.cpu_count(),
                    help="objectives cross-validated side by side")
    args = ap.parse_args()
    pool = load_portfolio("candidates") + load_portfolio("handpicked")
    names = [c.name for c in pool]
    hand = [j for j, name in enumerate(names) if name in {c.name for c in load_portfolio("handpicked")}]
    results = load_results(args.results, names)
    # The hand-written portfolio's held-out errors are the same for every objective: computed once.
    _STUDY.update(results=results, names=names, families=[c.family for c in pool], hand=hand,
                  hand_errors={(i, size): r.prefix_error(hand[:size], "ensemble")
                               for i, r in enumerate(results) for size in SIZES},
                  folds=np.array_split(np.random.default_rng(0).permutation(len(results)), 5))
    done = {row["objective"] for row in csv.DictReader(open(args.out))} if args.out.exists() else set()
    todo = [o for o in args.objectives.split(",") if o and o not in done]
    # Forked workers read the loaded results from _STUDY; rows are appended per objective, in order.
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("fork")) as workers:
        for rows in workers.map(cross_validate, todo):
            with open(args.out, "a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                if f.tell() == 0:
                    writer.writeheader()
                writer.writerows(rows)
    args.out.with_suffix(".md").write_text(table(list(csv.DictReader(open(args.out))), len(results)))
    print(args.out.with_suffix(".md").read_text())


_STUDY: dict = {}


def cross_validate(objective: str) -> list[dict]:
    """Held-out rows of one objective: a selection per fold of datasets, scored on the other fold."""
    results, names, hand = _STUDY["results"], _STUDY["names"], _STUDY["hand"]
    kind = OBJECTIVES[objective]
    targets = [kind.results_type(**{f: getattr(r, f) for f in FIELDS}, normalization=kind.normalization)
               for r in results]
    rows = []
    for held in _STUDY["folds"]:
        train = [t for i, t in enumerate(targets) if i not in held]
        order = select(train, max(SIZES), kind, _STUDY["families"], hand)
        for i in held:
            rows += [{"objective": objective, "dataset": results[i].name, "size": size,
                      "learned": results[i].prefix_error(order[:size], "ensemble"),
                      "handpicked": _STUDY["hand_errors"][i, size]} for size in SIZES]
        print(objective, [names[j] for j in order[:10]], flush=True)
    return rows


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
