"""The candidate pool a portfolio is learned from: per family, the published configurations and
seeded samples from its search space (both in ``portfolios/spaces.json``), under stable names
(``lightgbm_000`` is the family's defaults). Written to ``portfolios/candidates.json`` by
``python -m automl.portfolio candidates``; read like any portfolio, ``load_portfolio("candidates")``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import parse_configs

PORTFOLIOS = Path(__file__).resolve().parents[2] / "portfolios"


def sample(space: dict, rng: np.random.Generator) -> dict:
    """One configuration drawn from a space of ``name: [kind, ...]`` entries."""
    params = {}
    for name, (kind, *args) in space.items():
        if kind == "uniform":
            params[name] = round(float(rng.uniform(*args)), 4)
        elif kind == "loguniform":
            params[name] = float(f"{math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))):.4g}")
        elif kind == "int":
            params[name] = int(rng.integers(args[0], args[1] + 1))
        elif kind == "int_log":
            params[name] = int(round(math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))))
        elif kind == "choice":
            params[name] = args[0][int(rng.integers(len(args[0])))]
        else:
            raise ValueError(f"Unknown kind {kind!r} for {name!r} in a search space.")
    return params


def build(spaces: dict) -> list[dict]:
    """Candidate entries ``{"name", "family", "params", "source"}``, published ones first per family."""
    rng = np.random.default_rng(spaces["seed"])
    entries = []
    for family, spec in spaces["families"].items():
        drawn = [{"source": f"sample of spaces.json (seed {spaces['seed']})", "params": sample(spec["space"], rng)}
                 for _ in range(spaces["samples_per_family"].get(family, 0))]
        for i, config in enumerate(spec["published"] + drawn):
            entries.append({"name": f"{family}_{i:03d}", "family": family, "params": config["params"],
                            "source": config["source"]})
    parse_configs(entries, source="candidates")  # every name and hyperparameter checked
    return entries


def write(out: Path = PORTFOLIOS / "candidates.json") -> list[dict]:
    entries = build(json.loads((PORTFOLIOS / "spaces.json").read_text()))
    out.write_text(json.dumps({"name": "candidates", "built_from": "portfolios/spaces.json",
                               "configs": entries}, indent=1))
    return entries
