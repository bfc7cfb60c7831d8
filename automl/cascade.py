"""An early-exit cascade: a cheap model answers the rows it is sure of, the ensemble the rest.

("Window-Based Early-Exit Cascades for Uncertainty Estimation: When Deep Ensembles are More
Efficient than Single Models".) The first stage is one model (a member of the ensemble, or the
distilled student); a row exits there when its top class probability is at least ``threshold``.
The threshold and the first stage are chosen on honest OOF predictions: the cheapest expected
prediction time among the cascades whose OOF loss stays within ``tolerance`` (relative) of the
ensemble's, on every OOF row and on each half of them (chosen on all rows alone, on segmentation
95% of OOF rows exited within 0.1% of the ensemble's log loss and the test log loss was 8.5%
worse: a few confident mistakes decide a small log loss). Classification only: a probability says
when a model is sure.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

# The cascade may lose at most this share of the ensemble's OOF loss: half the 0.2% of test metric
# a faster ensemble may lose (issue 12's rule, as ``ensemble.lighten``).
TOLERANCE = 0.001
# Thresholds tried per first stage: these quantiles of its OOF confidence.
N_THRESHOLDS = 40


@dataclass(frozen=True)
class Cascade:
    """``first``: the model that answers first (a stored configuration's name, or the student's);
    rows whose top probability there is at least ``threshold`` exit; ``exit_share``: the share of
    OOF rows that did; ``oof_loss`` and ``ensemble_loss``: the cascade's and the ensemble's."""

    first: str
    threshold: float
    exit_share: float
    oof_loss: float
    ensemble_loss: float
    expected_seconds_per_1k: float

    def exits(self, first_stage: np.ndarray) -> np.ndarray:
        """Which rows the first stage's raw probabilities answer."""
        return confidence(first_stage) >= self.threshold

    def get_state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> "Cascade":
        return cls(**state)


def confidence(raw: np.ndarray) -> np.ndarray:
    """The top class probability of each row (after normalizing)."""
    raw = np.asarray(raw, dtype=np.float64)
    return raw.max(axis=1) / raw.sum(axis=1)


def choose_cascade(loss_of: Callable[[np.ndarray, np.ndarray], float], ensemble_oof: np.ndarray,
                   ensemble_seconds: float, stages: dict[str, tuple[np.ndarray, float]], halves: list[np.ndarray],
                   tolerance: float = TOLERANCE) -> Cascade | None:
    """The cascade of least expected seconds per 1,000 rows whose OOF loss (``loss_of(raw, rows)``)
    is within ``tolerance`` of the ensemble's on every OOF row and on each of ``halves`` (row
    indices): a threshold that held on all rows only by chance is turned down. None when no first
    stage both keeps that and saves time.

    ``stages``: for each candidate first stage, its honest OOF raw probabilities and its seconds
    per 1,000 rows; ``ensemble_seconds``: the ensemble's."""
    parts = [np.arange(len(ensemble_oof)), *halves]
    ensemble_losses = [loss_of(ensemble_oof[rows], rows) for rows in parts]
    allowed = [loss + tolerance * max(abs(loss), 1e-12) for loss in ensemble_losses]
    best: Cascade | None = None
    for name, (oof, seconds) in stages.items():
        sure = confidence(oof)
        for threshold in np.unique(np.quantile(sure, np.linspace(0, 1, N_THRESHOLDS, endpoint=False))):
            exits = sure >= threshold
            expected = seconds + (1 - exits.mean()) * ensemble_seconds
            if expected >= ensemble_seconds or (best is not None and expected >= best.expected_seconds_per_1k):
                continue
            mixed = np.where(exits[:, None], oof, ensemble_oof)
            losses = [loss_of(mixed[rows], rows) for rows in parts]
            if all(loss <= limit for loss, limit in zip(losses, allowed)):
                best = Cascade(name, float(threshold), float(exits.mean()), float(losses[0]),
                               float(ensemble_losses[0]), float(expected))
    return best
