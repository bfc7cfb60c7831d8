"""Where fold copies train: on threads of this process (``LocalExecutor``), or as Ray tasks on a
cluster (``RayExecutor``, the ``automl[ray]`` extra).

BaggedModel decides everything a fold gets (its rows, seed, threads and share of the budget) and
hands the executor one ``FoldJob`` at a time, from as many driver threads as the executor runs
jobs at once (``workers``); the executor only says where a job runs. So the budget rules, the fold seeds and
the results are the same whatever ran the job. Ray gets the table once per fit (its object
store), not once per job; a job whose worker dies is retried once by Ray, then fails like any
other fold (the configuration is skipped with a log line, the fit goes on).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..budget import TimeBudget
from ..data.training import TrainingData
from ..folds import inner_split
from .base import Model, ModelTimeout, TaskInfo
from .registry import get_family

EXECUTORS = ("local", "ray")
# Held-out rows predicted first to price the rest: a family whose prediction grows with its
# training rows (kNN) could otherwise predict a large fold for minutes past its budget (300k rows:
# minutes per fold, with no check, issue 14).
PRICE_ROWS = 2_000
# A Ray job gets this long past its budget (scheduling, moving its result) before it is cancelled.
RAY_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class FoldJob:
    """One fold copy to train: the configuration, its seed and threads, and its rows."""

    family: str
    params: dict
    options: dict
    info: TaskInfo
    seed: int
    threads: int
    device: str
    train: np.ndarray
    held_out: np.ndarray
    # Share of the job's budget its training may take; predicting the held-out rows has the rest.
    train_share: float = 1.0


def train_copy(job: FoldJob, data: TrainingData, budget: TimeBudget) -> Model:
    """The job's copy trained on its training rows (early-stopping on an inner split of them, made
    of whole groups when the rows have groups), weighted when the rows are."""
    family = get_family(job.family)
    model = family(job.params, job.info, seed=job.seed, n_threads=job.threads, device=job.device, options=job.options)
    train = job.train
    weight = data.weight_of if family.uses_weights else (lambda rows: None)
    if family.uses_validation:
        fit_rows, val_rows = inner_split(data.y[train], job.info.task, seed=job.seed, groups=data.groups_of(train))
        fit_rows, val_rows = train[fit_rows], train[val_rows]
        model.fit(data.X.take(fit_rows), data.y[fit_rows], data.X.take(val_rows), data.y[val_rows], budget=budget,
                  sample_weight=weight(fit_rows), val_weight=weight(val_rows), groups=data.groups_of(fit_rows))
    else:
        model.fit(data.X.take(train), data.y[train], budget=budget, sample_weight=weight(train),
                  groups=data.groups_of(train))
    return model


def run_fold(job: FoldJob, data: TrainingData, budget: TimeBudget) -> tuple[Model, np.ndarray, float]:
    """Trains the job's copy; returns it, its predictions of the held-out rows and the seconds they
    took. The held-out rows are priced on their first ``PRICE_ROWS`` before the rest are predicted:
    a copy whose prediction would outlast both its budget and its own training (kNN on many rows)
    is given up; one that trained until its budget ended (boosting) still predicts, as planned."""
    start = time.perf_counter()
    model = train_copy(job, data, budget.fraction(job.train_share))
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    first, rest = job.held_out[:PRICE_ROWS], job.held_out[PRICE_ROWS:]
    parts = [model.predict(data.X.take(first))]
    if len(rest):
        expected = (time.perf_counter() - start) / len(first) * len(rest)
        if expected > budget.remaining() + train_seconds:
            raise ModelTimeout(f"predicting its {len(job.held_out)} held-out rows would take ~{expected:.0f}s, "
                               f"{budget.remaining():.0f}s remain")
        parts.append(model.predict(data.X.take(rest)))
    return model, np.concatenate(parts), time.perf_counter() - start


class LocalExecutor:
    """Fold jobs on threads of this process, as ``bagging.thread_plan`` planned them."""

    def workers(self, planned: int, threads: int, n_folds: int) -> int:
        return planned

    def fit_fold(self, job: FoldJob, data: TrainingData, budget: TimeBudget):
        return run_fold(job, data, budget)


class RayExecutor:
    """Fold jobs as Ray tasks: on the cluster at ``address``, else (``RAY_ADDRESS`` unset) a local
    Ray started on demand. Every node needs automl installed."""

    def __init__(self, address: str | None = None):
        try:
            import ray
        except ImportError as exc:
            raise ImportError("executor='ray' needs Ray: pip install 'automl[ray]'.") from exc
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        self._ray = ray
        self._task = ray.remote(max_retries=1)(_run_on_worker)  # retried once if its worker dies
        self._shared: tuple | None = None  # (the fit's TrainingData, its object ref)

    def workers(self, planned: int, threads: int, n_folds: int) -> int:
        """As many jobs as the cluster's CPUs hold at ``threads`` each: every job is a process of
        its own, so even families that share process-wide state (TabM) run side by side."""
        return max(1, min(n_folds, int(self._ray.cluster_resources().get("CPU", 1)) // threads))

    def fit_fold(self, job: FoldJob, data: TrainingData, budget: TimeBudget):
        if self._shared is None or self._shared[0] is not data:
            self._shared = (data, self._ray.put(data))
        seconds = budget.remaining()  # a duration: deadlines do not cross machines
        ref = self._task.options(num_cpus=job.threads).remote(job, self._shared[1], seconds)
        try:
            return self._ray.get(ref, timeout=None if math.isinf(seconds) else seconds + RAY_GRACE_SECONDS)
        except self._ray.exceptions.GetTimeoutError:
            self._ray.cancel(ref, force=True)
            raise ModelTimeout(f"the Ray job of fold seed {job.seed} ran past its {seconds:.0f}s") from None
        except self._ray.exceptions.RayTaskError as exc:  # the fold's own error, as raised on the worker
            raise exc.as_instanceof_cause() from None


def _run_on_worker(job: FoldJob, data: TrainingData, seconds: float):
    with threadpool_limits(limits=job.threads):
        return run_fold(job, data, TimeBudget(seconds))


def make_executor(name: str, address: str | None = None) -> LocalExecutor | RayExecutor:
    if name == "ray":
        return RayExecutor(address)
    return LOCAL


LOCAL = LocalExecutor()
