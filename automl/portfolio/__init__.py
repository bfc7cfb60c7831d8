"""Portfolios: ordered model configurations kept as JSON in ``portfolios/``, validated on load.

A portfolio file is ``{"name", "configs": [{"name", "family", "params", "options"}, ...]}`` in
training order: ``params`` are the family's hyperparameters (what the model is), the optional
``options`` how it is run (for TabM: ``fold_copies``, ``max_threads``, ``max_train_rows``,
``min_epochs``). Optionally ``"large_tables": {"min_rows", "order": [names]}``: the same
configurations in the order a table of at least ``min_rows`` rows trains them, learned from an
evaluation at that size (``python -m automl.portfolio order-large``). ``candidates.py`` builds the
pool a portfolio is learned from and ``evaluate.py`` runs it on the meta suite (``python -m
automl.portfolio --help``).
"""
from __future__ import annotations

import json
import logging
import re
from importlib import resources
from pathlib import Path

from ..models.base import ModelConfig
from ..models.registry import FAMILIES, get_family

log = logging.getLogger("automl")
DEFAULT_PORTFOLIO = "default"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def load_portfolio(portfolio: str | Path | None = None, families: list[str] | None = None,
                   n_rows: int | None = None) -> list[ModelConfig]:
    """The configurations of a portfolio (a shipped name or a JSON path), in training order for a
    table of ``n_rows`` rows (the file's large-table order from its ``min_rows`` on).

    ``families`` keeps only those families; a family the portfolio lacks gets its defaults.
    """
    source = str(portfolio or DEFAULT_PORTFOLIO)
    entries = in_training_order(read_portfolio(portfolio), n_rows, source)
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


def in_training_order(content: dict, n_rows: int | None, source: str) -> list[dict]:
    """The file's configuration entries in the order a table of ``n_rows`` rows trains them. A
    large-table order must list every configuration once, so that a large table never silently
    trains a different portfolio."""
    entries, large = content["configs"], content.get("large_tables")
    if large is None:
        return entries
    names, order = sorted(e["name"] for e in entries), large["order"]
    if sorted(order) != names:
        missing, unknown = sorted(set(names) - set(order)), sorted(set(order) - set(names))
        raise ValueError(f"Portfolio {source}: the large-table order must list every configuration once "
                         f"(missing {missing}, unknown {unknown}, {len(order)} entries for {len(names)}).")
    if n_rows is None or n_rows < large["min_rows"]:
        return entries
    log.info("Portfolio %s: %d rows, so the order learned for tables of at least %d rows.", source, n_rows,
             large["min_rows"])
    position = {name: i for i, name in enumerate(order)}
    return sorted(entries, key=lambda e: position[e["name"]])


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
