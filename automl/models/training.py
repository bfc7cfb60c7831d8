"""Training a portfolio: every configuration bagged on the shared FoldPlan, in portfolio order
(once every family has been tried, ordered for the table: ``portfolio.order``), until the time
budget runs out. Failures are logged and skipped; the store stays valid throughout
(any-time), so a fit stopped by its limit still predicts with what finished.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path


from ..budget import TimeBudget
from ..calibration import calibrate_member
from ..context import FitContext
from ..data.training import TrainingData
from ..failures import raise_if_strict
from ..folds import FoldPlan
from ..metrics import Metric
from ..portfolio.order import families_last, left_out_families, reorder_point
from ..store import ModelRecord, PredictionStore
from .bagging import BaggedModel
from .base import ModelConfig, ModelTimeout
from .executor import LOCAL
from .registry import get_family

log = logging.getLogger("automl")

# Trained when nothing else finished: fast on any data, so a fit always yields a model.
FALLBACK = ModelConfig("linear_fallback", "linear", {})


def train_portfolio(configs: list[ModelConfig], data: TrainingData, plan: FoldPlan, context: FitContext,
                    budget: TimeBudget, store: PredictionStore, *, models_dir: Path | None = None,
                    done: dict[str, BaggedModel] | None = None) -> dict[str, BaggedModel]:
    """Fits each configuration in order, adds its OOF predictions to ``store``, returns the models.

    Once every family has had a configuration tried, the families an ensemble of the stored models
    leaves out train their remaining configurations last.

    Each finished model is written to ``models_dir/NAME`` before its line in the store's index, so
    a fit killed at any moment leaves every indexed model on disk. Configurations in ``done``
    (finished by an earlier run, already in the store) are not trained again. Every OOF score is
    weighted by the rows' ``sample_weight``.
    """
    metric, schedule = context.metric, context.schedule
    models: dict[str, BaggedModel] = dict(done or {})
    configs = [c for c in configs if c.name not in models]
    unweighted = sorted({c.family for c in configs if not get_family(c.family).uses_weights})
    if data.sample_weight is not None and unweighted:
        log.info("Sample weights: %s cannot train on them and train unweighted (their OOF scores are weighted).",
                 ", ".join(unweighted))
    family_seconds: dict[str, float] = {}  # what the last finished model of each family took
    configs = strong_first(configs)
    reorder_at = reorder_point(configs)
    for i in range(len(configs)):
        if i == reorder_at and len(store):
            configs[i:] = _ordered_for_table(configs[i:], store, context)
        config = configs[i]
        if budget.remaining() < schedule.min_seconds_to_start and models:
            log.info("Time budget used up: %d of %d configurations trained.", len(models), len(configs))
            break
        anytime = get_family(config.family).anytime
        model_budget = budget.fraction(schedule.model_share(i, len(configs) - i, anytime))
        expected = family_seconds.get(config.family, 0.0)
        if not anytime and schedule.hopeless(expected, model_budget.remaining()):  # any-time families adapt
            log.info("[%d/%d] %s skipped: its family took %.0fs, %.0fs available", i + 1, len(configs),
                     config.name, expected, model_budget.remaining(),
                     extra={"progress": _progress((i + 1, len(configs)), config, metric, store)})
            continue
        started = time.perf_counter()
        model = _fit_one(config, data, plan, context, model_budget, store, models_dir,
                         progress=f"[{i + 1}/{len(configs)}]", step=(i + 1, len(configs)), time_left=budget)
        if model is not None:
            models[config.name] = model
            family_seconds[config.family] = time.perf_counter() - started
    if not models:
        log.warning("No configuration finished in time; training the fast fallback model.")
        local = replace(context, resources=replace(context.resources, executor=LOCAL))
        model = _fit_one(FALLBACK, data, plan, local, TimeBudget(None), store, models_dir, progress="[fallback]",
                         step=(len(configs), len(configs)), time_left=budget)
        if model is None:
            raise RuntimeError("Every model failed to train, including the fallback; see the log above.")
        models[FALLBACK.name] = model
    return models


def _ordered_for_table(rest: list[ModelConfig], store: PredictionStore, context: FitContext) -> list[ModelConfig]:
    """``rest`` with the families this table's ensemble leaves out moved last (``portfolio.order``)."""
    left_out = left_out_families(store, context.metric, context.info.task, context.seed)
    moved = [c for c in rest if c.family in left_out]
    if moved:
        log.info("Ordered for this table: an ensemble of the %d models trained leaves out %s; their %d "
                 "configurations train last.", len(store), ", ".join(sorted(left_out)), len(moved))
    return families_last(rest, left_out)


def strong_first(configs: list[ModelConfig]) -> list[ModelConfig]:
    """``configs`` with its first any-time (boosting) configuration moved to the front."""
    first = next((c for c in configs if get_family(c.family).anytime), None)
    return configs if first is None else [first] + [c for c in configs if c is not first]


def _fit_one(config, data, plan, context, budget, store, models_dir, progress, step, time_left):
    start = time.perf_counter()
    metric, resources, device = context.metric, context.resources, context.resources.device
    model = BaggedModel(config, context.info, seed=context.seed, n_threads=resources.threads, device=device)
    # Families without a GPU mode run on the CPU whatever was asked; the log says which one ran.
    ran_on = device if get_family(config.family).supports_gpu else "cpu"
    try:
        oof = model.fit(data, plan, budget, context.schedule, resources.executor)
        model.calibration_, oof = calibrate_member(metric, data.y, oof, plan.fold_of, data.sample_weight, context.seed)
        if models_dir is not None:
            model.save(models_dir / config.name)
    except ModelTimeout as exc:
        log.info("%s %s skipped: %s", progress, config.name, exc,
                 extra={"progress": _progress(step, config, metric, store)})
        return None
    except Exception as exc:  # a failing model never kills the fit
        raise_if_strict(exc)
        log.warning("%s %s failed and was skipped: %s: %s", progress, config.name, type(exc).__name__, exc,
                    extra={"progress": _progress(step, config, metric, store)})
        return None
    score = metric.score(data.y, oof, data.sample_weight)
    store.add(ModelRecord(config.name, config.family, model.params_, model.fit_seconds_,
                          model.predict_seconds_per_1k_, score, model.adapted_), oof)
    left = f", {time_left.remaining():.0f}s left" if time_left.limited else ""
    notes = [model.adapted_] if model.adapted_ else []
    if model.calibration_.kind != "none":
        notes.append(model.calibration_.describe())
    name = f"{config.name} ({', '.join(notes)})" if notes else config.name
    log.info("%s %-22s OOF %s %.5f  (%.1fs on %s%s)", progress, name, metric.name, score,
             time.perf_counter() - start, ran_on, left, extra={"progress": _progress(step, config, metric, store)})
    return model


def _progress(step: tuple[int, int], config: ModelConfig, metric: Metric, store: PredictionStore) -> dict:
    """Where the fit stands after a configuration, as fields of its log record (``record.progress``),
    so a display (the CLI's progress bar) follows the fit without parsing messages."""
    scores = [r.oof_score for r in store.records]
    best = min(scores, key=metric.to_loss) if scores else None  # None before any model finished
    return {"done": step[0], "planned": step[1], "model": config.name, "metric": metric.name, "best_score": best}
