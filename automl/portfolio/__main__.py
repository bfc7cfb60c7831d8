"""``python -m automl.portfolio candidates | evaluate | select``: the offline steps of portfolio learning.

    python -m automl.portfolio candidates                    # portfolios/candidates.json from spaces.json
    python -m automl.portfolio evaluate --out portfolio-eval # every candidate on ../shared/datasets/meta
    python -m benchmarks.studies.portfolio_loo --results portfolio-eval --folds 10 --pool candidates,handpicked \\
        --normalization median --out benchmarks/results/portfolio_loo_median.md    # held out, against handpicked
    python -m automl.portfolio select --results portfolio-eval --time-aware --out portfolios/default.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..models.base import ModelConfig
from . import candidates, distinct, load_portfolio
from .evaluate import MAX_TRAIN_ROWS, evaluate
from .select import NORMALIZATIONS, greedy_portfolio, load_results, with_cross_fitted

REPO = Path(__file__).resolve().parents[2]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m automl.portfolio", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("candidates", help="write portfolios/candidates.json from portfolios/spaces.json")
    run = sub.add_parser("evaluate", help="evaluate the candidates on a suite, resumably")
    run.add_argument("--suite", type=Path, default=REPO.parent / "shared" / "datasets" / "meta")
    run.add_argument("--out", type=Path, required=True, help="folder of predictions and results.csv")
    run.add_argument("--datasets", default="", help="comma-separated names (default: the whole suite)")
    run.add_argument("--portfolios", default="candidates,handpicked",
                     help="comma-separated portfolios whose configurations are evaluated (default: the candidate "
                          "pool and the hand-written portfolio it is compared with)")
    run.add_argument("--configs", default="", help="comma-separated configuration names (default: all)")
    run.add_argument("--threads", type=int, default=2)
    run.add_argument("--max-train-rows", type=int, default=MAX_TRAIN_ROWS,
                     help=f"training rows per dataset, subsampled above (default {MAX_TRAIN_ROWS})")
    choose = sub.add_parser("select", help="write an ordered portfolio learned from the evaluation")
    choose.add_argument("--results", type=Path, required=True, help="the folder evaluate wrote")
    choose.add_argument("--out", type=Path, required=True, help="portfolio JSON to write")
    choose.add_argument("--size", type=int, default=30)
    choose.add_argument("--scorer", choices=["ensemble", "single"], default="ensemble")
    choose.add_argument("--time-aware", action="store_true", help="value each addition per second of fit time")
    choose.add_argument("--budgets", default="",
                        help="comma-separated fit time limits in seconds (inf: none): each addition is valued by "
                             "the error it removes under these limits, where it fits after the configurations before "
                             "it at its measured seconds")
    choose.add_argument("--normalization", choices=NORMALIZATIONS, default="median",
                        help="how each dataset's test loss is scaled: median configuration at 1, clipped (TabRepo's), "
                             "or worst configuration at 1")
    choose.add_argument("--pool", default="candidates,handpicked",
                        help="comma-separated portfolios the selection chooses from (default: the candidate pool "
                             "and the hand-written configurations, all of which evaluate ran)")
    choose.add_argument("--oof-halves", action="store_true",
                        help="score each dataset on its OOF rows too (GES on one half, scored on the other): "
                             "3x the rows of the test part alone")
    args = ap.parse_args(argv)
    if args.command == "select":
        pool = portfolios(args.pool)
        results = [r.normalized(args.normalization) for r in load_results(args.results, [c.name for c in pool])]
        if not results:
            raise SystemExit(f"error: no dataset has results for every candidate in {args.results}; "
                             "run `python -m automl.portfolio evaluate` to the end first")
        target = with_cross_fitted(results) if args.oof_halves else results
        # a model the pool lists twice (a hand-written configuration among the candidates) is chosen once
        budgets = tuple(float(b) for b in args.budgets.split(",") if b)
        order = greedy_portfolio(target, args.size, args.scorer, args.time_aware, candidates=distinct(pool),
                                 budgets=budgets)
        args.out.write_text(json.dumps({
            "name": args.out.stem, "metric": ("mean normalized test error of GES on the prefix" if args.scorer ==
                                              "ensemble" else "mean normalized test error of the prefix's best OOF "
                                              "configuration") + (", per second of fit" if args.time_aware else "")
                      + (f", mean over fit limits {args.budgets} s" if budgets else ""),
            "built_from": f"{len(results)} datasets of {args.results}, greedy ({args.scorer}, {args.normalization}-"
                          f"normalized{', time-aware' if args.time_aware else ''}{', budget-aware' if budgets else ''}"
                          f"{', OOF halves' if args.oof_halves else ''})",
            "configs": [{"name": pool[j].name, "family": pool[j].family, "params": pool[j].params,
                         **({"options": pool[j].options} if pool[j].options else {})} for j in order]},
            indent=1))
        print(f"{len(order)} configurations written to {args.out}")
        return
    if args.command == "candidates":
        print(f"{len(candidates.write())} candidates written to portfolios/candidates.json")
        return
    pool = portfolios(args.portfolios)
    wanted = {c for c in args.configs.split(",") if c}
    pool = [c for c in pool if not wanted or c.name in wanted]
    evaluate(args.suite, args.out, pool, [d for d in args.datasets.split(",") if d] or None, args.threads,
             args.max_train_rows)


def portfolios(names: str) -> list[ModelConfig]:
    """The configurations of comma-separated portfolios, in order; a name shared between them is an error
    (results are stored by configuration name)."""
    pool = [c for name in names.split(",") if name for c in load_portfolio(name)]
    if len({c.name for c in pool}) != len(pool):
        raise SystemExit("error: the portfolios share configuration names")
    return pool


if __name__ == "__main__":
    main()
