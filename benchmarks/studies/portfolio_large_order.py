"""An order for large tables, learned from large tables, held out on each of them (issue 27, part 3).

The shipped default was ordered by gain per second measured at <= 3,000 training rows, where TabM
costs 12-29 s and a boosting configuration 0.2-5 s; on 201_pol (11,250 training rows) the boosting
ones cost 3-17 s in one fit's log, and the order no longer says what pays. Here each dataset
evaluated at 15,000 training rows (``portfolios/evaluation_15k``: the meta suite's 4 largest tables
and the 5 of ``benchmarks/meta_large_suite.py``) is held out in turn: the default's configurations
are re-ordered by the greedy that ordered the default (time-aware, GES on the prefix,
median-normalized; ``reorder`` below), from the other large datasets' evidence, after
the first any-time configuration (which a fit trains first whatever the order). Both orders go
through the training loop's reordering (``strong_first``), are cut at simulated budgets on the held-out
dataset (``portfolio_loo.within``: the longest prefix whose measured seconds fit in what the
fit's schedule gives training of the budget, ``select.training_seconds``; 85% when it was run)
and scored as a fit uses them: GES on the prefix's OOF predictions, test loss normalized over the
configurations (worst at 1).

Measured (benchmarks/results/portfolio_large_order.md): the large-table order wins 5 / 1 / 3 at 30 s
and 5 / 2 / 2 at 120 s, but its mean is worse from 60 s on (restaurant_score: TabM 4th fails its 30 s
there, and what it was charged leaves less for the rest); on the dev suite's 6 tables of 6,700 rows
or more (the order wired into the default, commit cb84d78; benchmarks/results/dev_large_order.md) it
tied the learned order at 120 s (2 / 14 / 2) with a lower mean normalized score and lost at 30 s
(1 / 14 / 3), so it is not shipped.

    git show 7fd5a06:portfolios/default.json > /tmp/default_before.json   # the default it was run for
    python -m benchmarks.studies.portfolio_large_order --portfolio /tmp/default_before.json \
        --out benchmarks/results/portfolio_large_order.md
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from automl.models.base import ModelConfig
from automl.models.training import strong_first
from automl.portfolio import load_portfolio
from automl.portfolio.select import DatasetResults, greedy_portfolio, load_results
from benchmarks.protocol import REPO
from benchmarks.studies.portfolio_loo import BUDGETS, paired, within, write_rows


def reorder(results: list[DatasetResults], configs: list[ModelConfig]) -> list[int]:
    """Indices of ``configs`` (the candidates of ``results``, in that order) re-ordered by the
    time-aware ensemble greedy on ``results``, after the first any-time configuration, which a fit
    trains first whatever the order (``strong_first``)."""
    first = configs.index(strong_first(configs)[0])
    return greedy_portfolio(results, len(configs), "ensemble", time_aware=True, start=[first])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=REPO / "portfolios" / "evaluation_15k")
    ap.add_argument("--out", type=Path, required=True, help="markdown table; a CSV is written beside it")
    ap.add_argument("--portfolio", default="default", help="the portfolio re-ordered (a name or JSON path); the "
                    "committed results are for the default before 2026-12-06: `git show 7fd5a06:portfolios/default.json`")
    args = ap.parse_args()
    configs = load_portfolio(args.portfolio)
    names = [c.name for c in configs]
    results = load_results(args.results, names)
    if not results:
        raise SystemExit(f"error: no dataset of {args.results} has results for every configuration of "
                         f"{args.portfolio}; evaluate them at 15,000 rows first (benchmarks/README.md)")
    default = [names.index(c.name) for c in strong_first(configs)]
    rows = []
    for held, dataset in enumerate(results):
        train = [r.normalized("median") for i, r in enumerate(results) if i != held]
        orders = {"default_order": default, "large_order": reorder(train, configs)}
        for system, order in orders.items():
            for budget in BUDGETS:
                trained = within(order, dataset.fit_seconds, budget)
                rows.append({"dataset": dataset.name, "task": dataset.task, "system": system, "budget": budget,
                             "trained": len(trained), "tabm_position": order.index(names.index("tabm_000")) + 1,
                             "error": dataset.prefix_error(trained, "ensemble")})
        print(dataset.name, "large order:", [names[j] for j in orders["large_order"][:12]], flush=True)
    write_rows(args.out.with_suffix(".csv"), rows)
    args.out.write_text(table(rows, [r.name for r in results]))
    print(args.out.read_text())


def table(rows: list[dict], datasets: list[str]) -> str:
    lines = [f"# An order learned on large tables, held out on each ({len(datasets)} datasets at 15,000 training rows)",
             "", "Datasets: " + ", ".join(datasets) + ".", "",
             "Mean normalized test error of GES on what each order trains within the simulated budget "
             "(0 = the dataset's best configuration, 1 = its worst), and the large-table order against "
             "the default's: wins / ties / losses, mean difference [95% CI] (negative: the large-table "
             "order is better).", "",
             "| budget | default order | large-table order | wins / ties / losses | difference [95% CI] |",
             "|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    for budget in BUDGETS:
        errors = {s: {r["dataset"]: float(r["error"]) for r in rows if r["system"] == s and int(r["budget"]) == budget}
                  for s in ("default_order", "large_order")}
        diff = np.array([errors["large_order"][d] - errors["default_order"][d] for d in datasets])
        record, interval = paired(diff, rng)
        lines.append(f"| {budget} s | {np.mean(list(errors['default_order'].values())):.4f} | "
                     f"{np.mean(list(errors['large_order'].values())):.4f} | {record} | {interval} |")
    lines += ["", "| dataset | task | TabM's place (default / large-table order) | configurations trained at "
              "120 s (default / large) | error at 120 s (default / large) |", "|---|---|---|---|---|"]
    for d in datasets:
        at = {r["system"]: r for r in rows if r["dataset"] == d and int(r["budget"]) == 120}
        lines.append(f"| {d} | {at['default_order']['task']} | {at['default_order']['tabm_position']} / "
                     f"{at['large_order']['tabm_position']} | {at['default_order']['trained']} / "
                     f"{at['large_order']['trained']} | {float(at['default_order']['error']):.4f} / "
                     f"{float(at['large_order']['error']):.4f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
