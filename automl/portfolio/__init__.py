"""Portfolios: ordered model configurations kept as JSON in ``portfolios/``, validated on load.

A portfolio file is ``{"name", "configs": [{"name", "family", "params", "options"}, ...]}`` in
training order: ``params`` are the family's hyperparameters (what the model is), the optional
``options`` how it is run (for TabM: ``fold_copies``, ``max_threads``, ``max_train_rows``,
``min_epochs``). ``candidates.py`` builds the pool a portfolio is learned from and ``evaluate.py`` runs it on
the meta suite (``python -m automl.portfolio --help``).
"""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from ..models.base import ModelConfig
from ..models.registry import FAMILIES, get_family

DEFAULT_PORTFOLIO = "default"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def load_portfolio(portfolio: str | Path | None = None, families: list[str] | None = None) -> list[ModelConfig]:
    """The configurations of a portfolio (a shipped name or a JSON path), in training order.

    ``families`` keeps only those families; a family the portfolio lacks gets its defaults.
    """
    entries = read_portfolio(portfolio)["configs"]
    source = str(portfolio or DEFAULT_PORTFOLIO)
    if families is None:
        return parse_configs(entries, source)
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"Unknown model families {unknown}; choose from {sorted(FAMILIES)}.")
    # Only the kept entries are checked, so that their families alone are imported.
    kept = parse_configs([e for e in entries if e["family"] in families], source)
    missing = [f for f in families if not any(c.family == f for c in kept)]
    return kept + [ModelConfig(f"{f}_base", f, {}) for f in missing]


def read_portfolio(portfolio: str | Path | None) -> dict:
    """The JSON of a shipped portfolio (by name) or of a portfolio file (by path)."""
    portfolio = DEFAULT_PORTFOLIO if portfolio is None else portfolio
    path = Path(portfolio)
    if path.suffix == ".json" or path.exists():
        if not path.exists():
            raise FileNotFoundError(f"Portfolio file {str(path)!r} does not exist.")
        return json.loads(path.read_text())
    source = resources.files("automl.portfolios") / f"{portfolio}.json"
    if not source.is_file():
        raise ValueError(f"Unknown portfolio {str(portfolio)!r}: no portfolios/{portfolio}.json.")
    return json.loads(source.read_text())


def same_model(config: ModelConfig) -> str:
    """What makes two configurations train the same model: family, parameters and options (the
    seed is the fit's)."""
    return json.dumps([config.family, config.params, config.options], sort_keys=True)


def distinct(configs: list[ModelConfig]) -> list[int]:
    """Indices of the first configuration of each model in ``configs``."""
    first: dict[str, int] = {}
    for j, config in enumerate(configs):
        first.setdefault(same_model(config), j)
    return sorted(first.values())


def parse_configs(entries: list[dict], source: str) -> list[ModelConfig]:
    """Model configurations from their JSON entries; an unknown family, an unknown
    hyperparameter, a name used twice or a model listed twice is an error that names it."""
    configs, seen, models = [], set(), {}
    for entry in entries:
        name, family = entry["name"], entry["family"]
        params, options = entry.get("params", {}), entry.get("options", {})
        if family not in FAMILIES:
            raise ValueError(f"Portfolio {source}: configuration {name!r} has unknown family {family!r}; "
                             f"choose from {sorted(FAMILIES)}.")
        unknown = sorted(set(params) - get_family(family).hyperparameters)
        if unknown:
            raise ValueError(f"Portfolio {source}: configuration {name!r} sets unknown {family} hyperparameters "
                             f"{unknown}; known: {sorted(get_family(family).hyperparameters)}.")
        unknown = sorted(set(options) - get_family(family).option_names)
        if unknown:
            raise ValueError(f"Portfolio {source}: configuration {name!r} sets unknown {family} options {unknown}; "
                             f"known: {sorted(get_family(family).option_names)}.")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"Portfolio {source}: configuration name {name!r} must be letters, digits, '_', '-' "
                             "or '.' (it names the model's folder).")
        if name in seen:
            raise ValueError(f"Portfolio {source}: the configuration name {name!r} is used twice.")
        seen.add(name)
        config = ModelConfig(name, family, params, options)
        if same_model(config) in models:  # it would train the same model a second time
            raise ValueError(f"Portfolio {source}: configuration {name!r} is the same model as "
                             f"{models[same_model(config)]!r} (same family, parameters and options).")
        models[same_model(config)] = name
        configs.append(config)
    return configs
