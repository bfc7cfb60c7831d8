"""Ensemble strategies by name. Adding a strategy: write its module, add one line here.

``auto`` (automl.ensemble.search) is not a strategy of its own: it searches over these, from
the simplest up (each strategy's ``complexity``), with the settings each one ``suggest``s.
"""
from __future__ import annotations

from .base import EnsembleStrategy
from .best import SingleBest
from .cma_es import CmaEsEnsemble
from .dynamic import DynamicSelection
from .greedy import GreedyEnsemble
from .quality_diversity import QualityDiversityEnsemble, QualityOptimizationEnsemble
from .stacking import StackingEnsemble

STRATEGIES: dict[str, type[EnsembleStrategy]] = {
    "best": SingleBest,
    "ges": GreedyEnsemble,
    "qo": QualityOptimizationEnsemble,
    "qdo": QualityDiversityEnsemble,
    "cmaes": CmaEsEnsemble,
    "stacking": StackingEnsemble,
    "des": DynamicSelection,
}


def strategy_from_state(state: dict, metric, task: str) -> EnsembleStrategy:
    """A fitted strategy from its saved state (``EnsembleStrategy.get_state``)."""
    from .pool import Pooled

    if "pool" in state:
        return Pooled.from_state(state, metric, task)
    return get_strategy(state["strategy"]).from_state(state, metric, task)


def get_strategy(name: str) -> type[EnsembleStrategy]:
    if name not in STRATEGIES:
        raise ValueError(f"Unknown ensemble strategy {name!r}; choose 'auto' or one of {sorted(STRATEGIES)}.")
    return STRATEGIES[name]
