"""Ensemble strategies by name. Adding a strategy: write its module, add one line here."""
from __future__ import annotations

from .base import EnsembleStrategy
from .best import SingleBest
from .greedy import GreedyEnsemble

STRATEGIES: dict[str, type[EnsembleStrategy]] = {
    "best": SingleBest,
    "ges": GreedyEnsemble,
}


def get_strategy(name: str) -> type[EnsembleStrategy]:
    if name not in STRATEGIES:
        raise ValueError(f"Unknown ensemble strategy {name!r}; choose from {sorted(STRATEGIES)}.")
    return STRATEGIES[name]
