"""Loading portfolios: ordered model configurations kept as JSON in ``portfolios/``."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from .models.base import ModelConfig
from .models.registry import FAMILIES

DEFAULT_PORTFOLIO = "default"


def load_portfolio(portfolio: str | Path | None = None, families: list[str] | None = None) -> list[ModelConfig]:
    """The configurations of a portfolio (a shipped name or a JSON path), in training order.

    ``families`` keeps only those families; a family the portfolio lacks gets its defaults.
    """
    portfolio = DEFAULT_PORTFOLIO if portfolio is None else portfolio
    path = Path(portfolio)
    if path.suffix == ".json" or path.exists():
        if not path.exists():
            raise FileNotFoundError(f"Portfolio file {str(path)!r} does not exist.")
        text = path.read_text()
    else:
        source = resources.files("automl.portfolios") / f"{portfolio}.json"
        if not source.is_file():
            raise ValueError(f"Unknown portfolio {str(portfolio)!r}: no portfolios/{portfolio}.json.")
        text = source.read_text()
    configs = [ModelConfig(c["name"], c["family"], c.get("params", {})) for c in json.loads(text)["configs"]]
    if families is None:
        return [c for c in configs if c.family in FAMILIES]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"Unknown model families {unknown}; choose from {sorted(FAMILIES)}.")
    kept = [c for c in configs if c.family in families]
    missing = [f for f in families if not any(c.family == f for c in kept)]
    return kept + [ModelConfig(f"{f}_base", f, {}) for f in missing]
