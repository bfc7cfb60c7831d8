"""AutoMLClassifier and AutoMLRegressor.

fit: validate → encode → plan folds → train the portfolio (bagged, OOF into the store) →
ensemble on the stored predictions. predict: encode → run the ensemble's members → combine.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import weakref
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError

from .compat import is_scorer
from .context import FitContext, Resources
from .failures import raise_if_strict
from .ensemble.data import EnsembleData
from .budget import TimeBudget
from .data.encoder import TabularEncoder
from .data.frame import align_columns, as_frame
from .data.prepare import PreparedTable, prepare
from .data.target import LabelCodec
from .data.training import TrainingData
from .calibration import NONE as NO_CALIBRATION, Calibration, normalized, tune_calibration
from .cascade import Cascade, choose_cascade
from .distill import STUDENT_PARAMS, STUDENTS, distill as distill_student
from .conformal import ClassificationConformal, RegressionConformal, check_coverage
from .data.encoder import EncodedTable
from .data.frame import check_sample_weight
from .evaluation import evaluate_predictions
from .importance import permutation_importance
from .decision import ARGMAX, DecisionRule, labels_as_predictions, tune_decision
from .device import DEVICES, resolve_device
from .ensemble import STRATEGIES, get_strategy, strategy_from_state
from .metrics import SURROGATE, Metric, get_metric, is_metric_name, metric_names
from .models.bagging import BaggedModel
from .models.base import ModelConfig, TaskInfo
from .models.registry import FAMILIES, get_family
from .persistence import MANIFEST, ModelFolderError, read_manifest, read_state, write_manifest, write_state
from .portfolio import load_portfolio
from .run import ESTIMATOR, MODELS_DIR, SEARCH_TRACE, STORE_DIR, open_run, saved_fold_count
from .ensemble.search import search_ensemble
from .schedule import SCHEDULE, SEARCH_TRIALS
from .store import ModelRecord, PredictionStore
from .models.executor import EXECUTORS, LOCAL, LocalExecutor, RayExecutor, make_executor
from .models.training import train_portfolio
from .folds import FoldPlan

log = logging.getLogger("automl")

# What ``predict`` may run: the ensemble, the distilled student, the early-exit cascade.
PREDICTORS = ("ensemble", "distilled", "cascade")
# Rows of the training table the student's predict time is measured on.
TIMED_ROWS = 1000
# First models the cascade tries: the cheapest to predict of the members and the student.
CASCADE_STAGES = 4
# Coverage of the intervals and sets that ``evaluate`` reports.
EVALUATED_COVERAGE = 0.9
# Training rows (a seeded sample) a member's refit is checked on against its copies' OOF predictions:
# predicting them costs a fraction of the refit, and a refit that learned less misses by far.
REFIT_CHECK_ROWS = 2_000

PARAMETERS_DOC = """
    Parameters
    ----------
    time_limit : float or None, default=None
        Seconds for the whole fit (encoding, training, ensembling); None means no limit. The fit
        ends within about 5% (plus a few seconds) of it.
    models : list of str or None, default=None
        Model families to train: ``lightgbm``, ``xgboost``, ``catboost``, ``random_forest``,
        ``extra_trees``, ``linear``, ``knn``, ``tabm``. None trains the portfolio as it is.
    ensemble : str, default="auto"
        ``auto`` searches the strategies on the stored OOF predictions, then leaves out of the
        winner the members that cost prediction time for less than 0.1% of its OOF score; or one
        of ``best``, ``ges``, ``qo``, ``qdo``, ``cmaes``, ``stacking``, ``des``.
    n_folds : int or None, default=None
        Folds of the shared bagging plan (at least 2). None: 8, fewer for large tables or
        short budgets.
    metric : str, scorer or None, default=None
        What the fit optimizes (OOF scores, the leaderboard, the ensemble search): ``roc_auc``,
        ``log_loss``, ``accuracy``, ``balanced_accuracy``, ``qwk``, ``rmse``, ``mae``, ``r2``,
        ``rmsle``, ``pinball`` / ``pinball:Q``, any scikit-learn scorer name (``f1``,
        ``average_precision``, ``matthews_corrcoef``, ``neg_mean_absolute_percentage_error`` or
        the same without ``neg_``), or a scorer made with ``sklearn.metrics.make_scorer``. None:
        ROC AUC (binary), log loss (multiclass), RMSE. Boosting and TabM early-stop on log loss or
        squared error whatever the metric. When the metric scores labels (F1, accuracy, MCC,
        balanced accuracy, QWK...), ``predict`` applies a decision rule tuned on the ensemble's
        honest OOF probabilities, kept only when it wins there (``decision_rule_``): a threshold
        (binary), per-class weights or, for QWK, cut-points on the expected class (multiclass).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where the families that support a GPU (XGBoost, TabM) train; ``auto`` uses CUDA when
        torch sees a GPU.
    random_state : int, default=0
        Seed of the fold plan, every model and the ensemble search.
    verbosity : int, default=1
        0 is silent; 1 logs one line per model on stderr.
    output_dir : str, path or None, default=None
        The run folder (prediction store, search trace); None makes a temporary one.
    portfolio : str, path or None, default=None
        A portfolio shipped in ``portfolios/`` (by name) or a JSON file; None is ``default``.
    n_jobs : int or None, default=None
        Threads for the whole fit; None uses every core.
    executor : {"local", "ray"}, default="local"
        Where the fold copies of each configuration train: threads of this process, or Ray
        tasks (``pip install 'automl[ray]'``) on the cluster at ``ray_address``. The data goes
        to the cluster once per fit; results and time limit are the same as local.
    ray_address : str or None, default=None
        The Ray cluster (``host:port`` or ``ray://host:port``); None: ``RAY_ADDRESS``, else a
        local Ray started on demand.
    refit : {"auto", True, False}, default="auto"
        After the ensemble is chosen, train each member once on all rows (boosting and TabM for
        the rounds / epochs their fold copies early-stopped at, scaled by the rows), so that
        predicting runs one model per member instead of one per fold. With a time limit, 10% of
        it is kept for this. ``auto`` refits when the members' measured cost fits in the time
        left, else keeps the fold copies and says so (kNN members always keep theirs: one kNN
        on all rows predicts less smoothly than the mean of its copies); ``True`` refits each
        member in the time left; ``False`` keeps the fold copies. On the dev suite at 120 s: predictions 2.5x faster
        at the median, the test metric unchanged at the median (benchmarks/results/refit_after.md).
    predictor : {"ensemble", "distilled", "cascade"}, default="ensemble"
        What ``predict`` and ``predict_proba`` run (settable after fit with ``set_params``): the
        ensemble; the student ``distill()`` trained to imitate it (one model); or (classification)
        the early-exit cascade ``cascade_``, whose first model answers the rows it is sure of and
        the ensemble the rest. Intervals, sets and importance always describe the ensemble.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns (classifier only).
    feature_names_in_, n_features_in_
        The columns seen at fit.
    fit_seconds_ : float
        Wall seconds the fit took.
    ensemble_score_ : float
        The chosen ensemble's score on the OOF predictions.
    refitted_ : list of str
        The members refitted on all rows (``refit``); the others predict with their fold copies.
    decision_rule_ : automl.decision.DecisionRule
        How ``predict`` turns probabilities into labels (``describe()`` says it in words).
    decision_threshold_ : float or None
        The positive-class probability from which ``predict`` says the positive class, when the
        rule is a threshold (binary tasks whose metric scores labels); else None.
    decision_report_ : dict
        How the rule was chosen: cross-fitted OOF scores of argmax and of the tuned rule, and the
        share of bootstrap resamples the tuned one won (empty when the metric reads probabilities).
    calibration_ : automl.calibration.Calibration
        The map ``predict_proba`` applies to the ensemble's probabilities when the metric scores
        calibration (log loss, Brier): a temperature (multiclass) or Platt scaling (binary), fitted
        on honest OOF probabilities and kept only when it wins there; else none.
    calibration_report_ : dict
        Cross-fitted OOF metric and expected calibration error before and after, and the evidence.
    refit_seconds_ : float
        Wall seconds the refit took (0 when there was none).
    student_ : dict or None
        The distilled student (``distill``): its name, family, honest OOF score, fit and predict
        seconds; None before ``distill``.
    cascade_ : automl.cascade.Cascade or None
        The early-exit cascade (classification): its first model, threshold, the share of OOF rows
        that exit early, OOF losses; None when no first model saves time within 0.1% of the
        ensemble's OOF loss (``predictor="cascade"`` then predicts with the ensemble).
    run_dir_ : Path
        The run folder.

    Examples
    --------
    >>> from automl import AutoMLClassifier, load
    >>> model = AutoMLClassifier(time_limit=120).fit(train, "label")   # or fit(X, y)
    >>> model.leaderboard()                    # every configuration: OOF score, times, weight
    >>> model.ensemble_report()                # the strategies the search tried, and why one won
    >>> model.predict_proba(test)
    >>> model.save("my-model"); load("my-model").predict(test)
"""


class _AutoMLBase(BaseEstimator):
    _regression = False  # whether the target is a number (else class labels)

    def __init__(self, time_limit: float | None = None, models: list[str] | None = None, ensemble: str = "auto",
                 n_folds: int | None = None, metric: str | None = None, device: str = "auto",
                 random_state: int = 0, verbosity: int = 1, output_dir: str | None = None,
                 portfolio: str | None = None, n_jobs: int | None = None, refit: bool | str = "auto",
                 executor: str = "local", ray_address: str | None = None, predictor: str = "ensemble"):
        self.time_limit = time_limit
        self.models = models
        self.ensemble = ensemble
        self.n_folds = n_folds
        self.metric = metric
        self.device = device
        self.random_state = random_state
        self.verbosity = verbosity
        self.output_dir = output_dir
        self.portfolio = portfolio
        self.n_jobs = n_jobs
        self.refit = refit
        self.executor = executor
        self.ray_address = ray_address
        self.predictor = predictor

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, sample_weight=None, groups=None, resume: bool = False):
        """Trains the portfolio within ``time_limit`` seconds and ensembles it. ``y`` may name a column of X.

        ``sample_weight`` (one non-negative number per row) weighs every training loss, OOF score
        and ensemble choice; ``groups`` (one id per row: a patient, a customer) keeps each group's
        rows on one side of every split the fit makes, so OOF scores are those of unseen groups.
        Either may name a column of X, which is then not a feature.

        ``resume=True`` continues the run in ``output_dir`` (a fit that was killed, or one to extend
        with more time): models that finished there with the same configuration on the same data
        are kept, the rest are trained; data (weights and groups included) that differ are refused.
        """
        if resume and self.output_dir is None:
            raise ValueError("resume=True needs output_dir: the run folder to continue.")
        self._check_params()
        budget = TimeBudget(self.time_limit)
        with _logging(self.verbosity):
            prepared = prepare(X, y, regression=self._regression, sample_weight=sample_weight, groups=groups)
            self._set_inputs(prepared)
            self.student_ = None  # until distill()
            self.device_ = resolve_device(self.device)
            context = self._context(make_executor(self.executor, self.ray_address))
            plan = self._fold_plan(prepared, context, resume)
            configs = load_portfolio(self.portfolio, self.models)
            self._train(prepared, plan, configs, context, budget, resume)
            seconds, n_trials = context.schedule.search_seconds(self.time_limit, budget.remaining(),
                                                                self.training_left_, self._refit_reserve(context))
            log.info("Ensembling %d models (%s) with %s.", len(self.store_), self.ensemble,
                     f"{seconds:.0f}s" if budget.limited else "no time limit")
            trials = self._fit_ensemble(self.ensemble, context, budget.sub(seconds), n_trials)
            honest = self._fit_on_honest_predictions(context, budget)
            self._refit_members(prepared.data, context, budget)
            self._fit_cascade(honest)
            self._finish(budget, trials, configs, context)
        return self

    # ------------------------------------------------------------------ the phases of fit
    def _set_inputs(self, prepared: PreparedTable) -> None:
        """What the user's table says: task, metric, columns, classes, encoder."""
        self.task_, self.encoder_ = prepared.task, prepared.encoder
        self.scorer_ = get_metric(self.metric, prepared.task)
        self.metric_ = self.scorer_.name
        if prepared.task == "regression":
            _check_target_for_metric(self.scorer_, prepared.data.y)
        else:
            self.label_codec_, self.classes_ = prepared.codec, prepared.codec.classes_
        self.feature_names_in_ = np.array(prepared.feature_names, dtype=object)
        self.n_features_in_ = len(prepared.feature_names)
        self.n_rows_ = len(prepared.data)

    def _context(self, executor: LocalExecutor | RayExecutor = LOCAL) -> FitContext:
        """What every phase of a fit (or of ``fit_ensemble``) is given: the task, the metric, the
        resources, the schedule and the seed."""
        n_classes = 0 if self.task_ == "regression" else len(self.classes_)
        return FitContext(TaskInfo(self.task_, n_classes), self.scorer_,
                          Resources(self._n_threads(), getattr(self, "device_", "cpu"), executor),
                          SCHEDULE, self.random_state)

    def _fold_plan(self, prepared: PreparedTable, context: FitContext, resume: bool) -> FoldPlan:
        """The shared folds; a resumed run keeps its fold count, whatever the new limit would choose."""
        data = prepared.data
        n_folds = self.n_folds or (resume and saved_fold_count(Path(self.output_dir))) or \
            context.schedule.n_folds(len(data), data.X.n_features, self.time_limit, prepared.n_classes)
        plan = FoldPlan.make(data.y, n_folds, prepared.task, seed=self.random_state, groups=data.groups)
        if plan.n_folds < n_folds and data.groups is not None:
            log.info("%d groups: %d folds instead of %d, each holding out whole groups.",
                     len(np.unique(data.groups)), plan.n_folds, n_folds)
        return plan

    def _train(self, prepared: PreparedTable, plan: FoldPlan, configs: list, context: FitContext,
               budget: TimeBudget, resume: bool) -> None:
        """Trains the portfolio into the run folder (each model written as it finishes: a killed
        fit loses nothing); sets ``models_``, ``store_``, ``records_`` and ``training_left_``."""
        self.run_dir_ = Path(self.output_dir) if self.output_dir else _temporary_run(self)
        self.store_, done = open_run(self.run_dir_, prepared.data, plan, prepared.task, self.metric_, configs, resume)
        log.info("Fitting %s on %d rows x %d features, %d folds, %d configurations, metric %s%s, device %s.",
                 prepared.task, len(prepared.data), prepared.data.X.n_features, plan.n_folds, len(configs),
                 self.metric_, _surrogate_note(self.scorer_, prepared.task), self.device_)
        train_budget = budget.leaving(context.schedule.training_reserve(self.time_limit, self.ensemble == "auto",
                                                                        self.refit is not False))
        self.models_ = train_portfolio(configs, prepared.data, plan, context, train_budget, self.store_,
                                       models_dir=self.run_dir_ / MODELS_DIR, done=done)
        self.records_ = list(self.store_.records)
        self.training_left_ = train_budget.remaining() if budget.limited else 0.0

    def _finish(self, budget: TimeBudget, trials: int, configs: list, context: FitContext) -> None:
        """Saves a named run folder as a model folder, and says how the time was used."""
        self.fit_seconds_ = budget.elapsed()
        if self.output_dir is not None:  # the run folder becomes a model folder, with its run
            self.save(self.run_dir_, include_run=True)
        log.info("Done in %.1fs: %s ensemble of %d models, OOF %s %.5f.", self.fit_seconds_, self.ensemble,
                 len(self.ensemble_.used_models), self.metric_, self.ensemble_score_)
        if budget.limited and budget.remaining() > context.schedule.training_reserve(self.time_limit, False, False):
            search = f"the ensemble search ran {trials} trials" if self.ensemble == "auto" \
                else f"the {self.ensemble} ensemble needed no more time"
            refit = "" if self.refit is False or self.refitted_ else ", and the refit did not fit in what was left"
            log.info("Returned %.0fs before the time limit: %d of %d configurations were trained, %s%s.",
                     budget.remaining(), len(self.models_), len(configs), search, refit)

    def _refit_reserve(self, context: FitContext) -> float:
        """What refitting the best models would cost (the ensemble is not chosen yet): the search
        leaves it (up to the schedule's refit share of the limit)."""
        if self.refit is False or self.time_limit is None:
            return 0.0
        best = sorted(self.records_, key=lambda r: self.scorer_.to_loss(r.oof_score))
        best = best[:context.schedule.refit_reserve_models]
        return sum(self._bag(r.name).refit_cost(self.n_rows_) for r in best)

    def _refit_members(self, data: TrainingData, context: FitContext, budget: TimeBudget) -> None:
        """Refits members of the chosen ensemble on all rows (``BaggedModel.refit``) when ``refit``
        asks for it: all of them (``True``), or (``"auto"``) those whose measured cost fits in the
        time left, the most prediction time saved per refit second first; cheap ones run first."""
        self.refitted_: list[str] = []
        self.refit_seconds_ = 0.0
        if self.refit is False:
            return
        start = time.perf_counter()
        members = [r for r in (self.records_[j] for j in self.ensemble_.used_models)
                   if self.refit is True or get_family(r.family).refits_alike]
        cost = {r.name: self._bag(r.name).refit_cost(len(data)) for r in members}
        names, skipped = context.schedule.refit_order(cost, {r.name: r.predict_seconds_per_1k for r in members},
                                              budget.remaining() if self.refit == "auto" else None)
        if skipped:
            log.info("Refit skipped for %d of %d members (%s: ~%.0fs, %.0fs left); their fold copies predict.",
                     len(skipped), len(members), ", ".join(skipped), sum(cost[n] for n in skipped),
                     budget.remaining())
        for i, name in enumerate(names):
            share = budget.leaving(context.schedule.save_seconds).share(len(names) - i)
            bag = self._bag(name)
            try:
                bag.refit(data, share)
                self._check_refit(name, data, context)
                bag.save(self.run_dir_ / MODELS_DIR / name)
                self.refitted_.append(name)
            except Exception as exc:  # a member that cannot be refitted predicts with its fold copies
                raise_if_strict(exc)
                bag.discard_refit()
                log.info("Refit of %s skipped: %s: %s", name, type(exc).__name__, exc)
        self.refit_seconds_ = time.perf_counter() - start
        log.info("Refitted %d of %d members on all rows in %.1fs (%.0fs estimated).", len(self.refitted_), len(members),
                 self.refit_seconds_, sum(cost[name] for name in names))

    def _check_refit(self, name: str, data: TrainingData, context: FitContext) -> None:
        """Raises when member ``name``'s refit scores worse on rows it was trained on than its fold
        copies did on the same rows out of fold: it learned less than they did, and its copies
        predict instead. (LightGBM at a learning rate raised to 0.27 for a 30 s fit diverged on
        letter's 15,000 rows, test log loss 13, where its copies on 6,750 rows had OOF log loss 0.28.)"""
        j = next(j for j, record in enumerate(self.records_) if record.name == name)
        rows = np.sort(np.random.default_rng(context.seed).permutation(len(data))[:REFIT_CHECK_ROWS])
        weight = None if data.sample_weight is None else data.sample_weight[rows]
        refit = context.metric.loss(data.y[rows], self._bag(name).predict(data.X.take(rows)), weight)
        copies = context.metric.loss(data.y[rows], self.store_.oof[j][rows], weight)
        if refit > copies:
            raise ValueError(f"on {len(rows)} of the rows it was trained on it scores {context.metric.name} "
                             f"{abs(refit):.5g}, worse than its fold copies' {abs(copies):.5g} out of fold")

    def fit_ensemble(self, ensemble: str = "auto", time_limit: float | None = SCHEDULE.unlimited_search_seconds):
        """Re-runs only the ensemble step on the stored OOF predictions; returns self.

        ``time_limit`` caps this step alone (None: no cap), whatever the fit's own limit was.
        """
        self._check_fitted()
        _check_ensemble_name(ensemble)
        if getattr(self, "store_", None) is None:
            raise ValueError("fit_ensemble needs the run (every model's stored OOF predictions), and this model was "
                             "saved without it; save(path, include_run=True), or `automl fit` without --no-run, "
                             "keeps it.")
        budget = TimeBudget(time_limit)  # a step of its own, after the fit
        context = self._context()
        self._fit_ensemble(ensemble, context, budget)
        self._fit_cascade(self._fit_on_honest_predictions(context, budget))
        return self

    def distill(self, time_limit: float | None = None, student: str = "catboost", augment: bool = False):
        """Trains one ``student`` model (a family: ``catboost``, ``lightgbm``, ``xgboost``,
        ``tabm``) to imitate the ensemble, within ``time_limit`` seconds; returns self.

        The student learns the ensemble's predictions of the training rows (soft targets:
        probabilities or values), bagged on the fit's folds with each copy taught by the members'
        copies that never saw its fold, so that its own OOF score is honest, then is refitted on
        every row; ``augment`` adds as many synthetic rows (columns resampled from other rows)
        labelled by the ensemble (``automl.distill``). Its
        configuration is its family's defaults, boosting capped for fast predictions
        (``automl.distill.STUDENT_PARAMS``: CatBoost was the most accurate and fastest).
        ``set_params(predictor="distilled")`` then predicts with it; the leaderboard shows it
        beside the ensemble. A student that fails or runs out of time is logged, and the
        estimator keeps predicting as before. Needs the run (the stored OOF predictions).
        """
        self._check_fitted()
        if student not in STUDENTS:
            raise ValueError(f"student must be one of {list(STUDENTS)}; got {student!r}.")
        if getattr(self, "store_", None) is None:
            raise ValueError("distill needs the run (the ensemble's stored OOF predictions and the training rows); "
                             "this model was saved without it: save(path, include_run=True) keeps it.")
        budget, context, store = TimeBudget(time_limit), self._context(), self.store_
        config = ModelConfig(f"distilled_{student}", student, STUDENT_PARAMS[student])
        data = TrainingData(store.features, store.y, store.sample_weight, store.groups)
        with _logging(self.verbosity):
            try:
                trained = distill_student(config, context, data, store.plan, self._combine, augment, budget)
            except Exception as exc:  # the estimator keeps predicting with what it had
                raise_if_strict(exc)
                log.warning("Distillation into %s failed (%s: %s); predicting as before.", config.name,
                            type(exc).__name__, exc)
                return self
            trained.bag.save(self.run_dir_ / MODELS_DIR / config.name)
            self.models_[config.name], self.student_oof_ = trained.bag, trained.oof
            self.student_ = {
                "name": config.name, "family": student, "augmented_rows": trained.augmented_rows,
                "oof_score": self.scorer_.score(store.y, self._scored(trained.oof), store.sample_weight),
                "fit_seconds": budget.elapsed(), "refit": trained.bag.full_ is not None,
                "predict_seconds_per_1k": _predict_seconds_per_1k(trained.bag, store.features, self._n_threads())}
            log.info("Distilled into %s in %.1fs: OOF %s %.5f (ensemble %.5f), %.3f s per 1,000 rows.", config.name,
                     budget.elapsed(), self.metric_, self.student_["oof_score"], self.ensemble_score_,
                     self.student_["predict_seconds_per_1k"])
            self._fit_cascade(self.ensemble_.predict_oof(store.oof, store.features))
        if (self.run_dir_ / MANIFEST).exists():  # the run folder is a model folder: it now has a student
            self.save(self.run_dir_, include_run=True)
        return self

    def _predict_seconds(self, record: ModelRecord) -> float:
        """A member's seconds per 1,000 rows as it predicts now: its fold copies' measured time, over
        their count when it was refitted (one model predicts)."""
        copies = len(self._bag(record.name).models_) if record.name in self.refitted_ else 1
        return record.predict_seconds_per_1k / copies

    def _fit_cascade(self, honest: np.ndarray) -> None:
        """The early-exit cascade (``automl.cascade``) on the ensemble's ``honest`` OOF predictions,
        its first model the cheapest of the members and the student that keeps the OOF loss."""
        self.cascade_ = None
        if self.task_ == "regression":
            return
        store = self.store_
        members = [self.records_[j] for j in self.ensemble_.used_models]
        ensemble_seconds = sum(self._predict_seconds(r) for r in members)
        # first models predict with their fold copies (``_cascade_raw``): the copies' measured time
        stages = {self.records_[j].name: (store.oof[j], self.records_[j].predict_seconds_per_1k)
                  for j in self.ensemble_.used_models}
        if self.student_ is not None:
            stages[self.student_["name"]] = (self.student_oof_, self._bag(self.student_["name"]).predict_seconds_per_1k_)
        cheapest = dict(sorted(stages.items(), key=lambda item: item[1][1])[:CASCADE_STAGES])

        def loss_of(raw: np.ndarray, rows: np.ndarray) -> float:
            weight = None if store.sample_weight is None else store.sample_weight[rows]
            return self.scorer_.loss(store.y[rows], self._scored(raw), weight)

        halves = [np.flatnonzero(store.fold_of % 2 == part) for part in (0, 1)]  # whole folds: whole groups
        self.cascade_ = choose_cascade(loss_of, honest, ensemble_seconds, cheapest, halves)
        if self.cascade_ is not None:
            log.info("Cascade: %s answers %.0f%% of OOF rows alone (top probability >= %.3f), OOF %s %.5f against "
                     "the ensemble's %.5f.", self.cascade_.first, 100 * self.cascade_.exit_share,
                     self.cascade_.threshold, self.metric_, self.scorer_.to_score(self.cascade_.oof_loss),
                     self.ensemble_score_)

    def _check_params(self) -> None:
        """Every constructor parameter checked before any work, each error naming the parameter."""
        def fail(name: str, allowed: str) -> None:
            raise ValueError(f"{name} must be {allowed}; got {getattr(self, name)!r}.")

        def number(value) -> bool:
            return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)

        def integer(value) -> bool:
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

        if self.time_limit is not None and not (number(self.time_limit) and 0 < self.time_limit < np.inf):
            fail("time_limit", "a positive number of seconds, or None for no limit")
        if self.models is not None and (isinstance(self.models, str) or not list(self.models)
                                        or set(self.models) - set(FAMILIES)):
            fail("models", f"None or a non-empty list of model families from {sorted(FAMILIES)}")
        if self.ensemble != "auto" and self.ensemble not in STRATEGIES:
            fail("ensemble", f"'auto' or one of {sorted(STRATEGIES)}")
        if self.n_folds is not None and not (integer(self.n_folds) and self.n_folds >= 2):
            fail("n_folds", "an integer of at least 2, or None to choose from the data")
        if self.metric is not None and not (is_metric_name(self.metric) or is_scorer(self.metric)):
            fail("metric", f"None, a scikit-learn scorer (make_scorer), 'pinball:Q' or one of {metric_names()}")
        if self.device not in DEVICES:
            fail("device", f"one of {list(DEVICES)}")
        if not integer(self.random_state):
            fail("random_state", "an integer")
        if not integer(self.verbosity) or self.verbosity < 0:
            fail("verbosity", "0 (silent) or a positive integer")
        if self.n_jobs is not None and not (integer(self.n_jobs) and self.n_jobs >= 1):
            fail("n_jobs", "a positive integer, or None for every core")
        if not (self.refit is True or self.refit is False or self.refit == "auto"):
            fail("refit", "'auto', True or False")
        if self.executor not in EXECUTORS:
            fail("executor", f"one of {list(EXECUTORS)}")
        if self.ray_address is not None and not isinstance(self.ray_address, str):
            fail("ray_address", "an address such as 'head-node:6379', or None")
        if self.predictor not in PREDICTORS:
            fail("predictor", f"one of {list(PREDICTORS)}")
        for name in ("output_dir", "portfolio"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), (str, os.PathLike)):
                fail(name, "a path, or None")

    def _n_threads(self) -> int:
        return self.n_jobs or os.cpu_count() or 1

    def _fit_ensemble(self, name: str, context: FitContext, budget: TimeBudget, n_trials: int = SEARCH_TRIALS) -> int:
        """Fits strategy ``name`` (or runs the ``auto`` search of ``n_trials``) within ``budget`` on
        the store; returns the number of trials run (1 for a named strategy)."""
        metric, store = self.scorer_, self.store_
        data = EnsembleData.from_store(store)
        if name == "auto":
            result = search_ensemble(data, context, budget, n_trials)
            self.ensemble_, self.ensemble_report_ = result.strategy, result.report
            result.save_trace(self.run_dir_ / SEARCH_TRACE)
        else:
            strategy = get_strategy(name)(metric, self.task_, seed=context.seed, n_threads=context.resources.threads)
            self.ensemble_ = strategy.fit(data, budget)
            self.ensemble_report_ = pd.DataFrame([{"strategy": name, "chosen": True, "reason": "requested"}])
        self.ensemble_name_ = name
        return len(result.trace) if name == "auto" else 1

    def _fit_on_honest_predictions(self, context: FitContext, budget: TimeBudget) -> np.ndarray:
        """What the chosen ensemble's honest OOF predictions decide: its score, the decision rule
        and calibration (classification), the conformal scores of intervals and sets. Returns them."""
        metric, store = self.scorer_, self.store_
        honest = self.ensemble_.predict_oof(store.oof, store.features)
        self.ensemble_score_ = metric.score(store.y, honest, store.sample_weight)
        self.decision_rule_, self.decision_report_ = ARGMAX, {}
        self.calibration_, self.calibration_report_ = NO_CALIBRATION, {}
        if self.task_ != "regression":
            rows = {"sample_weight": store.sample_weight, "groups": store.groups, "seed": context.seed}
            self.decision_rule_, self.decision_report_ = tune_decision(metric, store.y, honest, **rows)
            self.calibration_, self.calibration_report_ = tune_calibration(metric, store.y, honest, **rows)
        if self.calibration_report_:
            report = self.calibration_report_
            log.info("Calibration: %s (cross-fitted OOF %s %.5f -> %.5f, ECE %.4f -> %.4f; it won on %.0f%% of "
                     "resamples).", self.calibration_.describe(), metric.name, report["raw_score"],
                     report["calibrated_score"], report["raw_ece"], report["calibrated_ece"],
                     100 * report["win_probability"])
        if self.decision_report_:
            report = self.decision_report_
            log.info("Decision: %s (cross-fitted OOF %s %.5f tuned, %.5f with argmax; the tuned rule won on "
                     "%.0f%% of resamples).", self.decision_rule_.describe(), metric.name, report["tuned_score"],
                     report["argmax_score"], 100 * report["win_probability"])
        self._fit_conformal(honest, context, budget)
        return honest

    @property
    def decision_threshold_(self) -> float | None:
        rule = self.decision_rule_
        return rule.values[0] if rule.kind == "threshold" else None

    def set_decision_threshold(self, threshold: float | None):
        """Sets the positive-class probability from which ``predict`` says the positive class
        (binary tasks); None: the most probable class. Returns self."""
        self._check_fitted()
        if self.task_ != "binary":
            raise ValueError(f"set_decision_threshold applies to binary tasks; this one is {self.task_}.")
        if threshold is not None and not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
            raise ValueError(f"threshold must be a probability in [0, 1], or None; got {threshold!r}.")
        self.decision_rule_ = ARGMAX if threshold is None else DecisionRule("threshold", (float(threshold),))
        return self

    def ensemble_report(self) -> pd.DataFrame:
        """The ensemble strategies tried: cross-fitted and guard scores, predict cost, which won and why.

        With ``ensemble="auto"`` one row per strategy the search tried (its best trial); with a
        named strategy, that strategy alone. The full search trace is in the run folder
        (``ensemble_search.json``).
        """
        self._check_fitted()
        report = self.ensemble_report_.copy()
        report["final"] = report["chosen"].map({True: self.ensemble_.describe(), False: ""})
        return report

    # ------------------------------------------------------------- predict
    def _predict_raw(self, X) -> np.ndarray:
        return self._raw(self._encode(X))

    def _raw(self, features: EncodedTable) -> np.ndarray:
        """The raw output of what ``predictor`` names for encoded rows."""
        predictor = self.predictor
        if predictor not in PREDICTORS:
            raise ValueError(f"predictor must be one of {list(PREDICTORS)}; got {predictor!r}.")
        if predictor == "distilled":
            if self.student_ is None:
                raise ValueError("predictor='distilled' needs a student: call distill() first (or `automl distill`).")
            return self._bag(self.student_["name"]).predict(features, self._n_threads())
        if predictor == "cascade":
            if self.task_ == "regression":
                raise ValueError("predictor='cascade' needs class probabilities to tell when its first model is "
                                 "sure; for regression use predictor='distilled'.")
            if self.cascade_ is not None:
                return self._cascade_raw(features)
        return self._combine(features)

    def _cascade_raw(self, features: EncodedTable) -> np.ndarray:
        """The cascade's first model on every row; the ensemble on the rows it is not sure of. The
        first model predicts with its fold copies, whose OOF predictions chose the threshold: a
        refitted model is more confident (on segmentation 97% of test rows exited where 95% of OOF
        rows had, and the cascade lost 9.5% of log loss on test)."""
        raw = self._bag(self.cascade_.first).predict(features, self._n_threads(), fold_copies=True)
        unsure = np.flatnonzero(~self.cascade_.exits(raw))
        if len(unsure):
            raw[unsure] = self._combine(features.take(unsure))
        return raw

    def _encode(self, X) -> EncodedTable:
        """New rows, checked against the fit's columns and encoded as the training rows were."""
        self._check_fitted()
        frame = align_columns(as_frame(X), self.feature_names_in_.tolist(),
                              array_input=not isinstance(X, pd.DataFrame), owner=type(self).__name__)
        if len(frame) == 0:
            raise ValueError("X has no rows to predict.")
        return self.encoder_.transform(frame)

    def _combine(self, features: EncodedTable, fold_of: np.ndarray | None = None, fold_copies: bool = False
                 ) -> np.ndarray:
        """The ensemble's raw output for encoded rows: each member bag's prediction (``fold_copies``:
        the mean of its fold copies even where it was refitted), or (``fold_of``: a fold of the plan
        per row) each row's by the members' fold copies, and the ensemble, that never saw its fold."""
        n_outputs = 1 if self.task_ == "regression" else len(self.classes_)
        predictions = np.zeros((len(self.records_), len(features), n_outputs), dtype=np.float32)
        n_folds = None if fold_of is None else self.store_.plan.n_folds
        for j in self.ensemble_.used_models:
            bag = self._bag(self.records_[j].name)
            predictions[j] = bag.predict(features, self._n_threads(), fold_copies) if fold_of is None else \
                bag.predict_out_of_fold(features, fold_of, n_folds)
        if fold_of is None:
            return self.ensemble_.predict(predictions, features)
        return self.ensemble_.predict_out_of_fold(predictions, features, fold_of)

    def _probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Class probabilities from the ensemble's raw output: normalized, then calibrated."""
        return self.calibration_.apply(normalized(raw))

    def _scored(self, raw: np.ndarray) -> np.ndarray:
        """What the fit's metric scores of raw ensemble output: values; calibrated probabilities;
        or, for a metric that reads labels, the labels ``predict`` gives (as one-hot rows)."""
        if self.task_ == "regression":
            return raw
        proba = self._probabilities(raw)
        if self.scorer_.reads_labels:
            return labels_as_predictions(self.decision_rule_.labels(proba), len(self.classes_))
        return proba

    # ------------------------------------------------------------- insight
    def feature_importance(self, X=None, y=None, n_repeats: int = 5, time_limit: float | None = None,
                           sample_weight=None) -> pd.DataFrame:
        """Permutation importance of each input column: the drop of the fit's metric when it is shuffled.

        Without ``X``: on the training rows, each predicted by the fold copies that never saw it
        (honest, no held-out data needed; needs the run). With ``X`` and ``y``: on those rows.
        At most 5,000 rows (a seeded sample); repeats stop when ``time_limit`` seconds are spent.
        Returns a DataFrame indexed by column: ``importance`` (mean drop; higher matters more),
        ``stddev``, ``p_value`` (one-sided t-test of a drop > 0) and ``n`` (repeats done).
        """
        self._check_fitted()
        if X is None:
            if y is not None:
                raise ValueError("feature_importance: y without X; pass both, or neither for the training rows.")
            if getattr(self, "store_", None) is None:
                raise ValueError("feature_importance without X needs the run (the fold copies and the rows they "
                                 "never saw); this model was saved without it: pass X and y.")
            store = self.store_
            table, target, weight, groups = store.features, store.y, store.sample_weight, store.groups

            def predict(rows_table, rows):
                return self._scored(self._combine(rows_table, store.fold_of[rows]))
        else:
            if y is None:
                raise ValueError("feature_importance: X without y; pass the true values of X's rows.")
            table, target = self._encode(X), self._encode_target(y, len(X))
            weight = None if sample_weight is None else check_sample_weight(sample_weight)
            groups = None

            def predict(rows_table, rows):
                return self._scored(self._combine(rows_table))
        return permutation_importance(predict, table, target, self.scorer_, self.encoder_.column_sources(),
                                      n_repeats=n_repeats, sample_weight=weight, groups=groups,
                                      budget=TimeBudget(time_limit), seed=self.random_state)

    def evaluate(self, X, y, sample_weight=None) -> dict:
        """The task's usual metrics on ``X``'s rows, by the names ``metric=`` accepts: binary ROC AUC,
        log loss, accuracy, balanced accuracy, F1, average precision, MCC; multiclass log loss,
        accuracy, balanced accuracy, macro F1; regression RMSE, MAE, R² and MAPE (when no target
        is 0); plus the empirical coverage and mean width (regression) or set size (classification)
        of 90% conformal intervals / sets. Label metrics score ``predict``'s labels."""
        features = self._encode(X)
        target = self._encode_target(y, len(X))
        weight = None if sample_weight is None else check_sample_weight(sample_weight)
        raw = self._raw(features).astype(np.float64)
        uncertain = self.conformal_ is not None  # None: a folder saved before intervals and sets existed
        if self.task_ == "regression":
            interval = self.conformal_.interval(self._uncertain_value(features), features, EVALUATED_COVERAGE) \
                if uncertain else None
            return evaluate_predictions("regression", target, raw[:, 0], sample_weight=weight, interval=interval)
        proba = self._probabilities(raw)
        sets = self.conformal_.sets(self._uncertain_proba(features), EVALUATED_COVERAGE) if uncertain else None
        return evaluate_predictions(self.task_, target, proba, labels=self.decision_rule_.labels(proba),
                                    sample_weight=weight, sets=sets)

    # ------------------------------------------------------------- uncertainty
    def predict_interval(self, X, coverage: float = 0.9) -> np.ndarray:
        raise ValueError(f"predict_interval applies to regression; this {type(self).__name__} predicts classes: "
                         "predict_set gives sets of classes that hold the true one with a chosen probability.")

    def predict_set(self, X, coverage: float = 0.9) -> np.ndarray:
        raise ValueError(f"predict_set applies to classification; this {type(self).__name__} predicts values: "
                         "predict_interval gives intervals that hold the true value with a chosen probability.")

    def _fit_conformal(self, honest: np.ndarray, context: FitContext, budget: TimeBudget) -> None:
        """Conformal scores from the chosen ensemble's ``honest`` OOF predictions (``automl.conformal``);
        the difficulty model of regression intervals is skipped (intervals of one width) when the
        time left cannot pay for it."""
        store = self.store_
        if self.task_ == "regression":
            cells = len(store.y) * store.features.n_features * (store.plan.n_folds + 1)
            adaptive = context.schedule.difficulty_model_fits(cells, budget.remaining())
            self.conformal_ = RegressionConformal().fit(store.features, store.y, honest[:, 0], store.fold_of,
                                                        store.groups, context.resources.threads, context.seed,
                                                        adaptive=adaptive)
        else:
            self.conformal_ = ClassificationConformal().fit(store.y, self._probabilities(honest), store.groups)

    def _encode_target(self, y, n_rows: int) -> np.ndarray:
        values = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
        if len(values) != n_rows:
            raise ValueError(f"X has {n_rows} rows but y has {len(values)}.")
        if self.task_ == "regression":
            return values.to_numpy(dtype=np.float64)
        unknown = sorted(set(values.tolist()) - set(self.classes_.tolist()), key=str)
        if unknown:
            raise ValueError(f"y has labels the fit never saw: {unknown[:5]}; the classes are {list(self.classes_)}.")
        return self.label_codec_.encode(values)

    def _bag(self, name: str) -> BaggedModel:
        """A trained model; one not in memory (after ``load``) is read from the folder when first used."""
        if name not in self.models_:
            folder = self.run_dir_ / MODELS_DIR / name
            if not folder.is_dir():
                raise ValueError(f"The model {name!r} is not in {self.run_dir_}: it was saved without its run "
                                 "(save(path, include_run=True) keeps every model).")
            self.models_[name] = BaggedModel.load(folder)
        return self.models_[name]

    # ------------------------------------------------------------- reports
    def leaderboard(self) -> pd.DataFrame:
        """One row per trained model, named by its portfolio configuration (``config``): OOF score,
        times, its weight in the ensemble and whether it was refitted."""
        self._check_fitted()
        weights = self.ensemble_.model_weights()
        rows = [{
            "config": r.name, "family": r.family, "adapted": r.adapted, f"oof_{self.metric_}": r.oof_score,
            "fit_seconds": r.fit_seconds, "predict_seconds_per_1k": r.predict_seconds_per_1k,
            "ensemble_weight": float(weights[j]) if weights is not None else float(j in self.ensemble_.used_models),
            "refit": r.name in self.refitted_,
        } for j, r in enumerate(self.records_)]
        if self.student_ is not None:  # teacher and student side by side
            used = [self.records_[j] for j in self.ensemble_.used_models]
            rows.append({"config": "(ensemble)", "family": "ensemble", "adapted": self.ensemble_.describe(),
                         f"oof_{self.metric_}": self.ensemble_score_, "fit_seconds": sum(r.fit_seconds for r in used),
                         "predict_seconds_per_1k": sum(self._predict_seconds(r) for r in used),
                         "ensemble_weight": np.nan, "refit": False})
            student = self.student_
            rows.append({"config": student["name"], "family": student["family"], "adapted": "distilled",
                         f"oof_{self.metric_}": student["oof_score"], "fit_seconds": student["fit_seconds"],
                         "predict_seconds_per_1k": student["predict_seconds_per_1k"], "ensemble_weight": np.nan,
                         "refit": student["refit"]})
        board = pd.DataFrame(rows)
        return board.sort_values(f"oof_{self.metric_}", ascending=self.scorer_.sort_ascending(), ignore_index=True)

    def save(self, path, include_run: bool = False) -> None:
        """Writes a model folder that ``automl.load`` reads without unpickling anything.

        It holds what ``predict`` needs: the encoder, the label codec, the ensemble and the models
        it uses (each in its library's own format). ``include_run=True`` also keeps the run: every
        model and their stored OOF predictions, which ``fit_ensemble`` needs after loading.
        """
        self._check_fitted()
        folder = Path(path)
        same = folder.resolve() == self.run_dir_.resolve()
        if not same and folder.exists() and any(folder.iterdir()):
            if not (folder / MANIFEST).exists():
                raise ValueError(f"{folder} exists and is not an automl model folder; choose another path.")
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        kept = [r.name for r in self.records_] if include_run else \
            [self.records_[j].name for j in self.ensemble_.used_models]
        if self.student_ is not None:
            kept.append(self.student_["name"])
        if not same:
            for name in kept:
                source = self.run_dir_ / MODELS_DIR / name
                if source.is_dir():
                    shutil.copytree(source, folder / MODELS_DIR / name)
                else:  # a run folder that is gone: the model is written from memory
                    self._bag(name).save(folder / MODELS_DIR / name)
            if include_run:
                self._store_for_saving().save(folder / STORE_DIR)
                if (self.run_dir_ / SEARCH_TRACE).exists():
                    shutil.copy(self.run_dir_ / SEARCH_TRACE, folder / SEARCH_TRACE)
        write_state(folder, ESTIMATOR, self._get_state())
        write_manifest(folder, "predictor+run" if include_run else "predictor",
                       {"estimator": type(self).__name__, "models": kept})

    def _store_for_saving(self) -> PredictionStore:
        if getattr(self, "store_", None) is None:
            raise ValueError("include_run=True: this model was loaded without its run, so there is none to save.")
        return self.store_

    def _get_state(self) -> dict:
        params = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in self.get_params().items()}
        if self.scorer_.custom:  # a scorer object is code: the folder keeps its name only
            params["metric"] = self.metric_
        state = {
            "estimator": type(self).__name__, "params": params, "task": self.task_, "metric": self.metric_,
            "feature_names": self.feature_names_in_.tolist(), "device": self.device_, "n_rows": self.n_rows_,
            "fit_seconds": self.fit_seconds_, "ensemble_name": self.ensemble_name_,
            "ensemble_score": self.ensemble_score_, "encoder": self.encoder_.get_state(),
            "ensemble": self.ensemble_.get_state(), "records": [asdict(r) for r in self.records_],
            "report": self.ensemble_report_.to_dict(orient="records"), "refitted": self.refitted_,
            "refit_seconds": self.refit_seconds_, "metric_custom": self.scorer_.custom,
            "metric_greater_is_better": self.scorer_.greater_is_better,
            "decision_rule": self.decision_rule_.get_state(), "decision_report": self.decision_report_,
            "calibration": self.calibration_.get_state(), "calibration_report": self.calibration_report_,
            "conformal": self.conformal_.get_state(), "student": self.student_,
            "cascade": None if self.cascade_ is None else self.cascade_.get_state(),
        }
        if self.student_ is not None:
            state["student_oof"] = self.student_oof_
        if self.task_ != "regression":
            state["label_codec"] = self.label_codec_.get_state()
        return state

    def _set_state(self, state: dict, folder: Path) -> None:
        self.task_, self.metric_, self.device_ = state["task"], state["metric"], state["device"]
        self.feature_names_in_ = np.array(state["feature_names"], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.n_rows_, self.fit_seconds_ = state["n_rows"], state["fit_seconds"]
        self.ensemble_name_, self.ensemble_score_ = state["ensemble_name"], state["ensemble_score"]
        self.encoder_ = TabularEncoder.from_state(state["encoder"])
        if "label_codec" in state:
            self.label_codec_ = LabelCodec.from_state(state["label_codec"])
            self.classes_ = self.label_codec_.classes_
        self.scorer_ = _saved_metric(self.metric_, self.task_, state.get("metric_custom", False),
                                     state.get("metric_greater_is_better", True))
        self.decision_rule_ = DecisionRule.from_state(state.get("decision_rule", ARGMAX.get_state()))
        self.decision_report_ = state.get("decision_report", {})
        self.calibration_ = Calibration.from_state(state.get("calibration", NO_CALIBRATION.get_state()))
        self.calibration_report_ = state.get("calibration_report", {})
        conformal = RegressionConformal if self.task_ == "regression" else ClassificationConformal
        self.conformal_ = conformal.from_state(state["conformal"]) if "conformal" in state else None
        self.ensemble_ = strategy_from_state(state["ensemble"], self.scorer_, self.task_)
        self.student_, self.student_oof_ = state.get("student"), state.get("student_oof")
        self.cascade_ = Cascade.from_state(state["cascade"]) if state.get("cascade") else None
        self.records_ = [ModelRecord(**r) for r in state["records"]]
        self.ensemble_report_ = pd.DataFrame(state["report"])
        self.refitted_, self.refit_seconds_ = list(state["refitted"]), state["refit_seconds"]
        self.run_dir_, self.models_ = folder, {}
        self.store_ = PredictionStore.load(folder / STORE_DIR) if (folder / STORE_DIR).is_dir() else None

    # ------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "ensemble_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit first.")

    def _check_uncertainty(self) -> None:
        self._check_fitted()
        if self.conformal_ is None:
            raise ValueError("This model folder was saved before intervals and sets existed; fit again, or "
                             "fit_ensemble() when it has its run.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


class AutoMLClassifier(ClassifierMixin, _AutoMLBase):
    __doc__ = """AutoML for classification: ``predict_proba`` columns follow ``classes_`` (the user's labels).
""" + PARAMETERS_DOC

    def predict_proba(self, X) -> np.ndarray:
        return self._probabilities(self._predict_raw(X))

    def predict_set(self, X, coverage: float = 0.9) -> np.ndarray:
        """Boolean (rows, classes): for each row the smallest set of most probable classes that holds
        the true class with probability ``coverage`` (adaptive prediction sets, calibrated on the
        ensemble's honest OOF probabilities); columns follow ``classes_``."""
        coverage = check_coverage(coverage)
        self._check_uncertainty()
        return self.conformal_.sets(self._uncertain_proba(self._encode(X)), coverage)

    def _uncertain_proba(self, features: EncodedTable) -> np.ndarray:
        """Probabilities as the conformal scores were calibrated on them: from the fold copies (a
        refitted member, trained on every row, is more confident than the copies whose OOF
        predictions calibrated the sets: 0.85 coverage of 0.9 on a synthetic table)."""
        return self._probabilities(self._combine(features, fold_copies=True))

    def predict(self, X) -> np.ndarray:
        """Labels by ``decision_rule_`` (the most probable class unless one was tuned for the metric)."""
        proba = self.predict_proba(X)
        return self.label_codec_.decode(self.decision_rule_.labels(proba))


class AutoMLRegressor(RegressorMixin, _AutoMLBase):
    __doc__ = """AutoML for regression on a numeric target.
""" + PARAMETERS_DOC
    _regression = True

    def predict(self, X) -> np.ndarray:
        return self._predict_raw(X)[:, 0].astype(np.float64)

    def predict_interval(self, X, coverage: float = 0.9) -> np.ndarray:
        """(rows, 2): lower and upper bounds that hold the true value with probability ``coverage``
        (locally adaptive conformal intervals, calibrated on the ensemble's honest OOF residuals:
        wider where the rows are harder)."""
        coverage = check_coverage(coverage)
        self._check_uncertainty()
        features = self._encode(X)
        return self.conformal_.interval(self._uncertain_value(features), features, coverage)

    def _uncertain_value(self, features: EncodedTable) -> np.ndarray:
        """The center of intervals: the fold copies' mean, which the residuals were measured around
        (a refitted member is not what the OOF residuals describe)."""
        return self._combine(features, fold_copies=True)[:, 0].astype(np.float64)

    def predict_quantiles(self, X, quantiles=(0.1, 0.5, 0.9)) -> np.ndarray:
        """(rows, len(quantiles)): the predicted quantiles of each row's value, from the same scaled
        OOF residuals as ``predict_interval``."""
        levels = [check_coverage(q) for q in np.atleast_1d(quantiles)]
        self._check_uncertainty()
        features = self._encode(X)
        return self.conformal_.quantiles(self._uncertain_value(features), features, levels)


def load(path) -> _AutoMLBase:
    """The estimator saved in the model folder ``path`` (``save``, or ``automl fit --out``).

    Nothing in the folder is unpickled: every file is checked against the sha256 in its
    ``manifest.json``, and the models are read by their libraries' own loaders and numpy
    (``allow_pickle=False``). The models the ensemble uses are read now, any others on first use.
    """
    folder = Path(path)
    read_manifest(folder)
    state = read_state(folder, ESTIMATOR)
    estimators = {cls.__name__: cls for cls in (AutoMLClassifier, AutoMLRegressor)}
    if state.get("estimator") not in estimators:
        raise ModelFolderError(f"{folder}: {ESTIMATOR}.json names no automl estimator ({state.get('estimator')!r}).")
    estimator = estimators[state["estimator"]](**state["params"])
    estimator._set_state(state, folder)
    for j in estimator.ensemble_.used_models:
        estimator._bag(estimator.records_[j].name)
    return estimator


def _surrogate_note(metric: Metric, task: str) -> str:
    """The log's word on what early-stopping families minimize when it is not the metric."""
    if metric.name in ("log_loss", "rmse"):
        return ""
    return f" (boosting and TabM early-stop on {SURROGATE[task]})"


def _check_target_for_metric(metric: Metric, y: np.ndarray) -> None:
    """Refuses a regression target that the metric cannot score (RMSLE of negative values, ...),
    before any training: the metric scores the target as its own prediction."""
    try:
        value = metric.score(y, y[:, None])
    except Exception as exc:
        raise ValueError(f"Metric {metric.name!r} cannot score this target: {type(exc).__name__}: {exc}") from None
    if not np.isfinite(value):
        raise ValueError(f"Metric {metric.name!r} cannot score this target (it gives {value}; RMSLE needs "
                         "values >= 0).")


def _saved_metric(name: str, task: str, custom: bool, greater_is_better: bool) -> Metric:
    """The metric a model folder names; a user's own scorer (saved by name, not as code) cannot
    score again, and says so when asked to."""
    if not custom:
        return get_metric(name, task)
    return Metric(name, greater_is_better, (task,), _UnsavedScorer(name), custom=True)


@dataclass(frozen=True)
class _UnsavedScorer:
    """Stands for a user's scorer that a model folder could not keep: says so when asked to score."""

    name: str

    def __call__(self, y, pred, weight):
        raise ValueError(f"This model was fitted with a custom scorer ({self.name!r}), which a model folder does "
                         "not store (it would be code); fit again with the scorer to re-run the ensemble step.")


def _temporary_run(estimator: _AutoMLBase) -> Path:
    """A run folder for a fit without ``output_dir``: removed when the estimator is garbage-collected
    or the interpreter exits (the fitted models stay in memory; ``save`` writes them from there)."""
    folder = Path(tempfile.mkdtemp(prefix="automl-"))
    weakref.finalize(estimator, shutil.rmtree, folder, ignore_errors=True)
    return folder


def _check_ensemble_name(name: str) -> None:
    if name != "auto":
        get_strategy(name)  # raises a clear error for an unknown name, before any training


def _predict_seconds_per_1k(bag: BaggedModel, features: EncodedTable, n_threads: int) -> float:
    """Seconds ``bag`` takes to predict 1,000 rows, timed on (at most) ``TIMED_ROWS`` of ``features``."""
    rows = features.take(np.arange(min(TIMED_ROWS, len(features))))
    bag.predict(rows.take(np.arange(1)), n_threads)  # first call: lazy set-up
    start = time.perf_counter()
    bag.predict(rows, n_threads)
    return (time.perf_counter() - start) * 1000 / len(rows)


@contextmanager
def _logging(verbosity: int):
    """Per-model progress lines on stderr at verbosity >= 1; silent at 0."""
    handler = None
    if verbosity >= 1 and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s automl: %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
    previous = log.level
    log.setLevel(logging.INFO if verbosity >= 1 else logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(previous)
        if handler is not None:
            log.removeHandler(handler)
