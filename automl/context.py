"""FitContext: what every phase of a fit needs, passed down explicitly and held nowhere global."""
from __future__ import annotations

from dataclasses import dataclass

from .metrics import Metric
from .models.base import TaskInfo
from .models.executor import LOCAL, LocalExecutor, RayExecutor
from .schedule import SCHEDULE, Schedule


@dataclass(frozen=True)
class Resources:
    """The threads a fit may use (every pool and library thread count follows them), the device of
    the families that support a GPU, and where fold copies train."""

    threads: int
    device: str = "cpu"
    executor: LocalExecutor | RayExecutor = LOCAL


@dataclass(frozen=True)
class FitContext:
    """The task, the metric every score uses, the resources, the schedule of time shares and the
    seed of a fit. The rows themselves (weights and groups included) travel as ``TrainingData``."""

    info: TaskInfo
    metric: Metric
    resources: Resources
    schedule: Schedule = SCHEDULE
    seed: int = 0

    @classmethod
    def of(cls, metric: Metric, task: str, n_classes: int = 0, *, threads: int = 1, seed: int = 0) -> "FitContext":
        """A context for work outside a fit (a search on stored predictions, a study): CPU, local
        folds, the default schedule."""
        return cls(TaskInfo(task, n_classes), metric, Resources(threads), SCHEDULE, seed)
