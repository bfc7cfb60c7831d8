"""Which student to distill into (``automl.distill.STUDENT_PARAMS``): per dev table (BENCHMARK.md split,
seed 0), one fit at --time-limit, then ``distill`` at --distill-limit with each student below; prints
the test metric, the student's honest OOF score, the seconds to predict the test part and its trees.

    python -m benchmarks.studies.student_variants --datasets churn,magic,segmentation

Results of 2026-12-05 (60 s fits, 60 s distillation, 2 cores) are in benchmarks/results/distill.md.
"""
from __future__ import annotations

import argparse
import time

from automl.models.base import ModelConfig

from ..protocol import DEV, load_dataset, read_manifest, score, sorted_classes, split

VARIANTS = {
    "lightgbm, the fit's best configuration": lambda best: best,
    "lightgbm, its best, 500 rounds, lr >= 0.1": lambda best: ModelConfig(best.name, "lightgbm", {
        **best.params, "max_rounds": 500, "learning_rate": max(best.params.get("learning_rate", 0.05), 0.1)}),
    "lightgbm defaults, 500 rounds, lr 0.1": lambda best: ModelConfig(best.name, "lightgbm",
                                                                       {"learning_rate": 0.1, "max_rounds": 500}),
    "catboost defaults": lambda best: ModelConfig("distilled_catboost", "catboost", {}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="churn,magic,segmentation")
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--distill-limit", type=float, default=60)
    args = ap.parse_args()
    import automl.estimator as estimator
    from automl import AutoMLClassifier, AutoMLRegressor

    for entry in read_manifest(DEV):
        if entry["name"] not in args.datasets.split(","):
            continue
        task = entry["task"]
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, task, seed=0)
        classes = None if task == "regression" else sorted_classes(y)
        model = (AutoMLRegressor if task == "regression" else AutoMLClassifier)(
            time_limit=args.time_limit, verbosity=0, random_state=0).fit(X_train, y_train)

        def test_score() -> float:
            if task == "regression":
                return score(task, y_test, None, pred=model.predict(X_test))["value"]
            return score(task, y_test, classes, proba=model.predict_proba(X_test),
                         proba_classes=list(model.classes_), pred=model.predict(X_test))["value"]

        print(entry["name"], "ensemble", round(test_score(), 5), model.ensemble_.describe(), flush=True)
        lightgbm = [r for r in model.records_ if r.family == "lightgbm"]
        best = model._bag(max(lightgbm, key=lambda r: -model.scorer_.to_loss(r.oof_score)).name).config
        best = ModelConfig("distilled_lightgbm", "lightgbm", best.params, best.options)
        for name, make in VARIANTS.items():
            config = make(best)
            estimator.STUDENT_PARAMS[config.family] = config.params  # what distill() builds its student from
            model.student_ = None  # forget the previous variant's student
            model.set_params(predictor="ensemble").distill(time_limit=args.distill_limit, student=config.family)
            if model.student_ is None:
                print(entry["name"], name, "failed", flush=True)
                continue
            model.set_params(predictor="distilled")
            start = time.perf_counter()
            value = test_score()
            seconds = time.perf_counter() - start
            full = model._bag(config.name).full_
            trees = full.booster_.num_trees() if full is not None and hasattr(full, "booster_") else "-"
            print(entry["name"], name, round(value, 5), "oof", round(model.student_["oof_score"], 5), "predict_s",
                  round(seconds, 4), "trees", trees, flush=True)


if __name__ == "__main__":
    main()
