"""Leave-one-dataset-out evaluation of learned portfolios against the hand-written one.

For each meta dataset, portfolios are learned on the other datasets (ensemble-aware greedy,
TabRepo's single-best greedy, and the time-aware variant) and scored on the held-out one as a
fit would use them: GES (25 iterations) on the OOF predictions of the configurations trained,
test loss normalized over every evaluated configuration of that dataset. Compared at equal size
(5, 10, 20, 30 configurations) and at simulated budgets (the longest prefix whose measured fit
seconds on the held-out dataset fit in what the fit's schedule gives training of 30, 60, 120, 300,
600 s: ``select.training_seconds``, 80% less 2 s; tables written before 2026-12-06 used 85%),
against `handpicked.json` in its order, the single best configuration, and random portfolios of
equal size (mean of 10).
``--folds K`` holds out K groups of datasets in turn instead of one dataset at a time: K selections
instead of one per dataset (a first selection of 30 from 88 candidates on 89 datasets takes ~2
minutes on a core; later ones in the same worker reuse its cached GES fits, so strict leave-one-out
of one variant took ~35 minutes here), each learned on fewer datasets than leave-one-out's,
which can only disadvantage the learned portfolios. Each held-out group's rows are written to
``<out>_parts/`` as it finishes, so a run that is stopped resumes with the groups left (run it again
with the same options: the parts do not record them).

    python -m automl.portfolio evaluate --out portfolio-eval          # first, resumable
    python -m benchmarks.studies.portfolio_loo --results portfolio-eval --out benchmarks/results/portfolio_loo.md
    # what chose the shipped default (~27 min on 2 cores at 89 datasets)
    python -m benchmarks.studies.portfolio_loo --results portfolio-eval --folds 10 --pool candidates,handpicked \
        --normalization median --out benchmarks/results/portfolio_loo_median.md
"""
from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
from pathlib import Path

import numpy as np

from automl.portfolio import load_portfolio
from automl.portfolio.select import NORMALIZATIONS, greedy_portfolio, load_results, training_seconds

SIZES = (5, 10, 20, 30)
BUDGETS = (30, 60, 120, 300, 600)
# The selection command's default budgets (--budgets): the study's budgets and no limit.
SELECTION_BUDGETS = (*BUDGETS, math.inf)
VARIANTS = {"learned_ensemble": {"scorer": "ensemble"}, "learned_single": {"scorer": "single"},
            "learned_time": {"scorer": "ensemble", "time_aware": True},
            "learned_budgets": {"scorer": "ensemble", "budgets": SELECTION_BUDGETS}}
# The evaluation and the candidate / hand-written indices: set by main before the workers fork.
RESULTS: list = []
POOL: list[int] = []
HAND: list[int] = []
LEARNED: list[str] = list(VARIANTS)
VIEWS: list[list] = []  # per dataset, what selection learns from (made once: they cache their GES fits)


def within(order: list[int], seconds: np.ndarray, budget: float) -> list[int]:
    spent = np.cumsum(seconds[order])
    return order[:max(1, int(np.searchsorted(spent, training_seconds(budget), side="right")))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, required=True, help="the folder `python -m automl.portfolio evaluate` wrote")
    ap.add_argument("--out", type=Path, required=True, help="markdown table; a CSV is written beside it")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="held-out datasets evaluated at once")
    ap.add_argument("--oof-halves", action="store_true", help="learn from each training dataset's OOF halves too "
                    "(`select --oof-halves`); the held-out dataset is scored on its test part as always")
    ap.add_argument("--folds", type=int, default=0, help="hold out this many groups of datasets in turn "
                    "(default: each dataset alone)")
    ap.add_argument("--normalization", choices=NORMALIZATIONS, default="worst",
                    help="how selection scales each training dataset's losses (`select --normalization`); the "
                         "held-out dataset is always scored with the worst configuration at 1, so tables compare")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated learned variants to evaluate")
    ap.add_argument("--pool", default="candidates", help="comma-separated portfolios the learned ones choose from "
                    "(candidates,handpicked: the hand-written configurations may be chosen too)")
    ap.add_argument("--table-only", action="store_true", help="rewrite the markdown from the CSV beside it")
    args = ap.parse_args()
    setup = (f"Held out: {'each dataset alone' if not args.folds else f'{args.folds} groups of datasets in turn'}; "
             f"selection from {args.pool}, {args.normalization}-normalized"
             f"{', with OOF halves' if args.oof_halves else ''}.")
    if args.table_only:
        rows = list(csv.DictReader(open(args.out.with_suffix(".csv"))))
        args.out.write_text(table(rows, len({r["dataset"] for r in rows}), setup))
        print(args.out.read_text())
        return
    candidates = [c.name for c in load_portfolio("candidates")]
    handpicked = [c.name for c in load_portfolio("handpicked")]
    names = candidates + handpicked
    global RESULTS, POOL, HAND, VIEWS, LEARNED
    LEARNED = [v for v in args.variants.split(",") if v]
    RESULTS = load_results(args.results, names)  # read once, before the workers fork
    VIEWS = [[view.normalized(args.normalization) for view in (r, *(r.cross_fitted() if args.oof_halves else []))]
             for r in RESULTS]
    HAND = list(range(len(candidates), len(names)))
    allowed = {name for group in args.pool.split(",") for name in {"candidates": candidates, "handpicked": handpicked}[group]}
    POOL = [j for j, name in enumerate(names) if name in allowed]
    groups = ([[i] for i in range(len(RESULTS))] if not args.folds else
              [list(g) for g in np.array_split(np.random.default_rng(0).permutation(len(RESULTS)), args.folds)])
    parts = args.out.parent / f"{args.out.stem}_parts"
    parts.mkdir(parents=True, exist_ok=True)
    files = [parts / (f"{RESULTS[group[0]].name}.csv" if not args.folds else f"group_{k}.csv")
             for k, group in enumerate(groups)]
    left = [(file, group) for file, group in zip(files, groups) if not file.exists()]
    print(f"{len(groups) - len(left)} of {len(groups)} held-out groups already done in {parts}", flush=True)
    with multiprocessing.get_context("fork").Pool(args.jobs) as workers:
        finished = workers.imap(held_out, [group for _, group in left])  # in order: each with its file
        for done, ((file, _), held_rows) in enumerate(zip(left, finished), 1):
            write_rows(file, held_rows)
            print(f"[{done}/{len(left)}] {file.stem}", flush=True)
    rows = [row for file in files for row in csv.DictReader(open(file))]
    write_rows(args.out.with_suffix(".csv"), rows)
    args.out.write_text(table(rows, len(RESULTS), setup))
    print(args.out.read_text())


def write_rows(path: Path, rows: list[dict]) -> None:
    """``rows`` as a CSV at ``path``, atomically (a stopped run leaves whole files only)."""
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def held_out(group: list[int]) -> list[dict]:
    """The rows of a group of held-out datasets: every system's error at each size and budget,
    its portfolios learned on the other datasets."""
    train = [view for i, views in enumerate(VIEWS) if i not in group for view in views]
    orders = {name: greedy_portfolio(train, max(SIZES), **VARIANTS[name], candidates=POOL) for name in LEARNED}
    orders["handpicked"] = HAND
    orders["single_best"] = greedy_portfolio(train, 1, "single", candidates=POOL)
    rows = []
    for held in group:
        dataset = RESULTS[held]
        about = {"dataset": dataset.name, "test_rows": len(dataset.y_test)}
        for system, order in orders.items():
            for size in SIZES:
                rows.append({**about, "system": system, "size": size, "budget": "",
                             "error": dataset.prefix_error(order[:size], "ensemble")})
            for budget in BUDGETS:
                rows.append({**about, "system": system, "size": "", "budget": budget,
                             "error": dataset.prefix_error(within(order, dataset.fit_seconds, budget), "ensemble")})
        rng = np.random.default_rng(held)  # by dataset: the same draws whichever worker runs it
        for size in SIZES:
            errors = [dataset.prefix_error(list(rng.choice(POOL, size, replace=False)), "ensemble") for _ in range(10)]
            rows.append({**about, "system": "random", "size": size, "budget": "", "error": float(np.mean(errors))})
    return rows


SYSTEMS = ("learned_ensemble", "learned_single", "learned_time", "learned_budgets", "handpicked", "single_best", "random")
# Test parts at least this large: where a dataset's normalized error is not mostly noise (a
# 0.005 ROC AUC difference on ~100 test rows moves it by ~0.25).
LARGE_TEST = 250


def paired(diff: np.ndarray, rng: np.random.Generator) -> tuple[str, str]:
    """Per-dataset differences (negative: the first system better) as "wins / ties / losses" and
    "mean [95% CI]" (a dataset bootstrap of the mean, 1,000 draws from ``rng``)."""
    boot = [rng.choice(diff, len(diff)).mean() for _ in range(1000)]
    wins, losses = int((diff < -1e-9).sum()), int((diff > 1e-9).sum())
    return (f"{wins} / {len(diff) - wins - losses} / {losses}",
            f"{diff.mean():+.4f} [{np.percentile(boot, 2.5):+.4f}, {np.percentile(boot, 97.5):+.4f}]")


def table(rows: list[dict], n_datasets: int, setup: str) -> str:
    """Mean normalized error per system and setting; then each learned variant against handpicked:
    wins / ties / losses and a dataset-bootstrap 95% interval of the mean difference, on every
    dataset and on those whose test part has at least LARGE_TEST rows."""
    settings = [("size", str(s)) for s in SIZES] + [("budget", str(b)) for b in BUDGETS]
    label = {("size", str(s)): f"{s} configs" for s in SIZES} | {("budget", str(b)): f"{b} s" for b in BUDGETS}
    errors = {(system, key, value): {r["dataset"]: float(r["error"]) for r in rows if r["system"] == system
                                     and str(r[key]) == value} for system in SYSTEMS for key, value in settings}
    settings = [st for st in settings if any(errors[(s, *st)] for s in SYSTEMS)]  # a CSV from before 600 s has none
    large = {r["dataset"] for r in rows if int(r["test_rows"]) >= LARGE_TEST}
    lines = [f"# Leave-one-dataset-out portfolio evaluation ({n_datasets} meta datasets)", "", setup, "",
             "Mean normalized test error of GES on the portfolio's configurations (0 = the best single "
             "configuration of the dataset, 1 = the worst; lower is better).", "",
             "| setting | " + " | ".join(SYSTEMS) + " |", "|---" * (len(SYSTEMS) + 1) + "|"]
    for setting in settings:
        means = [f"{np.mean(list(errors[(s, *setting)].values())):.4f}" if errors[(s, *setting)] else "-"
                 for s in SYSTEMS]
        lines.append(f"| {label[setting]} | " + " | ".join(means) + " |")
    learned = [s for s in SYSTEMS if s.startswith("learned") and any(errors[(s, *st)] for st in settings)]
    rng = np.random.default_rng(0)
    for subset, title in [(None, "every dataset"), (large, f"the {len(large)} datasets with at least {LARGE_TEST} "
                                                              "test rows")]:
        lines += ["", f"Against handpicked, on {title}: wins / ties / losses, mean difference [95% CI] "
                  "(negative: the learned portfolio is better).", "",
                  "| setting | " + " | ".join(learned) + " |", "|---" * (len(learned) + 1) + "|"]
        for setting in settings:
            hand, cells = errors[("handpicked", *setting)], []
            for system in learned:
                mine = errors[(system, *setting)]
                diff = np.array([mine[d] - hand[d] for d in sorted(set(mine) & set(hand))
                                 if subset is None or d in subset])
                record, interval = paired(diff, rng)
                cells.append(f"{record}, {interval}")
            lines.append(f"| {label[setting]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
