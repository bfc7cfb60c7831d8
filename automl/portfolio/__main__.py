"""``python -m automl.portfolio candidates | evaluate``: the offline steps of portfolio learning.

    python -m automl.portfolio candidates                    # portfolios/candidates.json from spaces.json
    python -m automl.portfolio evaluate --out portfolio-eval # every candidate on ../shared/datasets/meta
"""
from __future__ import annotations

import argparse
from pathlib import Path

from . import candidates
from .evaluate import evaluate

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
    run.add_argument("--configs", default="", help="comma-separated candidate names (default: all)")
    run.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.command == "candidates":
        print(f"{len(candidates.write())} candidates written to portfolios/candidates.json")
        return
    pool = candidates.load_candidates()
    wanted = {c for c in args.configs.split(",") if c}
    pool = [c for c in pool if not wanted or c.name in wanted]
    evaluate(args.suite, args.out, pool, [d for d in args.datasets.split(",") if d] or None, args.threads)


if __name__ == "__main__":
    main()
