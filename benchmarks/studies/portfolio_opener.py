"""Which any-time configuration should open a fit, simulated on the meta evaluation (<= 3,000 rows).

The default's order with each candidate opener moved to the front; each order's longest prefix that
fits a simulated budget (``portfolio_loo.within``) scored by GES, mean normalized test error per
task (multiclass split at 10 classes). Measured against real fits in
benchmarks/results/dev_opener.md: the simulation favoured ``xgboost_002``, real fits did not.

    python -m benchmarks.studies.portfolio_opener
"""
from __future__ import annotations

import pandas as pd

from automl.models.training import strong_first
from automl.portfolio import load_portfolio
from automl.portfolio.select import load_results
from benchmarks.protocol import REPO
from benchmarks.studies.portfolio_loo import within

OPENERS = ("catboost_shallow", "lightgbm_007", "xgboost_002")
BUDGETS = (10, 20, 30, 60, 120)


def main() -> None:
    configs = load_portfolio("default")
    names = [c.name for c in configs]
    results = load_results(REPO / "portfolios" / "evaluation", names)
    default = [names.index(c.name) for c in strong_first(configs)]
    rows = []
    for dataset in results:
        group = dataset.task
        if group == "multiclass":
            n_classes = dataset.oof.shape[2]  # (configurations, rows, classes)
            group = "multiclass, 10+ classes" if n_classes >= 10 else "multiclass, < 10 classes"
        for opener in OPENERS:
            first = names.index(opener)
            order = [first] + [i for i in default if i != first]
            for budget in BUDGETS:
                rows.append({"tables": group, "budget": budget, "opener": opener,
                             "error": dataset.prefix_error(within(order, dataset.fit_seconds, budget), "ensemble")})
    print(pd.DataFrame(rows).groupby(["tables", "budget", "opener"]).error.mean().unstack().round(4).to_string())


if __name__ == "__main__":
    main()
