"""Small synthetic prediction stores shared by the ensemble tests (imported from tests/)."""
from __future__ import annotations

import numpy as np


def synthetic_store(task: str, n_models: int = 5, n_rows: int = 120, seed: int = 0):
    """(predictions [n_models, n_rows, n_outputs], y): each model is informative on its own
    random half of the rows, so mixtures beat every single model."""
    rng = np.random.default_rng(seed)
    informative = rng.random((n_models, n_rows)) < 0.5
    if task == "regression":
        y = rng.normal(size=n_rows)
        noise = rng.normal(size=(n_models, n_rows)) * np.where(informative, 0.3, 1.5)
        return (y + noise)[:, :, None].astype(np.float32), y
    n_classes = 2 if task == "binary" else 3
    y = rng.integers(0, n_classes, n_rows)
    strength = np.where(informative, 0.6, 0.05)[:, :, None] * rng.uniform(0.5, 1.0, size=(n_models, 1, 1))
    p = (1 - strength) * rng.dirichlet(np.ones(n_classes), size=(n_models, n_rows)) + strength * np.eye(n_classes)[y]
    return p.astype(np.float32), y
