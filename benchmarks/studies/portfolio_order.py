"""Ordering the shipped portfolio per table at fit time: measured, and not shipped.

The idea (issue 27, part 3): the learned portfolio was ordered by gain per second at <= 3,000 rows
over every task; a fit could instead order it for its own table, greedily, by the gain each
configuration adds on the meta datasets of the table's task (TabRepo's single-best scoring: a prefix
scores on a dataset what its member with the best OOF loss scores on test) per second predicted for
the table's shape by a per-family cost model (``table_cost.py``).

Measured (benchmarks/results/portfolio_order.md): held out on the meta suite it changes nothing
beyond noise, and on the dev suite at 30 s (the order wired into ``fit``, commit 4998c64) it lost
to the same portfolio in its learned order on 8 of 18 tables and won 3, the multiclass ones worst
(wine_quality_white log loss 0.838 against 0.754): on 6-26 classes it put a high-rate XGBoost
configuration first, priced too low by a cost model whose row slopes come from four easy tables
where early stopping ends fast. So the fit keeps the learned order.

This study: for each evaluated dataset, the per-table order is made from the evidence of the
*other* datasets and a cost model fitted without this dataset's timings (at either size); both
orders go through the training loop's one reordering (``strong_first``), are cut at simulated
budgets (the longest prefix whose measured fit seconds on the dataset fit in what the fit's
schedule gives training of the budget, ``select.training_seconds``: 85% when it was run, as
``portfolio_loo`` cuts them) and are scored as a fit uses them: GES on the prefix's OOF
predictions, test loss normalized over the portfolio's configurations (worst at 1). Datasets: the
meta suite as evaluated (<= 3,000 training rows) and its 4 largest tables at 15,000 rows
(``portfolios/evaluation_15k``: the default's configurations timed there; the three it lacks are
left out of both orders on those tables).

    python -m benchmarks.studies.portfolio_order --out benchmarks/results/portfolio_order.md
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from automl.models.base import ModelConfig
from automl.models.training import strong_first
from automl.portfolio import load_portfolio, same_model
from automl.portfolio.select import load_results
from benchmarks.protocol import REPO, SHARED
from benchmarks.studies.portfolio_loo import paired, within, write_rows
from benchmarks.studies.table_cost import CostModel, TableShape, n_outputs, read_timings

BUDGETS = (30, 120, 600)
EVALUATIONS = {"3k": REPO / "portfolios" / "evaluation", "15k": REPO / "portfolios" / "evaluation_15k"}


def order_for_table(test: np.ndarray, oof: np.ndarray, same_task: np.ndarray, seconds: np.ndarray) -> list[int]:
    """Indices of the configurations in the order that adds the most gain per predicted second.

    ``test`` / ``oof``: [configurations, datasets] normalized test errors and OOF losses of each
    configuration alone (nan where it failed); ``same_task``: the datasets to average over;
    ``seconds``: each configuration's predicted seconds on the table.
    """
    test = np.where(np.isnan(test), 1.0, test)[:, same_task]
    oof = np.where(np.isnan(oof), np.inf, oof)[:, same_task]
    alone = test.mean(axis=1)
    order: list[int] = []
    error = np.ones(test.shape[1])  # the empty portfolio: the median configuration's error everywhere
    best_oof = np.full(test.shape[1], np.inf)
    while len(order) < len(test):
        options = [j for j in range(len(test)) if j not in order]
        # a dataset's choice moves to option j where j's OOF loss beats the prefix's best
        errors = np.array([np.where(oof[j] < best_oof, test[j], error).mean() for j in options])
        values = (error.mean() - errors) / np.maximum(seconds[options], 1e-3)
        ties = np.flatnonzero(values >= values.max() - 1e-12)
        j = options[int(ties[np.argmin(alone[[options[t] for t in ties]])])]
        order.append(j)
        error = np.where(oof[j] < best_oof, test[j], error)
        best_oof = np.minimum(best_oof, oof[j])
    return order


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="markdown table; a CSV is written beside it")
    ap.add_argument("--suite", type=Path, default=SHARED / "datasets" / "meta")
    args = ap.parse_args()
    shipped = load_portfolio("default")
    pool = [c for name in ("candidates", "handpicked") for c in load_portfolio(name)]
    # the evidence, as the selection saw it: errors normalized over the whole pool (median at 1)
    evidence = [r.normalized("median") for r in load_results(EVALUATIONS["3k"], [c.name for c in pool])]
    rows_of = {c.name: j for j, c in enumerate(pool)}
    alone = [r.alone() for r in evidence]
    test = np.array([[a[0][rows_of[c.name]] for a in alone] for c in shipped])
    oof = np.array([[a[1][rows_of[c.name]] for a in alone] for c in shipped])
    tasks = np.array([r.task for r in evidence])
    names = [r.name for r in evidence]
    features = {e["name"]: e["features"] for e in json.loads((args.suite / "manifest.json").read_text())}
    timings = [t for folder in EVALUATIONS.values() for t in read_timings(folder, args.suite)]
    rows = []
    for size, folder in EVALUATIONS.items():
        evaluated = {r["config"] for r in csv.DictReader(open(folder / "results.csv"))}
        by_model = {same_model(c): c.name for c in pool if c.name in evaluated}
        alias = {c.name: c.name if c.name in evaluated else by_model.get(same_model(c)) for c in shipped}
        kept = [j for j, c in enumerate(shipped) if alias[c.name]]
        configs = [shipped[j] for j in kept]
        for dataset in load_results(folder, [alias[c.name] for c in configs]):
            others = np.array([n != dataset.name for n in names])
            cost = CostModel.fit([t for t in timings if t["dataset"] != dataset.name])
            table = TableShape(len(dataset.y), features[dataset.name], n_outputs(dataset.task, dataset.y))
            seconds = np.array([cost.seconds(c, table) for c in configs])
            tailored = order_for_table(test[kept], oof[kept], others & (tasks == dataset.task), seconds)
            orders = {"learned_order": strong_first(configs),
                      "per_table_order": strong_first([configs[j] for j in tailored])}
            rows += _scored(dataset, size, configs, orders)
            print(f"{size:>4} {dataset.name:<28} " + " ".join(
                f"{r['system'][:9]}@{r['budget']}={r['error']:.3f}" for r in rows[-2 * len(BUDGETS):]), flush=True)
    write_rows(args.out.with_suffix(".csv"), rows)
    args.out.write_text(summary(rows))
    print(args.out.read_text())


def _scored(dataset, size: str, configs: list[ModelConfig], orders: dict[str, list[ModelConfig]]) -> list[dict]:
    """Each order's GES error on ``dataset`` at each simulated budget."""
    index = {c.name: j for j, c in enumerate(configs)}
    rows = []
    for system, order in orders.items():
        positions = [index[c.name] for c in order]
        for budget in BUDGETS:
            members = within(positions, dataset.fit_seconds, budget)
            rows.append({"dataset": dataset.name, "size": size, "task": dataset.task, "rows": len(dataset.y),
                         "system": system, "budget": budget, "trained": len(members),
                         "train_seconds": round(float(dataset.fit_seconds[members].sum()), 2),
                         "error": dataset.prefix_error(members, "ensemble")})
    return rows


def summary(rows: list[dict]) -> str:
    lines = ["# The shipped portfolio ordered per table, held out (simulated budgets)", "",
             "Mean normalized test error of GES on what each order trains within the budget (0 = the best "
             "configuration of the dataset, 1 = the worst; lower is better); per-table against learned order: "
             "wins / ties / losses and a dataset-bootstrap 95% interval of the mean difference.", "",
             "| datasets | budget | learned order | per-table order | wins / ties / losses | difference [95% CI] |",
             "|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    groups = [("meta, <= 3,000 rows", lambda r: r["size"] == "3k"),
              ("meta, 4 largest at 15,000 rows", lambda r: r["size"] == "15k")]
    groups += [(f"meta, <= 3,000 rows, {task}", lambda r, t=task: r["size"] == "3k" and r["task"] == t)
               for task in ("binary", "multiclass", "regression")]
    for label, keep in groups:
        for budget in BUDGETS:
            pick = [r for r in rows if keep(r) and int(r["budget"]) == budget]
            fixed = {r["dataset"]: float(r["error"]) for r in pick if r["system"] == "learned_order"}
            tailored = {r["dataset"]: float(r["error"]) for r in pick if r["system"] == "per_table_order"}
            diff = np.array([tailored[d] - fixed[d] for d in sorted(fixed)])
            record, interval = paired(diff, rng)
            lines.append(f"| {label} ({len(diff)}) | {budget} s | {np.mean(list(fixed.values())):.4f} | "
                         f"{np.mean(list(tailored.values())):.4f} | {record} | {interval} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
